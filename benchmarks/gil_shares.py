"""Share of a py-spy profile's GIL-held samples by stage of a question.

    py-spy record --gil -r 100 -d 25 -p SERVER_PID -f raw -o gil.raw   # during a load phase
    python benchmarks/gil_shares.py gil.raw

Each sample (a collapsed stack, py-spy's ``raw`` format) goes to the first stage below whose
function is on its stack; samples with none of them are gradio's, uvicorn's and anyio's.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

STAGES = (
    ("retrieval's first stage (embedding call, Chroma, BM25, fusion, sentence cosines)",
     "HybridRetriever.first_stage"),
    ("rerank features (candidates, feature rows, ranker)", "HybridRetriever.retrieve"),
    ("span features and scores", "Assistant.read "),
    ("rest of the answer (question reading, outcome, audit)", "Assistant.ask_stream"),
    ("sources HTML and chat text", "sources_html"),
    ("sources HTML and chat text", "chat_text"),
    ("rest of the Ask handler", "make_ask.<locals>.ask"),
)
WEB = "gradio, uvicorn, anyio, asyncio (the web stack)"


def shares(lines: list[str]) -> tuple[int, Counter[str]]:
    total, got = 0, Counter[str]()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        got[next((label for label, fn in STAGES if fn in stack), WEB)] += n
    return total, got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, help="py-spy record -f raw output")
    args = ap.parse_args()
    total, got = shares(args.raw.read_text(encoding="utf-8").splitlines())
    print(f"{total} samples")
    for label, n in got.most_common():
        print(f"{100 * n / max(total, 1):5.1f}%  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
