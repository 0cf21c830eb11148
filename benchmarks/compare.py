"""Warm time of the default comparison matrix (``corpus/compare.toml`` × AM, GE).

    python benchmarks/compare.py [--threads 2] [--rounds 3]

Target on 2 cores: the whole default matrix in <= 5 s warm. Uses the project's own index (run
``assistant ingest`` first). Prints wall time and this process's CPU time for each round, with
the load average: on a shared machine the wall time is mostly waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="embedding threads")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of the whole matrix")
    ap.add_argument("--countries", default="AM,GE")
    args = ap.parse_args()

    from assistant.answer import Assistant
    from assistant.compare import compare, default_topics, parse_countries
    from assistant.config import get_settings

    settings = get_settings(torch_threads=args.threads)
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise SystemExit("The index is empty: run `assistant ingest` first.")
    topics = default_topics(settings)
    countries = parse_countries(args.countries)
    assistant.ask("How many scientific institutions took part in the Armenian survey?")  # warm
    walls, cpus = [], []
    for i in range(args.rounds):
        load = os.getloadavg()
        t, c = time.perf_counter(), time.process_time()
        matrix = compare(assistant, topics, countries)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        print(f"round {i + 1}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU "
              f"(load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    cells = len(matrix.rows) * len(matrix.countries)
    addressed = sum(cell.status == "addressed" for r in matrix.rows for cell in r.cells.values())
    print(f"default matrix: {len(matrix.rows)} topics x {len(countries)} countries = {cells} "
          f"cells ({addressed} addressed), threads {args.threads}")
    print(f"median {statistics.median(walls):.2f} s wall (best {min(walls):.2f} s), "
          f"median {statistics.median(cpus):.2f} s CPU; target <= 5 s; "
          f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
