"""Warm time of ``check_draft`` (extractive) on a 30-sentence and a 300-sentence draft.

    python benchmarks/check.py [--threads 2] [--rounds 3]

Targets on 2 cores: 30 sentences <= 3 s warm, 300 sentences <= 30 s. The drafts are made from
the evaluation drafts (corpus/eval/drafts/*.md), sentences in order, repeated to length. The
index used is the project's own (run ``assistant ingest`` first).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from assistant.check.draft import check_draft

REPO = Path(__file__).resolve().parent.parent


def draft_of(n: int) -> str:
    """A draft of exactly ``n`` checkable sentences taken from the evaluation drafts."""
    from assistant.check.split import split_draft

    sentences: list[str] = []
    for path in sorted((REPO / "corpus" / "eval" / "drafts").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        units, _, _ = split_draft(text)
        sentences += [text[u.start:u.end] for u in units if u.kind == "claim"]
    out = [sentences[i % len(sentences)] for i in range(n)]
    return "\n\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of the 30-sentence draft")
    ap.add_argument("--short-only", action="store_true", help="skip the 300-sentence draft")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from assistant.answer import Assistant
    from assistant.config import get_settings

    assistant = Assistant(get_settings(torch_threads=args.threads))
    if assistant.index.count() == 0:
        raise SystemExit("The index is empty: run `assistant ingest` first.")
    short, long_ = draft_of(30), draft_of(300)
    check_draft(assistant, draft_of(5))  # warm-up: model load, index open, BM25 statistics
    times = []
    for _ in range(args.rounds):
        t = time.perf_counter()
        report = check_draft(assistant, short)
        times.append(time.perf_counter() - t)
    n_short = sum(1 for c in report.claims if c.kind == "claim")
    med = statistics.median(times)
    share = report.timings_ms.get("retrieve_ms", 0.0) / max(report.timings_ms["total_ms"], 1e-9)
    print(f"share of the time spent in retrieval (query embedding + Chroma + BM25): {share:.0%}")
    print(f"{n_short}-sentence draft: median {med:.2f} s over {args.rounds} runs "
          f"(target <= 3 s): {'met' if med <= 3 else 'MISSED'}")
    if args.short_only:
        return
    t = time.perf_counter()
    report = check_draft(assistant, long_)
    long_s = time.perf_counter() - t
    n_long = sum(1 for c in report.claims if c.kind == "claim")
    print(f"{n_long}-sentence draft: {long_s:.1f} s (target <= 30 s): "
          f"{'met' if long_s <= 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
