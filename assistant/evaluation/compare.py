"""Evaluation of comparisons on a gold matrix (``corpus/eval/compare_gold.jsonl``).

Each line is one topic: ``{"topic", "query", "split": "tune"|"test", "cells": {"AM": {"status",
"facts": [[alternatives]], "quotes": [...], "note"}, ...}}``. The topic's query is compared for
the countries its cells name; ``tune`` lines may guide choices, ``test`` lines never.

| metric              | definition                                                              |
|---------------------|-------------------------------------------------------------------------|
| cell_accuracy       | cells with the gold status, where an addressed cell must also quote an  |
|                     | expected fact (any alternative of any fact, case and spacing ignored);  |
|                     | a gold cell without facts needs a quote sharing 60 characters with a    |
|                     | gold quote                                                              |
| status_accuracy     | cells with the gold status, facts aside                                 |
| addressed_recall    | gold-addressed cells found addressed with a fact                        |
| not_addressed_right | gold-not-addressed cells found not addressed                            |
| wrong_country       | quotes shown whose passage is another country's document (must be 0)    |
| unverified          | quotes shown that are not verbatim in their passage (must be 0)         |
| dropped             | quotes the matrix's own guard dropped (another country, not verbatim)   |
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.compare import ADDRESSED, NOT_ADDRESSED, Cell, Matrix, Topic, compare
from assistant.errors import IndexError_, InputError
from assistant.evaluation.metrics import has_fact, save_json
from assistant.evaluation.qa import json_lines
from assistant.text import normalize

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.config import Settings

PARTS = ("tune", "test")
STATUSES = (ADDRESSED, NOT_ADDRESSED)
MIN_OVERLAP = 60  # characters a cell quote must share with a gold quote (gold cells w/o facts)


@dataclass(frozen=True)
class GoldCell:
    status: str
    facts: tuple[tuple[str, ...], ...]
    quotes: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class GoldTopic:
    topic: str
    query: str
    split: str
    cells: dict[str, GoldCell]


def _problem(row: Any) -> str:
    if not isinstance(row, dict):
        return "not a JSON object"
    missing = [k for k in ("topic", "query", "split", "cells") if k not in row]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    if row["split"] not in PARTS:
        return f"split must be tune or test, not {row['split']!r}"
    if not isinstance(row["cells"], dict) or not row["cells"]:
        return "cells must be an object of country -> cell"
    for c, cell in row["cells"].items():
        if not isinstance(cell, dict) or cell.get("status") not in STATUSES:
            return f"cell {c}: status must be 'addressed' or 'not addressed'"
        facts = cell.get("facts", [])
        if not isinstance(facts, list) or not all(
                isinstance(f, list) and f and all(isinstance(a, str) for a in f) for f in facts):
            return f"cell {c}: facts must be a list of lists of strings"
    return ""


def load_gold(path: Path) -> list[GoldTopic]:
    """The gold matrix; InputError naming the line of the first bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the gold matrix {path}: {exc.strerror or exc}") from exc
    out = []
    for n, row, bad in json_lines(lines):
        if bad:
            raise InputError(f"{path}:{n}: {bad}")
        problem = _problem(row)
        if problem:
            raise InputError(f"{path}:{n}: {problem}")
        cells = {str(c).upper(): GoldCell(v["status"], tuple(tuple(f) for f in v.get("facts", [])),
                                           tuple(str(q) for q in v.get("quotes", [])),
                                           str(v.get("note", "")))
                 for c, v in row["cells"].items()}
        out.append(GoldTopic(str(row["topic"]), str(row["query"]), row["split"], cells))
    if not out:
        raise InputError(f"{path} holds no topic")
    return out


def _fold(text: str) -> str:
    return normalize(text).casefold()


def _shares(a: str, b: str) -> bool:
    x, y = _fold(a), _fold(b)
    if not x or not y:
        return False
    if x in y or y in x:
        return True
    m = SequenceMatcher(None, x, y, autojunk=False).find_longest_match(0, len(x), 0, len(y))
    return m.size >= min(MIN_OVERLAP, len(x), len(y))


def cell_right(cell: Cell, gold: GoldCell) -> tuple[bool, bool]:
    """(status right, cell right): an addressed cell must also quote an expected fact."""
    if cell.status != gold.status:
        return False, False
    if gold.status == NOT_ADDRESSED:
        return True, True
    quoted = " ".join(q.quote for q in cell.quotes)
    if gold.facts:
        return True, any(has_fact(quoted, alts) for alts in gold.facts)
    if gold.quotes:
        return True, any(_shares(q.quote, g) for q in cell.quotes for g in gold.quotes)
    return True, True


def score(gold: Sequence[GoldTopic], matrices: Sequence[Matrix]) -> dict[str, Any]:
    """Metrics and one row per cell, for gold topics and the matrices made for them."""
    from assistant.answer import verify_quote

    rows: list[dict[str, Any]] = []
    wrong = unverified = 0
    dropped = {"wrong_country": 0, "unverified": 0}
    for g, m in zip(gold, matrices, strict=True):
        for k, v in m.dropped.items():
            dropped[k] += v
        row = m.rows[0]
        for c, gc in g.cells.items():
            cell = row.cells[c]
            wrong += sum(q.passage.country != c for q in cell.citations)
            unverified += sum(not (q.verified and verify_quote(q.quote, q.passage))
                              for q in cell.citations)
            status_ok, ok = cell_right(cell, gc)
            rows.append({"topic": g.topic, "split": g.split, "country": c,
                         "gold": gc.status, "got": cell.status, "outcome": cell.outcome,
                         "status_right": status_ok, "right": ok,
                         "quotes": [q.quote for q in cell.quotes],
                         "closest": [q.quote for q in cell.closest]})
    return {"metrics": metrics(rows, wrong, unverified, dropped), "cells": rows}


def metrics(rows: Sequence[dict[str, Any]], wrong: int, unverified: int,
            dropped: dict[str, int]) -> dict[str, Any]:
    def share(xs: list[bool]) -> float:
        return round(sum(xs) / len(xs), 3) if xs else 0.0

    addressed = [r["right"] for r in rows if r["gold"] == ADDRESSED]
    silent = [r["right"] for r in rows if r["gold"] == NOT_ADDRESSED]
    return {"cells": len(rows), "cell_accuracy": share([r["right"] for r in rows]),
            "status_accuracy": share([r["status_right"] for r in rows]),
            "addressed_recall": share(addressed), "addressed_cells": len(addressed),
            "not_addressed_right": share(silent), "not_addressed_cells": len(silent),
            "wrong_country": wrong, "unverified": unverified, "dropped": dict(dropped)}


def run(assistant: Assistant, gold: Sequence[GoldTopic], progress: Any = None) -> list[Matrix]:
    """One single-row matrix per gold topic, over the countries its cells name."""
    out = []
    for i, g in enumerate(gold, 1):
        out.append(compare(assistant, [Topic(g.topic, g.query)], list(g.cells)))
        if progress:
            progress(i, len(gold), g.topic)
    return out


def format_summary(report: dict[str, Any]) -> str:
    lines = [f"compare evaluation: {report['gold_file']}"]
    for part, m in report["parts"].items():
        lines.append(
            f"{part:>4} part: {m['cells']} cells  cell accuracy {m['cell_accuracy']:.2f}  "
            f"(status {m['status_accuracy']:.2f}; addressed with a fact "
            f"{m['addressed_recall']:.2f} of {m['addressed_cells']}; not addressed "
            f"{m['not_addressed_right']:.2f} of {m['not_addressed_cells']})  wrong-country "
            f"quotes {m['wrong_country']}  unverified quotes {m['unverified']}  dropped by the "
            f"guard {m['dropped']['wrong_country']} + {m['dropped']['unverified']}")
    lines.append(f"time: {report['seconds']:.1f} s for {report['topics']} topics")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compare", nargs="?", const="", metavar="FILE",
                   help="evaluate comparisons on a gold matrix (default: "
                        "corpus/eval/compare_gold.jsonl) instead of Q&A")
    p.add_argument("--min-cell-accuracy", type=float, metavar="X",
                   help="with --compare: exit 1 unless the test part's cell accuracy >= X")


def default_gold(settings: Settings) -> Path:
    return settings.corpus_path / "eval" / "compare_gold.jsonl"


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval --compare [FILE]``: per-part figures, exit 1 on a wrong or bad quote."""
    import time

    from tqdm import tqdm

    from assistant.answer import Assistant

    path = Path(args.compare) if args.compare else default_gold(settings)
    gold = load_gold(path)
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    bar = tqdm(total=len(gold), desc="Comparing", unit="topic", file=sys.stderr)

    def step(done: int, total: int, label: str) -> None:
        bar.n = done
        bar.refresh()

    t = time.perf_counter()
    try:
        matrices = run(assistant, gold, step)
    finally:
        bar.close()
    seconds = time.perf_counter() - t
    parts = {}
    cells: list[dict[str, Any]] = []
    for part in PARTS:
        chosen = [(g, m) for g, m in zip(gold, matrices, strict=True) if g.split == part]
        if chosen:
            scored = score([g for g, _ in chosen], [m for _, m in chosen])
            parts[part] = scored["metrics"]
            cells += scored["cells"]
    report = {"gold_file": str(path), "topics": len(gold), "seconds": round(seconds, 2),
              "corpus_fingerprint": assistant.fingerprint(), "parts": parts, "cells": cells}
    print(format_summary(report))
    if getattr(args, "json", None):
        save_json(report, args.json)
    bad = sum(m["wrong_country"] + m["unverified"] for m in parts.values())
    low = (args.min_cell_accuracy is not None and "test" in parts
           and parts["test"]["cell_accuracy"] < args.min_cell_accuracy)
    if low:
        print(f"threshold missed: test cell accuracy {parts['test']['cell_accuracy']:.2f} < "
              f"{args.min_cell_accuracy}")
    return 1 if bad or low else 0
