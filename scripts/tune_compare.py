"""Choose the comparison cells' constants on the tune part of the gold matrix (never the test).

    PYTHONPATH=$PWD python scripts/tune_compare.py [--gold FILE] [--show] [--failures]

Each tune topic is read once per country and passage depth (``Reading``: the answer step's
spans with their calibrated probabilities); every rule of the grid is then applied to the same
readings, so the sweep shows exactly what the matrix would do. Printed: cell accuracy for each
(depth, margin, quotes at most), with the addressed and not-addressed parts and their balanced
mean, and a leave-one-topic-out cross-validation of the choice: the simplest point (the chat's
depth, the smallest margin, one quote) within one cell of the best cell accuracy. ``--show``
prints each cell's best candidates; ``--failures`` prints, as a Markdown table, every wrong tune
cell of the shipped settings: the kind of failure, the best candidate's probability, the rank of
the passage holding an expected fact (in the cell's retrieval / among every first-stage
candidate of the country), the rank, probability and place of the first candidate holding one,
and what the cell quoted instead.
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
    ap.add_argument("--failures", action="store_true",
                    help="print the wrong tune cells of the shipped settings and stop")
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
    if args.failures:
        failures(bot, gold)
        return
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


def _place(span: Any) -> str:
    """Where a span sits: the report part (survey results, findings, …) and the span's kind."""
    section = span.sp.passage.section.lower()
    part = next((name for key, name in (("findings", "findings"), ("survey result", "survey "
                 "result"), ("appendix", "appendix")) if key in section), "text")
    return f"{part}, {span.kind}"


def failures(bot: Any, gold: Sequence[Any]) -> None:
    """The wrong tune cells of ``bot``'s settings as a Markdown table (see the docstring)."""
    from assistant.compare import Topic
    from assistant.compare.cells import positions, read_topic
    from assistant.compare.matrix import cell_from, cell_rule
    from assistant.evaluation.compare import cell_right
    from assistant.evaluation.metrics import has_fact
    from assistant.retrieve.query_vectors import with_query_vectors

    reader = copy.copy(bot)
    reader.retriever = with_query_vectors(bot.retriever)
    rule = cell_rule(reader)
    print("| cell | failure | best p | fact passage rank (cell / first stage) | first candidate "
          "with a fact: rank, p, place | quoted instead |\n|---|---|---|---|---|---|")
    for g in gold:
        for c, gc in g.cells.items():
            search = Topic(g.topic, g.query).search
            reading = read_topic(reader, search, c)
            cell = cell_from(reading, rule)
            if cell_right(cell, gc)[1]:
                continue
            def holds(text: str, facts: Any = gc.facts) -> bool:
                return any(has_fact(text, alts) for alts in facts)

            cands = positions(reading)
            kind = ("not addressed found addressed" if gc.status != "addressed" else
                    "addressed found not addressed" if cell.status != "addressed" else
                    "quote lacks the fact")
            first = reader.retriever.first_stage(search, {"country": [c]})
            ranks = [next((str(i) for i, text in enumerate(texts, 1) if holds(text)), "-")
                     for texts in ([sp.passage.text for sp in reading.retrieval.passages],
                                   [first.by_id[pid].text for pid in first.order])]
            found = next(((i, x) for i, x in enumerate(cands, 1) if holds(x.span.raw)), None)
            where = (f"{found[0]} of {len(cands)}, {found[1].probability:.2f}, "
                     f"{_place(found[1].span)}" if found else "not a candidate")
            shown = (cell.quotes[:1] and cell.quotes[0].quote) or (
                cell.closest[:1] and "closest: " + cell.closest[0].quote) or ""
            best = cands[0].probability if cands else 0.0
            print(f"| {g.topic} / {c} | {kind} | {best:.2f} | "
                  f"{' / '.join(ranks) if gc.facts else '-'} | {where if gc.facts else '-'} | "
                  f"{' '.join(shown.split())[:80]} |")


if __name__ == "__main__":
    main()
