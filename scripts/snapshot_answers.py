"""Every evaluation question through the assistant, written as a JSON snapshot to diff.

    python scripts/snapshot_answers.py OUT.json [--limit N]

Each item of every bundled Q&A set (``DEFAULT_SETS`` of ``assistant eval``, both parts, and
``blind_qa.jsonl``) is asked as ``assistant eval`` asks it (with its history, the configured
mode and k), and its retrieval for the understood question is run as eval runs it. The
snapshot holds the outcome, the answer text, the citations and highlights, every ranked
passage with its scores and sentence cosines (rounded to 6 digits), the audit fields that do
not depend on time, and what the chat page renders from the answer (the chat message, the
sources panel with the previous answer folded below it, the copy box). The tune items are
asked a second time with a country filter, so the filtered paths are covered too.

A change that must not change answers reproduces the snapshot exactly: ``diff a.json b.json``,
or ``--against a.json`` to list the items that differ. Chroma's nearest-neighbour search is
approximate: in some processes it returns another list for the same vector, and a few items
(three of 720 on 2026-11-30) then differ between two runs of the same code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

DIGITS = 6
# Audit fields that change from run to run (clock, durations) and are left out.
AUDIT_SKIP = {"timestamp", "time", "date", "timings_ms", "timings", "latency_ms", "total_ms"}


def rounded(x: Any) -> Any:
    """Floats rounded to DIGITS, recursively (dicts, lists, tuples)."""
    if isinstance(x, float):
        return round(x, DIGITS)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [rounded(v) for v in x]
    return x


def scored(sp: Any) -> dict[str, Any]:
    return rounded({
        "id": sp.passage.id, "score": sp.score, "dense": sp.dense, "lexical": sp.lexical,
        "rank": sp.rank, "evidence": sp.evidence, "best_sentence": sp.best_sentence,
        "relevance": sp.relevance, "sentences": sp.sentences,
    })


def record(answer: Any, ranked: Any, previous: Any) -> dict[str, Any]:
    """What the snapshot keeps of one answer (and the page's rendering of it)."""
    from assistant.types import answer_markdown
    from assistant.web.sources import chat_text, sources_html

    audit = {k: v for k, v in answer.audit.items() if k not in AUDIT_SKIP}
    # The settings' hash covers the folders' paths: it differs between two checkouts.
    audit["settings"] = {k: v for k, v in audit.get("settings", {}).items() if k != "hash"}
    return {
        "outcome": answer.outcome,
        "abstained": answer.abstained,
        "text": answer.text,
        "standalone": answer.standalone_question,
        "probability": rounded(answer.probability),
        "citations": [c.to_dict() for c in answer.citations],
        "highlights": [c.to_dict() for c in answer.highlights],
        "support": [rounded([s.sentence, s.citations, s.supported, s.score])
                    for s in answer.support],
        "notes": answer.notes,
        "passages": [scored(sp) for sp in answer.passages],
        "ranked": [scored(sp) for sp in ranked],
        "audit": rounded(audit),
        "chat": chat_text(answer, 2),
        "panel": sources_html(answer, [previous] if previous is not None else []),
        "markdown": answer_markdown(answer),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="items per file (0: all)")
    ap.add_argument("--against", type=Path,
                    help="an earlier snapshot: print the items whose record differs")
    ap.add_argument("--threads", type=int, default=1,
                    help="embedding threads (1: the query vectors are the same every run; "
                         "with more, their sums change order and cosines move by about 1e-6)")
    args = ap.parse_args()

    from assistant.answer import Assistant
    from assistant.config import get_settings
    from assistant.evaluation.qa import load_qa
    from assistant.evaluation.run import DEFAULT_SETS

    settings = get_settings(torch_threads=args.threads)
    bot = Assistant(settings)
    folder = settings.corpus_path / "eval"
    names = list(dict.fromkeys([*DEFAULT_SETS, "blind_qa.jsonl"]))
    mode, k = settings.mode, settings.k
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name in names:
        items = load_qa(folder / name, settings)
        if args.limit:
            items = items[: args.limit]
        previous = None
        for item in items:
            for label, filters in (("", None), ("|AM", {"country": ["AM"]})):
                if label and item.split != "tune":
                    continue
                answer = bot.ask(item.question, history=list(item.history), filters=filters,
                                 mode=mode, k=k)
                query = answer.standalone_question or item.question
                ranked = bot.retriever.retrieve(query, filters, k=max(5, k))
                out[f"{name}:{item.id}{label}"] = {"split": item.split,
                                                   **record(answer, ranked, previous)}
                previous = answer
        print(f"{name}: {len(items)} items ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
    print(f"{len(out)} answers written to {args.out}", file=sys.stderr)
    if args.against:
        return report_differences(json.loads(args.against.read_text(encoding="utf-8")),
                                  json.loads(json.dumps(out, ensure_ascii=False)))
    return 0


def report_differences(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Print each item whose record differs, with its first differing fields; 1 if any."""
    differing = 0
    for key in sorted(set(before) | set(after)):
        fields = [f for f in sorted(set(before.get(key) or {}) | set(after.get(key) or {}))
                  if (before.get(key) or {}).get(f) != (after.get(key) or {}).get(f)]
        if fields:
            differing += 1
            print(f"{key}: {', '.join(fields[:6])}")
    print(f"{differing} of {len(after)} answers differ")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
