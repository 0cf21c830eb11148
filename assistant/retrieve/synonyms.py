"""Words users use for what the corpus says in other words: a small, documented synonym table.

The table is data, ``corpus/synonyms.toml``: groups of words and phrases that mean the same in
this domain ("obstacle", "barrier", "hurdle" for "challenge"). Each entry is one word, reduced
to its stem, so "obstacles" finds "challenges" (a hyphenated word counts as one). Retrieval
adds the equivalents of the question's words to the lexical query, and the answer step counts
a word as covered when a sentence uses one of them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ConfigError
from assistant.text import tokens


@dataclass(frozen=True)
class SynonymTable:
    """stem → the stems it is equivalent to (itself included)."""

    groups: tuple[frozenset[str], ...] = ()
    _by_stem: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, groups: list[list[str]]) -> SynonymTable:
        stems: list[frozenset[str]] = []
        for words in groups:
            toks = {tokens(w)[0] for w in words if tokens(w)}
            if len(toks) > 1:
                stems.append(frozenset(toks))
        by: dict[str, set[str]] = {}
        for group in stems:
            for t in group:
                by.setdefault(t, set()).update(group)
        return cls(tuple(stems), {t: frozenset(v) for t, v in by.items()})

    def equivalents(self, stem: str) -> frozenset[str]:
        return self._by_stem.get(stem, frozenset())


def load_synonyms(path: Path) -> SynonymTable:
    """The table in ``path`` (empty when the file does not exist)."""
    if not path.exists():
        return SynonymTable()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it.") from exc
    groups = data.get("group", [])
    if not isinstance(groups, list) or not all(
        isinstance(g, dict) and isinstance(g.get("words"), list) for g in groups
    ):
        raise ConfigError(f'{path}: each [[group]] needs words = ["...", "..."]')
    phrases = [str(w) for g in groups for w in g["words"] if " " in str(w).strip()]
    if phrases:
        raise ConfigError(f"{path}: list single words, not phrases: {', '.join(phrases)}")
    return SynonymTable.of([[str(w) for w in g["words"]] for g in groups])
