"""Warm latency of ``Assistant.ask`` (extractive) against its floor, and RSS after 100 answers.

    python benchmarks/ask.py [--rounds N] [--threads 2]

The floor is what no answer can avoid: one query embedding plus one Chroma query. Targets on
2 cores: p50 <= 150 ms, p95 <= 500 ms, p50 <= 5 x floor, RSS <= 1.2 GB after 100 questions.
The index used is the project's own (run ``assistant ingest`` first).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

QUESTIONS = [
    "How many scientific institutions took part in the Armenian survey?",
    "When was the Georgian questionnaire available?",
    "What challenges did institutions in Armenia identify for micro-credentials?",
    "How many respondents took part in the Georgian survey?",
    "Which article of the Law on Education defines complimentary education?",
    "What did the 2022 regulation allow Armenian HEIs to issue?",
    "Who should be authorized to implement micro-credential programmes in Georgia?",
    "What is the ECTS requirement for micro-credentials in Azerbaijan?",
    "and in Georgia?",
    "What quality assurance do respondents want for micro-credentials?",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10, help="passes over the question list")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from assistant.answer import Assistant
    from assistant.config import get_settings

    settings = get_settings(torch_threads=args.threads)
    t0 = time.perf_counter()
    assistant = Assistant(settings)
    assistant.ask(QUESTIONS[0])  # warm-up: model load, index open, BM25 statistics
    warm_s = time.perf_counter() - t0
    if assistant.index.count() == 0:
        raise SystemExit("The index is empty: run `assistant ingest` first.")

    floor: list[float] = []
    for q in QUESTIONS * 3:
        t = time.perf_counter()
        vec = assistant.index.embeddings.embed_query(q)
        assistant.index.query(vec, settings.fetch_k)
        floor.append((time.perf_counter() - t) * 1000)

    lat: list[float] = []
    history: list[tuple[str, str]] = []
    for _ in range(args.rounds):
        for q in QUESTIONS:
            t = time.perf_counter()
            ans = assistant.ask(q, history=history[-1:])
            lat.append((time.perf_counter() - t) * 1000)
            history.append((q, ans.text))

    p50, p95, f50 = pct(lat, 0.5), pct(lat, 0.95), statistics.median(floor)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "questions_answered": len(lat) + 1,
        "cold_start_s": round(warm_s, 2),
        "ask_p50_ms": round(p50, 1),
        "ask_p95_ms": round(p95, 1),
        "floor_p50_ms": round(f50, 1),
        "p50_over_floor": round(p50 / f50, 2),
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak, 1),
        "torch_threads": args.threads,
    }
    targets = {"ask_p50_ms": 150, "ask_p95_ms": 500, "p50_over_floor": 5, "rss_mb": 1200}
    width = max(map(len, out))
    for key, value in out.items():
        target = f"  (target <= {targets[key]})" if key in targets else ""
        ok = "" if key not in targets else ("  ok" if value <= targets[key] else "  MISSED")
        print(f"{key:<{width}}  {value}{target}{ok}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
