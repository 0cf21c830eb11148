"""Train the answer model (assistant/answer/answerer.json) on the tuning part only.

    pip install -e '.[train]'            # scikit-learn, for this script only
    assistant ingest                     # the bundled corpus, with the default embedding model
    python scripts/train_answerer.py     # writes assistant/answer/answerer.json

For every item of the bundled Q&A sets with "split": "tune" (corpus/eval/known_qa.jsonl,
user_qa.jsonl and tune_qa.jsonl), the question is asked as the assistant asks it (follow-up
resolved, retrieval with the configured k), and every span of the evidence passages becomes
one row: its features (``assistant.answer.scorer.FEATURES``) and its label, 1 when the span
holds at least half of the item's facts (the evaluation's own bar for a correct answer), else
0. Items that cannot be answered (near-miss and out-of-scope questions) give only negatives.

The model is a standardised logistic regression. Its probabilities are calibrated by Platt
scaling fitted on cross-validated scores (folds by item, so no item scores itself). The
threshold is chosen on the same cross-validated probabilities, one decision per item (its best
span), averaged over REPEATS seeded deals of the items into folds (one deal's minimum moves with
the draw): it minimises FALSE_ANSWER_COST × wrong answers + needless refusals, where a wrong answer
is an answer to an unanswerable item or a best span without the facts, and a needless refusal
is an item whose best span holds the facts but stays below the threshold. The test part and
any blind set are never read.

The reranker was trained on the same tune questions, so its relevance is too sure of them. The
answer model must learn from relevance as it is on questions the reranker never saw: each
answerable tune item is retrieved with the reranker trained without its fold (cross-fitting,
``--no-cross-fit`` to skip). The same relevance chooses ``none_below`` (outcome ``none`` when
every passage's relevance is below it): the floor whose unanswerable tune items caught
outweigh FALSE_NONE_COST × the answerable ones denied, at most NONE_BUDGET of them (a question
in another language than the passages is left out: the floor does not apply to it,
abstain.across_languages). ``--none-floor-only`` chooses the floor again and leaves the model's
weights and threshold as they are.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FALSE_ANSWER_COST = 2.0  # a verified-looking wrong answer costs two needless refusals
NONE_BUDGET = 0.02  # share of answerable tune items `none_below` may turn into `none`
# "The documents do not seem to speak of this" for a question they answer is a confident wrong
# statement, like a false answer; `evidence` for an unanswerable one is a hedge (the closest
# passage, labelled "may not answer"). So one answerable item denied must be outweighed by two
# unanswerable ones caught (a trial saw two core questions denied, 2026-11-30).
FALSE_NONE_COST = FALSE_ANSWER_COST
FOLDS = 5
REPEATS = 10  # seeded deals of the items into folds; the threshold minimises their mean cost
C = 1.0  # inverse regularisation strength of the logistic regression (scikit-learn default)
# The gradient-boosted trees of ``--model trees`` (fixed before any figure,
# docs/evaluation.md, "Eighth session"; scripts/compare_answer_models.py compares them).
HGB_PARAMS = {"max_depth": 3, "max_iter": 150, "learning_rate": 0.05, "min_samples_leaf": 30,
              "l2_regularization": 1.0, "early_stopping": False, "random_state": 0}


def fold_rankers(settings: Any, cache: Path | None = None) -> dict[str, Any]:
    """For each answerable tune item, the reranker trained without the item's fold (the
    configuration scripts/train_ranker.py ships; ``cache``: its ``--cache`` file)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_ranker

    return train_ranker.fold_models(train_ranker.groups_cached(settings, cache))


def retrieve_all(settings: Any, rankers: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each tuning item, read and retrieved as the assistant does (None: rules decline it),
    with the item's own reranker when ``rankers`` has one (cross-fitting)."""
    from assistant.answer import Assistant, abstain
    from assistant.answer.questions import check_question
    from assistant.evaluation.qa import load_qa
    from assistant.evaluation.run import default_sets
    from assistant.retrieve.rerank import load_ranker

    items = [it for path in default_sets(settings) for it in load_qa(path, settings)
             if it.split == "tune"]
    a = Assistant(settings)
    shipped = load_ranker()
    out = []
    for it in items:
        a.retriever.ranker = (rankers or {}).get(it.id, shipped)
        info = a.read_question(check_question(it.question, settings), list(it.history))
        retrieval = a.retriever.retrieve(info.standalone, k=settings.k)
        stop = abstain.before_answering(info, retrieval)
        out.append({"item": it, "info": info, "retrieval": None if stop else retrieval,
                    "top_relevance": floor_input(info, retrieval, stop is not None)})
    return out


def floor_input(info: Any, retrieval: Any, declined: bool) -> float | None:
    """The best relevance the `none` floor would judge the item by; None where the floor does
    not decide: the item is declined by an earlier rule (a name or no word the documents use,
    abstain.before_answering), or it is in another language than every passage
    (abstain.across_languages)."""
    from assistant.answer import abstain

    if declined or abstain.across_languages(info, retrieval):
        return None
    return max((sp.relevance for sp in retrieval.passages if sp.relevance is not None),
               default=None)


def choose_none_below(found: list[dict[str, Any]]) -> tuple[float, dict[str, int]]:
    """The relevance floor (steps of 0.01, at most NONE_BUDGET of the answerable items under
    it) with the largest gain: unanswerable items it turns into `none` minus FALSE_NONE_COST ×
    answerable ones; the lowest such floor, and what it does on the tune items. 0 (no floor)
    when no floor gains anything."""
    tops = [(f["top_relevance"], f["item"].answerable) for f in found
            if f["top_relevance"] is not None]
    n_ans = sum(a for _, a in tops) or 1
    best, stats, gain = 0.0, {"answerable_none": 0, "unanswerable_none": 0}, 0.0
    for i in range(1, 100):
        floor = i / 100
        ans_none = sum(1 for t, a in tops if a and t < floor)
        if ans_none / n_ans > NONE_BUDGET:
            break
        una_none = sum(1 for t, a in tops if not a and t < floor)
        if una_none - FALSE_NONE_COST * ans_none > gain:
            gain = una_none - FALSE_NONE_COST * ans_none
            best, stats = floor, {"answerable_none": ans_none, "unanswerable_none": una_none}
    return best, stats


def collect(found: list[dict[str, Any]], signal: str) -> dict[str, Any]:
    """Features, labels and item groups of every span of the tuning items."""
    from assistant.answer.scorer import span_features
    from assistant.answer.spans import build_spans
    from assistant.evaluation.metrics import has_fact

    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[int] = []
    item_meta = []
    for g, f in enumerate(found):
        it, info, retrieval = f["item"], f["info"], f["retrieval"]
        if retrieval is None:
            item_meta.append({"id": it.id, "answerable": it.answerable, "spans": 0,
                              "category": it.category})
            continue
        spans = [s for sp in retrieval.evidence for s in build_spans(sp)]
        feats = span_features(info, retrieval, spans, signal)
        n_pos = 0
        for span, row in zip(spans, feats, strict=True):
            share = (sum(has_fact(span.shown, fact) or has_fact(span.quote, fact)
                         for fact in it.facts) / len(it.facts)) if it.facts else 0.0
            label = int(it.answerable and share >= 0.5)
            n_pos += label
            rows.append(row)
            labels.append(label)
            groups.append(g)
        item_meta.append({"id": it.id, "answerable": it.answerable, "spans": len(spans),
                          "positives": n_pos, "category": it.category})
    return {"rows": rows, "labels": labels, "groups": groups, "items": item_meta,
            "answerable": {g: f["item"].answerable for g, f in enumerate(found)}}


def fit(rows: Any, labels: Any) -> tuple[Any, Any, Any]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=C, max_iter=2000)
    lr.fit((x - mean) / scale, labels)
    return mean, scale, lr


def decide_threshold(probs: Any, labels: Any, groups: Any,
                     answerable: dict[int, bool]) -> tuple[float, list[dict[str, float]]]:
    """The threshold that minimises the cost on cross-validated probabilities, and the
    precision/recall curve of ``answer`` against it (one decision per item)."""
    import numpy as np

    best: dict[int, tuple[float, int]] = {}
    for p, y, g in zip(probs, labels, groups, strict=True):
        if g not in best or p > best[g][0]:
            best[g] = (float(p), int(y))
    n_answerable = sum(answerable.values())
    curve = []
    choice, choice_cost = 1.0, float("inf")
    for t in np.round(np.arange(0.02, 0.99, 0.01), 2):
        answered = [(p, y, g) for g, (p, y) in best.items() if p >= t]
        right = sum(y for _, y, _ in answered)
        wrong = len(answered) - right
        refused = sum(y for p, y in best.values() if p < t)
        false_answers = sum(1 for _, _, g in answered if not answerable[g])
        cost = FALSE_ANSWER_COST * wrong + refused
        curve.append({"threshold": float(t), "precision": right / len(answered) if answered
                      else 1.0, "recall": right / n_answerable if n_answerable else 0.0,
                      "answered": len(answered), "wrong": wrong, "false_answers": false_answers,
                      "cost": cost})
        if cost < choice_cost:
            choice, choice_cost = float(t), cost
    return choice, curve


def cross_validated(x: Any, y: Any, groups: Any, answerable: dict[int, bool],
                    scores: Any = None) -> tuple[float, float, Any, float, list[dict[str, float]]]:
    """Platt's a and b, the calibrated cross-validated probabilities (folds by item), the
    threshold chosen on them and the curve.

    The cost curve is nearly flat around its minimum, so one fold assignment's minimum moves
    with the draw (reshuffles chose 0.51-0.66 on the same data). The items are therefore dealt
    into folds REPEATS times (seeded); each deal gets its own Platt fit and cost curve, and the
    threshold minimises the mean cost over the deals. a, b and the curve are the means; the
    probabilities returned are the first deal's (for the reliability table)."""
    import numpy as np

    deals = [_one_deal(x, y, groups, answerable, seed, scores or logistic_scores)
             for seed in range(REPEATS)]
    a = float(np.mean([d[0] for d in deals]))
    b = float(np.mean([d[1] for d in deals]))
    curve = [{k: round(float(np.mean([d[3][i][k] for d in deals])), 4)
              for k in deals[0][3][i]} for i in range(len(deals[0][3]))]
    best = min(curve, key=lambda c: c["cost"])  # the first (lowest) threshold on a tie
    choices = sorted(decide_threshold(d[2], y, groups, answerable)[0] for d in deals)
    print(f"threshold of each of the {REPEATS} deals: {choices}; of their mean cost: "
          f"{best['threshold']:.2f}")
    return a, b, deals[0][2], best["threshold"], curve


def hgb_scores(x_train: Any, y_train: Any, x_held: Any) -> Any:
    """Gradient-boosted trees (HGB_PARAMS) fitted on the training rows: their log-odds of the
    held rows."""
    return fit_trees(x_train, y_train).decision_function(x_held)


def fit_trees(rows: Any, labels: Any) -> Any:
    """One OpenMP thread: on a busy machine scikit-learn's threads spin while they wait for
    each other (the unit tests took 570 s at load 13 instead of 4 s), and one is fast enough."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return HistGradientBoostingClassifier(**HGB_PARAMS).fit(rows, labels)


def as_trees(model: Any, x: Any, y: Any) -> Any:
    """``model`` (the logistic one, with its calibration, threshold and meta) with the trees
    fitted on every row in place of its coefficients."""
    import dataclasses

    intercept, trees = export_trees(fit_trees(x, y))
    return dataclasses.replace(model, mean=(), scale=(), coef=(), intercept=intercept,
                               kind="trees", trees=tuple(trees),
                               meta=model.meta | {"hgb": HGB_PARAMS, "command":
                                                  "python scripts/train_answerer.py --model "
                                                  "trees"})


def export_trees(model: Any) -> tuple[float, list[dict[str, list[Any]]]]:
    """A fitted HistGradientBoostingClassifier (binary, numeric features) as the intercept and
    node arrays that assistant.answer.scorer.tree_sum reads."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not exported; give numeric features only")
        trees.append({"feature": nodes["feature_idx"].tolist(),
                      "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "value": nodes["value"].tolist(),
                      "leaf": nodes["is_leaf"].astype(int).tolist(),
                      "missing_left": nodes["missing_go_to_left"].astype(int).tolist()})
    return float(model._baseline_prediction.ravel()[0]), trees


def logistic_scores(x_train: Any, y_train: Any, x_held: Any) -> Any:
    """The logistic regression fitted on the training rows: its log-odds of the held rows."""
    mean, scale, lr = fit(x_train, y_train)
    return lr.decision_function((x_held - mean) / scale)


def _one_deal(x: Any, y: Any, groups: Any, answerable: dict[int, bool], seed: int,
              scores: Any = logistic_scores) -> tuple[float, float, Any, list[dict[str, float]]]:
    """One seeded deal of the items into FOLDS folds: Platt's a and b, the calibrated
    probabilities and the cost curve (``scores``: fit on training rows, score held rows)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    cv_scores = np.zeros(len(y))
    folds = GroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train, held in folds.split(x, y, groups):
        cv_scores[held] = scores(x[train], y[train], x[held])
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(cv_scores.reshape(-1, 1), y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    cv_probs = 1.0 / (1.0 + np.exp(-(a * cv_scores + b)))
    return a, b, cv_probs, decide_threshold(cv_probs, y, groups, answerable)[1]


def summary_line(curve: list[dict[str, float]], threshold: float) -> str:
    c = next(c for c in curve if c["threshold"] == threshold)
    return (f"threshold {threshold:.2f}: precision {c['precision']:.2f}, recall "
            f"{c['recall']:.2f}, {c['answered']:.1f} answered, {c['wrong']:.1f} wrong, "
            f"{c['false_answers']:.1f} to unanswerable items, cost {c['cost']:.1f}")


def by_category(probs: Any, labels: Any, groups: Any, data: dict[str, Any],
                threshold: float) -> str:
    """Per category at the threshold (one decision per item, its best span): answered right
    of the answerable items, and answers to unanswerable items."""
    best: dict[int, tuple[float, int]] = {}
    for p, y, g in zip(probs, labels, groups, strict=True):
        if g not in best or p > best[g][0]:
            best[g] = (float(p), int(y))
    rows: dict[str, list[int]] = {}
    for g, meta in enumerate(data["items"]):
        r = rows.setdefault(meta["category"], [0, 0, 0, 0])  # n, right, unanswerable, answered
        p, y = best.get(g, (0.0, 0))
        r[0] += 1
        if meta["answerable"]:
            r[1] += int(p >= threshold and y == 1)
        else:
            r[2] += 1
            r[3] += int(p >= threshold)
    return "  " + "; ".join(
        f"{c} {r[1]}/{r[0]} right" if r[2] == 0 else f"{c} {r[3]}/{r[2]} answered"
        for c, r in sorted(rows.items()))


def rewrite_none_floor(out: Path, found: list[dict[str, Any]]) -> int:
    """Choose ``none_below`` on the tune items' relevance; every other field of ``out`` kept."""
    model = json.loads(out.read_text(encoding="utf-8"))
    before = model.get("none_below")
    model["none_below"], stats = choose_none_below(found)
    model.setdefault("meta", {}).update({"none_on_tune": stats,
                                         "false_none_cost": FALSE_NONE_COST})
    out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"none below relevance {before} -> {model['none_below']:.2f}: {stats}; wrote {out}")
    return 0


def tuning_retrievals(settings: Any, signal: str, cache: str | None, ranker_cache: str | None,
                      cross_fit: bool = True) -> tuple[list[dict[str, Any]], str]:
    """The tuning items as retrieve_all gives them (read from ``cache`` when it exists, else
    retrieved and kept there) and the passage signal ("auto": the reranker's relevance when
    retrieval gives one, else the fused score)."""
    if signal == "auto":
        from assistant.answer import Assistant

        probe = Assistant(settings).retriever.retrieve("micro-credentials", k=1)
        has = bool(probe.passages) and getattr(probe.passages[0], "relevance", None) is not None
        signal = "relevance" if has else "fused"
    path = Path(cache) if cache else None
    if path and path.exists():
        return pickle.loads(path.read_bytes()), signal
    rankers = fold_rankers(settings, Path(ranker_cache) if ranker_cache else None) if (
        cross_fit and signal == "relevance") else None
    found = retrieve_all(settings, rankers)
    if path:
        path.write_bytes(pickle.dumps(found))
    return found, signal


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "assistant" / "answer" / "answerer.json"))
    ap.add_argument("--signal", choices=["auto", "fused", "relevance"], default="auto",
                    help="passage signal: the reranker's relevance when retrieval gives one "
                         "(auto), or the fused score")
    ap.add_argument("--no-cross-fit", action="store_true",
                    help="retrieve every item with the shipped reranker (its relevance is then "
                         "in-sample for the tune questions it was trained on)")
    ap.add_argument("--cache", metavar="FILE.pickle",
                    help="keep the tuning items' retrievals here and reuse them (same index)")
    ap.add_argument("--ranker-cache", metavar="FILE.pickle",
                    help="the candidate rows scripts/train_ranker.py --cache kept (same index)")
    ap.add_argument("--compare", action="store_true",
                    help="only print the cross-validated comparison of the feature sets")
    ap.add_argument("--model", choices=["logistic", "trees"], default="logistic",
                    help="the span model: a logistic regression, or gradient-boosted trees "
                         "(HGB_PARAMS) read with numpy")
    ap.add_argument("--none-floor-only", action="store_true",
                    help="choose none_below again; keep the model in --out as it is")
    args = ap.parse_args()
    import numpy as np

    from assistant.answer.scorer import FEATURES, AnswerModel
    from assistant.config import Settings

    settings = Settings()
    found, signal = tuning_retrievals(settings, args.signal, args.cache, args.ranker_cache,
                                      not args.no_cross_fit)
    if args.none_floor_only:
        return rewrite_none_floor(Path(args.out), found)
    data = collect(found, signal)
    x = np.asarray(data["rows"], dtype=np.float64)
    y = np.asarray(data["labels"])
    groups = np.asarray(data["groups"])
    if args.compare:
        first = FEATURES.index("list_asked")
        for name, cols in (("the first model's 24 features", list(range(first))),
                           (f"all {len(FEATURES)} features", list(range(len(FEATURES))))):
            *_, probs, t, crv = cross_validated(x[:, cols], y, groups, data["answerable"])
            print(f"{name}: " + summary_line(crv, t))
            print(by_category(probs, y, groups, data, t))
        return 0
    a, b, cv_probs, threshold, curve = cross_validated(
        x, y, groups, data["answerable"], hgb_scores if args.model == "trees" else None)
    none_below, none_stats = choose_none_below(found) if signal == "relevance" else (0.0, {})
    mean, scale, lr = fit(x, y)
    bins = np.linspace(0, 1, 6)
    reliability = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        m = (cv_probs >= lo) & (cv_probs < hi if hi < 1 else cv_probs <= hi)
        if m.any():
            reliability.append({"bin": [float(lo), float(hi)], "n": int(m.sum()),
                                "mean_probability": float(cv_probs[m].mean()),
                                "positive_share": float(y[m].mean())})
    model = AnswerModel(
        FEATURES, tuple(float(v) for v in mean), tuple(float(v) for v in scale),
        tuple(float(v) for v in lr.coef_[0]), float(lr.intercept_[0]), a, b, threshold,
        signal, none_below, meta={
            "trained_on": "tune split of corpus/eval/known_qa.jsonl, user_qa.jsonl and "
                          "tune_qa.jsonl",
            "cross_fitted_relevance": signal == "relevance" and not args.no_cross_fit,
            "none_budget": NONE_BUDGET, "none_on_tune": none_stats,
            "items": len(data["items"]), "spans": int(len(y)), "positives": int(y.sum()),
            "k": settings.k, "embedding_model": settings.embedding_model or "e5-small",
            "folds": FOLDS, "repeats": REPEATS, "C": C, "false_answer_cost": FALSE_ANSWER_COST,
            "cv_curve": curve, "cv_reliability": reliability,
            "command": "python scripts/train_answerer.py",
        })
    if args.model == "trees":
        model = as_trees(model, x, y)
    out = Path(args.out)
    out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"{len(y)} spans of {len(data['items'])} items ({int(y.sum())} positive); signal "
          f"{signal}; " + summary_line(curve, threshold) + " (cross-validated on tune); "
          f"none below relevance {none_below:.2f}: {none_stats}")
    print(by_category(cv_probs, y, groups, data, threshold))
    for name, w in sorted(zip(FEATURES, lr.coef_[0], strict=True), key=lambda t: -abs(t[1])):
        print(f"  {name:20s} {w:+.3f}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
