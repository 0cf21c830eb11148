"""The Q&A sets: items, their validation, splits and categories."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError, InputError
from assistant.text import normalize

FIELDS = ("id", "question", "answer", "facts", "sources", "answerable")
# Optional fields: what kind of question it is, its language, the conversation before it, which
# part of the set it belongs to (tune: constants may be chosen on it; test: never), a note.
OPTIONAL = ("category", "lang", "history", "split", "note")
# The bundled sets' categories, in report order; a tester's own file may use any name.
CATEGORIES = ("known", "unanswerable", "near_miss", "paraphrase", "cross_language",
              "comparison", "follow_up", "list", "yes_no", "recommendation")
SPLITS = ("tune", "test")


# --------------------------------------------------------------------------------------------
# The Q&A set
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """A gold source: a document id (canonical, aliases resolved) and a verbatim quote."""

    doc: str
    quote: str


@dataclass(frozen=True)
class QAItem:
    """One known question with its expected facts and sources."""

    id: str
    question: str
    answer: str
    facts: tuple[tuple[str, ...], ...]
    sources: tuple[Source, ...]
    answerable: bool
    line: int = 0
    category: str = "known"
    lang: str = "en"
    history: tuple[tuple[str, str], ...] = ()
    split: str = ""  # "" = in every part


def _str_list_problem(value: Any, what: str) -> str:
    if not isinstance(value, list) or not value:
        return f"{what} must be a non-empty list of strings"
    if not all(isinstance(s, str) and s.strip() for s in value):
        return f"{what} must contain only non-empty strings"
    return ""


def _check_row(row: Any) -> list[str]:
    """Shape and type problems of one parsed line (no corpus look-ups)."""
    if not isinstance(row, dict):
        return ["not a JSON object"]
    problems = []
    missing = [f for f in FIELDS if f not in row]
    extra = sorted(set(row) - set(FIELDS) - set(OPTIONAL))
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected field(s) {', '.join(extra)}; allowed: "
                        f"{', '.join(FIELDS + OPTIONAL)}")
    if "category" in row and not (isinstance(row["category"], str) and row["category"].strip()):
        problems.append("category must be a non-empty string (any name; reported as given)")
    if "split" in row and row["split"] not in SPLITS:
        problems.append(f"split must be one of {', '.join(SPLITS)}")
    hist = row.get("history", [])
    if not (isinstance(hist, list) and all(
        isinstance(h, str) or (isinstance(h, list) and len(h) == 2
                               and all(isinstance(x, str) for x in h)) for h in hist
    )):
        problems.append('history must be a list of earlier questions (strings) or of '
                        '["question", "answer"] pairs')
    for key in ("id", "question"):
        if key in row and not (isinstance(row[key], str) and row[key].strip()):
            problems.append(f"{key} must be a non-empty string")
    if "answer" in row and not isinstance(row["answer"], str):
        problems.append("answer must be a string (\"\" when unanswerable)")
    if "answerable" in row and not isinstance(row["answerable"], bool):
        problems.append("answerable must be true or false")
    facts = row.get("facts")
    if "facts" in row:
        if not isinstance(facts, list):
            problems.append("facts must be a list of lists of acceptable strings")
        else:
            for i, fact in enumerate(facts, 1):
                p = _str_list_problem(fact, f"facts[{i}]")
                if p:
                    problems.append(p)
    sources = row.get("sources")
    if "sources" in row:
        if not isinstance(sources, list):
            problems.append('sources must be a list of {"doc": ..., "quote": ...}')
        else:
            for i, src in enumerate(sources, 1):
                ok = (isinstance(src, dict) and set(src) == {"doc", "quote"}
                      and all(isinstance(src[k], str) and src[k].strip() for k in src))
                if not ok:
                    problems.append(
                        f'sources[{i}] must be {{"doc": str, "quote": str}}, both non-empty'
                    )
    if problems or "answerable" not in row:
        return problems
    if row["answerable"] and (not facts or not sources):
        problems.append("an answerable item needs at least one fact and one source")
    if not row["answerable"] and (row["answer"] or facts or sources):
        problems.append("an unanswerable item needs answer \"\", facts [] and sources []")
    return problems


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any, str]]:
    """(line number, row, problem) of every non-blank line of a JSONL file; the row is None and
    the problem says why when the line is not JSON (the Q&A, PDF and compare sets share it)."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line), ""
        except json.JSONDecodeError as exc:
            yield n, None, f"not valid JSON ({exc.msg} at column {exc.colno})"


def validate_qa(
    lines: Iterable[str], aliases: dict[str, str], doc_text: Callable[[str], str]
) -> list[QAItem]:
    """Parse and check a Q&A set; raise InputError listing every problem as "line N: ...".

    ``aliases`` maps document ids and aliases to ids; ``doc_text(doc_id)`` returns the
    document's normalised text or raises AssistantError saying why it cannot be read.
    """
    items: list[QAItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, row, problem in json_lines(lines):
        if problem:
            problems.append(f"line {n}: {problem}")
            continue
        row_problems = _check_row(row)
        if row_problems:
            problems.extend(f"line {n}: {p}" for p in row_problems)
            continue
        if row["id"] in seen:
            first = seen[row["id"]]
            problems.append(f"line {n}: duplicate id {row['id']!r} (first on line {first})")
        else:
            seen[row["id"]] = n
        sources = []
        for src in row["sources"]:
            doc = aliases.get(src["doc"])
            if doc is None:
                problems.append(
                    f"line {n}: unknown document {src['doc']!r}; use one of "
                    f"{', '.join(sorted(aliases))}"
                )
                continue
            try:
                text = doc_text(doc)
            except AssistantError as exc:
                problems.append(f"line {n}: document {doc} cannot be read: {exc}")
                continue
            if normalize(src["quote"]) not in text:
                problems.append(f"line {n}: quote not found in {doc}: {src['quote'][:80]!r}")
            sources.append(Source(doc, src["quote"]))
        category = row.get("category") or ("known" if row["answerable"] else "unanswerable")
        items.append(QAItem(
            id=row["id"], question=row["question"], answer=row["answer"],
            facts=tuple(tuple(f) for f in row["facts"]), sources=tuple(sources),
            answerable=row["answerable"], line=n, category=category,
            lang=row.get("lang", "en"),
            history=tuple((h, "") if isinstance(h, str) else (h[0], h[1])
                          for h in row.get("history", [])),
            split=row.get("split", ""),
        ))
    if problems:
        raise InputError(
            f"The Q&A set has {len(problems)} problem(s); fix them and run again:\n  "
            + "\n  ".join(problems)
        )
    if not items:
        raise InputError("The Q&A set is empty; add one JSON object per line.")
    return items


def load_qa(path: Path, settings: Settings) -> list[QAItem]:
    """Read and validate a Q&A set against the corpus documents (aliases resolved)."""
    from assistant.documents.loaders import load_document
    from assistant.documents.manifest import alias_map, corpus_entries

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"No Q&A set at {path}; pass --qa FILE") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text; re-save it as UTF-8") from exc
    entries = {e.info.id: e for e in corpus_entries(settings)}
    texts: dict[str, str] = {}

    def doc_text(doc_id: str) -> str:
        if doc_id not in texts:
            e = entries[doc_id]
            texts[doc_id] = normalize(load_document(e.path, e.info, settings).text)
        return texts[doc_id]

    return validate_qa(lines, alias_map(entries.values()), doc_text)


def select_split(items: Sequence[QAItem], split: str) -> list[QAItem]:
    """The items of one part ("tune" or "test"; "all" for every item); items with no part are
    in every part."""
    if split == "all":
        return list(items)
    return [it for it in items if it.split in ("", split)]
