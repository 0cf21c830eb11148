"""The rows of a comparison: the default topics (``corpus/compare.toml``) and typed ones."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import ConfigError, InputError

MAX_TOPICS = 40  # rows in one comparison (each is one answer per country)


@dataclass(frozen=True)
class Topic:
    """One row: the label shown and the wording used to search each country's documents."""

    label: str
    query: str

    @property
    def search(self) -> str:
        """What is asked: the label and the wording together, as both define the topic."""
        if self.label.casefold() in self.query.casefold():
            return self.query
        return f"{self.label}: {self.query}"


def topics_path(settings: Settings) -> Path:
    """The corpus folder's own compare.toml; else the one bundled with the project."""
    own = settings.corpus_path / "compare.toml"
    return own if own.exists() else settings.bundled_corpus_path / "compare.toml"


def load_topics(path: Path) -> list[Topic]:
    """The ``[[topic]]`` entries of a compare.toml (label and query, both required)."""
    if not path.exists():
        raise ConfigError(f"{path} is missing: it lists the default topics of a comparison. "
                          "Restore it from the repository, or give topics with --topic TEXT.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix it.") from exc
    out: list[Topic] = []
    for i, t in enumerate(data.get("topic", []), 1):
        label = str(t.get("label", "")).strip() if isinstance(t, dict) else ""
        query = str(t.get("query", "")).strip() if isinstance(t, dict) else ""
        if not label or not query:
            raise ConfigError(f"{path}: topic {i} needs a label and a query "
                              '(label = "Use of ECTS", query = "Are … expressed in ECTS?")')
        out.append(Topic(label, query))
    if not out:
        raise ConfigError(f"{path} lists no [[topic]]; add one, or give topics with --topic TEXT.")
    return out


def default_topics(settings: Settings) -> list[Topic]:
    return load_topics(topics_path(settings))


def typed_topics(texts: Iterable[str], settings: Settings) -> list[Topic]:
    """Topics a user typed (one per text; blank ones dropped, repeats once): label = query."""
    from assistant.answer import check_question

    out: list[Topic] = []
    for raw in texts:
        if not str(raw).strip():
            continue
        text = check_question(str(raw), settings)  # the limits a question has
        if all(t.query != text for t in out):
            out.append(Topic(text, text))
    return out


def check_count(topics: list[Topic]) -> list[Topic]:
    """The topics, or a clear error when there are none or too many."""
    if not topics:
        raise InputError("No topic to compare: pick a default topic or type one.")
    if len(topics) > MAX_TOPICS:
        raise InputError(f"{len(topics)} topics; at most {MAX_TOPICS} fit in one comparison. "
                         "Split them over two runs.")
    return topics
