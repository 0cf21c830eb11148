"""Questions a local model wrote for each passage (doc2query), cached by the passage text's hash.

``scripts/doc2query.py`` writes the cache at ingest time when a local model is configured; the
retriever only reads it, so no model is needed to answer. Lines are keyed by the sha256 of the
passage text, so the cache survives a re-ingest and identical passages share their questions.
Passages without a line (uploads, or any passage when the script was never run) simply have no
generated questions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings

MAX_QUESTION_CHARS = 200
_SPLIT = re.compile(r"(?<=\?)\s+(?=\S)")  # two questions on one line
_LEAD = re.compile(r"^\s*(?:[-*\u2022]+|\(?\d{1,2}[.):]|Q\d*[.:]|Question\s*\d*[.:])\s*", re.I)


def text_key(text: str) -> str:
    """The cache key of a passage: the sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(settings: Settings) -> Path:
    return settings.corpus_path / "doc2query" / "questions.jsonl"


def parse_questions(reply: str, n: int) -> list[str]:
    """At most ``n`` distinct questions from a model's reply: one per line (or several on a
    line, each ending in a question mark), numbering and bullets removed, kept only when it
    ends with a question mark and is not overly long."""
    out: list[str] = []
    for part in (p for line in reply.splitlines() for p in _SPLIT.split(line.strip())):
        q = _LEAD.sub("", part.strip()).strip().strip('"').strip()
        if not q.endswith("?") or len(q) < 8 or len(q) > MAX_QUESTION_CHARS:
            continue
        if q.lower() not in {o.lower() for o in out}:
            out.append(q)
        if len(out) == n:
            break
    return out


@dataclass(frozen=True)
class Entry:
    """One cache line: the questions written for one passage text."""

    key: str
    doc_id: str
    questions: tuple[str, ...]
    model_sha256: str
    prompt_version: str
    reply: str = ""  # the model's reply as written (to parse again without the model)

    def to_json(self) -> str:
        return json.dumps({"key": self.key, "doc_id": self.doc_id,
                           "questions": list(self.questions), "model_sha256": self.model_sha256,
                           "prompt_version": self.prompt_version, "reply": self.reply},
                          ensure_ascii=False)


def load(path: Path) -> dict[str, Entry]:
    """Every entry of the cache file by key (the last line wins; a torn last line is skipped)."""
    out: dict[str, Entry] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            entry = Entry(d["key"], d.get("doc_id", ""), tuple(d["questions"]),
                          d.get("model_sha256", ""), d.get("prompt_version", ""),
                          d.get("reply", ""))
        except (ValueError, KeyError, TypeError):
            continue
        out[entry.key] = entry
    return out


def append(path: Path, entries: Iterable[Entry]) -> None:
    """Append entries to the cache file (one line each, flushed, so a stopped run loses none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as fh:
        if torn:  # a run stopped mid-line: the next entry starts on a line of its own
            fh.write("\n")
        for entry in entries:
            fh.write(entry.to_json() + "\n")
            fh.flush()


def questions_by_text(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The generated questions by passage-text key (empty when the cache does not exist)."""
    return {k: e.questions for k, e in load(cache_path(settings)).items() if e.questions}
