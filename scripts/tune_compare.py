"""Choose the comparison cells' constants on the tune part of the gold matrix (never the test).

    PYTHONPATH=$PWD python scripts/tune_compare.py [--gold FILE] [--show]

Each tune topic is read once per country and passage depth (``Reading``: the answer step's
spans with their calibrated probabilities); every rule of the grid is then applied to the same
readings, so the sweep shows exactly what the matrix would do. Printed: cell accuracy for each
(depth, margin, quotes at most), with the addressed and not-addressed parts and their balanced
mean, and a leave-one-topic-out cross-validation of the choice: the simplest point (the chat's
depth, the smallest margin, one quote) within one cell of the best cell accuracy. ``--show``
prints each cell's best candidates.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import statistics
from collections.abc import Sequence
from typing import Any

MARGINS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
QUOTES = (1, 2)  # quotes at most: the best, and the next non-overlapping one above the bar
DEPTHS = (0, 4, 8, 10)  # passages read per cell (0: the chat's own k and cap per document)


def _rule(threshold: float, margin: float, quotes: int) -> Any:
    from assistant.compare.cells import Rule

    return Rule(max(0.0, threshold - margin), quotes)


def _score(cells: Sequence[tuple[str, Any, Any]]) -> dict[str, float]:
    """cells: (topic, gold cell, cell) -> accuracy, addressed, not addressed, balanced."""
    from assistant.evaluation.compare import cell_right

    right = [cell_right(cell, gold)[1] for _, gold, cell in cells]
    addr = [r for r, (_, g, _) in zip(right, cells, strict=True) if g.status == "addressed"]
    silent = [r for r, (_, g, _) in zip(right, cells, strict=True) if g.status != "addressed"]
    share = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return {"acc": share(right), "addr": share(addr), "silent": share(silent),
            "balanced": (share(addr) + share(silent)) / 2, "n": len(right)}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--gold", default=None, help="gold matrix (default corpus/eval/...)")
    ap.add_argument("--show", action="store_true", help="print each cell's best candidates")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from pathlib import Path

    from assistant.answer import Assistant
    from assistant.compare import Topic
    from assistant.compare.cells import positions, read_topic
    from assistant.compare.matrix import cell_from
    from assistant.config import get_settings
    from assistant.evaluation.compare import cell_right, default_gold, load_gold
    from assistant.retrieve.query_vectors import with_query_vectors

    settings = get_settings(torch_threads=args.threads)
    gold = [g for g in load_gold(Path(args.gold) if args.gold else default_gold(settings))
            if g.split == "tune"]  # the test part is never read here
    bot = Assistant(settings)
    threshold = bot.threshold
    print(f"{len(gold)} tune topics, {sum(len(g.cells) for g in gold)} cells; answer model "
          f"threshold {threshold:.3f}; load average {os.getloadavg()[0]:.2f}")
    readings: dict[int, list[tuple[Any, str, Any]]] = {}
    for depth in DEPTHS:
        retriever = with_query_vectors(bot.retriever)
        if depth:
            retriever.settings = settings.model_copy(update={"k": depth, "max_per_doc": depth})
        reader = copy.copy(bot)
        reader.retriever = retriever
        readings[depth] = [(g, c, read_topic(reader, Topic(g.topic, g.query).search, c))
                           for g in gold for c in g.cells]

    if args.show:
        for g, c, r in readings[DEPTHS[0]]:
            gc = g.cells[c]
            print(f"\n== {g.topic} / {c}: gold {gc.status}; facts {gc.facts}")
            for x in positions(r)[:5]:
                print(f"  {x.probability:.3f} {x.span.kind:9} rel "
                      f"{x.span.sp.relevance or 0:.2f} | {x.span.shown[:160]}")

    grid = list(itertools.product(DEPTHS, MARGINS, QUOTES))
    results: dict[tuple[Any, ...], list[tuple[str, Any, Any]]] = {}
    for depth, margin, quotes in grid:
        rule = _rule(threshold, margin, quotes)
        results[(depth, margin, quotes)] = [(g.topic, g.cells[c], cell_from(r, rule))
                                            for g, c, r in readings[depth]]
    print("\ndepth margin quotes | cell acc  addressed  not-addr  balanced")
    for key in grid:
        m = _score(results[key])
        print(f"{key[0]:5} {key[1]:6.2f} {str(key[2]):6} | {m['acc']:.3f}    {m['addr']:.3f}"
              f"      {m['silent']:.3f}     {m['balanced']:.3f}")

    def pick(keep: set[str], rule: str = "acc") -> tuple[Any, ...]:
        """The grid point chosen on the topics kept, by one of the selection rules:
        ``acc``  the best cell accuracy (ties: balanced accuracy, then the simplest point);
        ``one-cell``  the simplest point within one cell of the best cell accuracy;
        ``balanced``  the best balanced accuracy (ties: cell accuracy, then the simplest).
        Simplest: the chat's depth, the smallest margin, one quote."""
        scores = {k: _score([x for x in results[k] if x[0] in keep]) for k in grid}
        if rule == "one-cell":
            best = max(m["acc"] for m in scores.values())
            one_cell = 1 / max(m["n"] for m in scores.values())
            near = [k for k in grid if scores[k]["acc"] >= best - one_cell - 1e-9]
            return min(near, key=lambda k: (k[0], k[1], k[2]))
        first, second = ("acc", "balanced") if rule == "acc" else ("balanced", "acc")
        return min(grid, key=lambda k: (-round(scores[k][first], 9),
                                        -round(scores[k][second], 9), k[0], k[1], k[2]))

    topics = sorted({g.topic for g in gold})
    for rule in ("acc", "one-cell", "balanced"):
        held_right, chosen = [], []
        for t in topics:
            key = pick(set(topics) - {t}, rule)
            chosen.append(key)
            held_right += [cell_right(cell, gc)[1] for tt, gc, cell in results[key] if tt == t]
        best = pick(set(topics), rule)
        m = _score(results[best])
        print(f"\nselection by {rule}: leave-one-topic-out cell accuracy "
              f"{statistics.mean(held_right):.3f} over {len(held_right)} cells; points chosen "
              f"per fold: {sorted({str(k) for k in chosen})}; on all tune topics: depth "
              f"{best[0]}, margin {best[1]}, quotes {best[2]}: cell accuracy {m['acc']:.3f} "
              f"(addressed {m['addr']:.3f}, not addressed {m['silent']:.3f})")


if __name__ == "__main__":
    main()
