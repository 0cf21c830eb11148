"""Compare model families for the answer step's span probability, cross-validated on tune.

    python scripts/train_answerer.py --cache /tmp/gbm/tune.pickle --compare   # builds the cache
    OMP_NUM_THREADS=1 python scripts/compare_answer_models.py --cache /tmp/gbm/tune.pickle

Every model is scored on exactly the same spans and features (``train_answerer.collect`` on the
tuning items, cross-fitted relevance) and the same REPEATS seeded deals of the items into FOLDS
folds as the shipped logistic regression, which runs alongside as the baseline. Each model gets
its own Platt fit per deal and its own threshold, chosen as train_answerer.py chooses it (the
lowest mean cost over the deals). Printed per model: the mean cost and each deal's cost at that
threshold, the deals it beats the baseline in, its right and wrong answers (at its threshold and
at the baseline's wrong-answer count), right answers per category there, and how many items
with a right span it ranks a right span first. The bar a candidate must clear to replace the
logistic regression is in docs/evaluation.md, "Eighth session". The test part is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import train_answerer as ta  # noqa: E402

from assistant.answer.scorer import FEATURES  # noqa: E402

BASELINE = "logistic"
# Fixed before any figure (docs/evaluation.md, "Eighth session"), never chosen on a result;
# the trees are train_answerer.HGB_PARAMS.
PRODUCTS = (("passage_signal", "coverage"), ("passage_signal", "similarity_max"),
            ("coverage", "similarity_max"), ("inverse_rank", "coverage"),
            ("statement", "passage_signal"), ("slot_filled", "passage_signal"))
# The bar: mean cost lower by this much, lower in this many deals, no category losing more
# than this many right answers (near_miss: gaining more false answers) at equal wrong answers.
BAR_COST, BAR_DEALS, BAR_CATEGORY = 6.0, 8, 1.0
FALSE = " (false)"  # the suffix of a category of unanswerable items: its false answers
WRONG_POINTS = (6, 9, 12, 16, 20)  # wrong answers at which every model's right ones are shown


def relative(x: Any, groups: Any) -> Any:
    """Each feature, and its value minus the best value among the same item's spans."""
    best = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        best[m] = x[m].max(axis=0)
    return np.hstack([x, x - best])


def interactions(x: Any, groups: Any) -> Any:
    """The features and the PRODUCTS of pairs of them."""
    cols = [x[:, FEATURES.index(a)] * x[:, FEATURES.index(b)] for a, b in PRODUCTS]
    return np.hstack([x, np.column_stack(cols)])


MODELS: dict[str, tuple[Callable[[Any, Any], Any] | None, Callable[[Any, Any, Any], Any]]] = {
    BASELINE: (None, ta.logistic_scores),
    "hgb": (None, ta.hgb_scores),
    "lr_relative": (relative, ta.logistic_scores),
    "lr_interactions": (interactions, ta.logistic_scores),
}


def best_spans(probs: Any, y: Any, groups: Any) -> dict[int, tuple[float, int, bool]]:
    """Per item: its best span's probability and label, and whether it has a right span."""
    best: dict[int, tuple[float, int, bool]] = {}
    for p, lab, g in zip(probs, y, groups, strict=True):
        g = int(g)
        has = bool(lab) or (g in best and best[g][2])
        if g not in best or p > best[g][0]:
            best[g] = (float(p), int(lab), has)
        else:
            best[g] = (best[g][0], best[g][1], has)
    return best


def per_category(best: dict[int, tuple[float, int, bool]], data: dict[str, Any],
                 threshold: float) -> dict[str, int]:
    """Right answers per category of answerable items; false answers per category of
    unanswerable ones (named "<category> (false)")."""
    out: dict[str, int] = {}
    for g, meta in enumerate(data["items"]):
        cat = (meta["category"] or "known") + ("" if meta["answerable"] else FALSE)
        out.setdefault(cat, 0)
        p, lab, _ = best.get(g, (0.0, 0, False))
        if meta["answerable"]:
            out[cat] += int(p >= threshold and lab == 1)
        else:
            out[cat] += int(p >= threshold)
    return out


def evaluate(name: str, x: Any, y: Any, groups: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The model's deals: the mean cost curve, its threshold and each deal's figures."""
    transform, scores = MODELS[name]
    xm = transform(x, groups) if transform else x
    deals = [ta._one_deal(xm, y, groups, data["answerable"], seed, scores)
             for seed in range(ta.REPEATS)]
    curve = [{k: float(np.mean([d[3][i][k] for d in deals])) for k in deals[0][3][i]}
             for i in range(len(deals[0][3]))]
    bests = [best_spans(d[2], y, groups) for d in deals]
    first = [sum(1 for p, lab, has in b.values() if has and lab == 1) for b in bests]
    chosen = min(range(len(curve)), key=lambda i: curve[i]["cost"])
    return {"name": name, "curve": curve, "deals": deals, "bests": bests, "chosen": chosen,
            "deal_costs": [d[3][chosen]["cost"] for d in deals],
            "right_first": float(np.mean(first)),
            "with_right_span": sum(1 for h in (b[2] for b in bests[0].values()) if h)}


def at(res: dict[str, Any], i: int, data: dict[str, Any]) -> dict[str, Any]:
    """Mean figures over the deals at the threshold of curve index ``i``."""
    c = res["curve"][i]
    cats: dict[str, float] = {}
    for b in res["bests"]:
        for k, v in per_category(b, data, c["threshold"]).items():
            cats[k] = cats.get(k, 0.0) + v / len(res["bests"])
    return {"threshold": c["threshold"], "answered": c["answered"], "wrong": c["wrong"],
            "right": c["answered"] - c["wrong"], "cost": c["cost"],
            "false_answers": c["false_answers"], "categories": cats}


def judge(base: dict[str, Any], cand: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The candidate against the bar."""
    b_at = at(base, base["chosen"], data)
    c_eq = at(cand, at_most_wrong(cand, b_at["wrong"]), data)
    lower = sum(c < b for c, b in zip(cand["deal_costs"], base["deal_costs"], strict=True))
    gain = float(np.mean(base["deal_costs"]) - np.mean(cand["deal_costs"]))
    # a loss: fewer right answers, or more false answers to a category of unanswerable items
    losses = {k: (c_eq["categories"].get(k, 0.0) - v) if k.endswith(FALSE)
              else (v - c_eq["categories"].get(k, 0.0)) for k, v in b_at["categories"].items()}
    checks = {"cost": gain >= BAR_COST, "deals": lower >= BAR_DEALS,
              "right_at_equal_wrong": c_eq["right"] > b_at["right"],
              "categories": max(losses.values()) <= BAR_CATEGORY}
    return {"cost_gain": gain, "deals_lower": lower, "at_equal_wrong": c_eq,
            "category_losses": losses, "checks": checks, "clears": all(checks.values())}


def at_most_wrong(res: dict[str, Any], wrong: float) -> int:
    """The curve index of the lowest threshold whose mean wrong answers are at most ``wrong``."""
    return next((i for i, c in enumerate(res["curve"]) if c["wrong"] <= wrong + 1e-9),
                len(res["curve"]) - 1)


def report(results: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    base = results[0]
    out = {}
    cats = sorted(at(base, base["chosen"], data)["categories"])
    print(f"{'model':16s} thr  mean cost (deals)                          right/wrong  "
          f"right first  | at baseline's wrong: thr right/wrong  " + " ".join(cats))
    for res in results:
        own = at(res, res["chosen"], data)
        row = {"threshold": own["threshold"], "mean_cost": float(np.mean(res["deal_costs"])),
               "deal_costs": res["deal_costs"], "right": own["right"], "wrong": own["wrong"],
               "right_first": res["right_first"], "with_right_span": res["with_right_span"],
               "categories": own["categories"]}
        verdict = judge(base, res, data) if res is not base else None
        eq = verdict["at_equal_wrong"] if verdict else own
        row["at_baseline_wrong"] = eq
        costs = " ".join(f"{c:.0f}" for c in res["deal_costs"])
        print(f"{res['name']:16s} {own['threshold']:.2f} {row['mean_cost']:6.1f} ({costs}) "
              f"{own['right']:5.1f}/{own['wrong']:4.1f}  {res['right_first']:5.1f}/"
              f"{res['with_right_span']}  | {eq['threshold']:.2f} {eq['right']:5.1f}/"
              f"{eq['wrong']:4.1f} " + " ".join(f"{eq['categories'].get(k, 0):.1f}"
                                                for k in cats))
        if verdict:
            row["verdict"] = {k: v for k, v in verdict.items() if k != "at_equal_wrong"}
            worst = max(verdict["category_losses"].items(), key=lambda kv: kv[1])
            print(f"{'':16s} gain {verdict['cost_gain']:+.1f}, lower in "
                  f"{verdict['deals_lower']}/{ta.REPEATS} deals, worst category {worst[0]} "
                  f"{-worst[1]:+.1f}, bar: {verdict['checks']} -> "
                  f"{'CLEARS' if verdict['clears'] else 'does not clear'}")
        row["at_most_wrong"] = {w: at(res, at_most_wrong(res, w), data) for w in WRONG_POINTS}
        for w, a in row["at_most_wrong"].items():
            print(f"{'':16s} at most {w:2d} wrong: thr {a['threshold']:.2f} {a['right']:5.1f}/"
                  f"{a['wrong']:4.1f} " + " ".join(f"{a['categories'].get(k, 0):.1f}"
                                                   for k in cats))
        out[res["name"]] = row
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", required=True, metavar="FILE.pickle",
                    help="the tuning items' retrievals (train_answerer.py --cache makes it)")
    ap.add_argument("--ranker-cache", metavar="FILE.pickle",
                    help="the candidate rows scripts/train_ranker.py --cache kept (same index)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help=f"comma-separated, the first is the baseline ({', '.join(MODELS)})")
    ap.add_argument("--json", metavar="FILE", help="write the table here too")
    args = ap.parse_args()
    from assistant.config import Settings

    found, signal = ta.tuning_retrievals(Settings(), "auto", args.cache, args.ranker_cache)
    data = ta.collect(found, signal)
    x = np.asarray(data["rows"], dtype=np.float64)
    y = np.asarray(data["labels"])
    groups = np.asarray(data["groups"])
    print(f"{len(y)} spans of {len(data['items'])} items ({int(y.sum())} positive); signal "
          f"{signal}; {ta.REPEATS} deals of {ta.FOLDS} folds")
    results = [evaluate(name, x, y, groups, data) for name in args.models.split(",")]
    table = report(results, data)
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
