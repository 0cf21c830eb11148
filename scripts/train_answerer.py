"""Train the answer model (assistant/answer/answerer.json) on the tuning part only.

    pip install -e '.[train]'            # scikit-learn, for this script only
    assistant ingest                     # the bundled corpus, with the default embedding model
    python scripts/train_answerer.py     # writes assistant/answer/answerer.json

For every item of corpus/eval/known_qa.jsonl and corpus/eval/user_qa.jsonl with "split":
"tune", the question is asked as the assistant asks it (follow-up resolved, retrieval with the
configured k), and every span of the evidence passages becomes one row: its features
(``assistant.answer.scorer.FEATURES``) and its label, 1 when the span holds at least half of
the item's facts (the evaluation's own bar for a correct answer), else 0. Items that cannot be
answered (near-miss and out-of-scope questions) give only negatives.

The model is a standardised logistic regression. Its probabilities are calibrated by Platt
scaling fitted on cross-validated scores (folds by item, so no item scores itself). The
threshold is chosen on the same cross-validated probabilities, one decision per item (its best
span): it minimises FALSE_ANSWER_COST × wrong answers + needless refusals, where a wrong answer
is an answer to an unanswerable item or a best span without the facts, and a needless refusal
is an item whose best span holds the facts but stays below the threshold. The test part and
any blind set are never read.
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
FOLDS = 5
C = 1.0  # inverse regularisation strength of the logistic regression (scikit-learn default)


def retrieve_all(settings: Any) -> list[dict[str, Any]]:
    """Each tuning item, read and retrieved as the assistant does (None: rules decline it)."""
    from assistant.answer import Assistant, abstain
    from assistant.answer.questions import check_question
    from assistant.evaluation.qa import load_qa
    from assistant.evaluation.run import default_sets

    items = [it for path in default_sets(settings) for it in load_qa(path, settings)
             if it.split == "tune"]
    a = Assistant(settings)
    out = []
    for it in items:
        info = a.read_question(check_question(it.question, settings), list(it.history))
        retrieval = a.retriever.retrieve(info.standalone, k=settings.k)
        stop = abstain.before_answering(info, retrieval)
        out.append({"item": it, "info": info, "retrieval": None if stop else retrieval})
    return out


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
            item_meta.append({"id": it.id, "answerable": it.answerable, "spans": 0})
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "assistant" / "answer" / "answerer.json"))
    ap.add_argument("--signal", choices=["auto", "fused", "relevance"], default="auto",
                    help="passage signal: the reranker's relevance when retrieval gives one "
                         "(auto), or the fused score")
    ap.add_argument("--cache", metavar="FILE.pickle",
                    help="keep the tuning items' retrievals here and reuse them (same index)")
    args = ap.parse_args()
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from assistant.answer.scorer import FEATURES, AnswerModel
    from assistant.config import Settings

    settings = Settings()
    signal = args.signal
    if signal == "auto":
        from assistant.answer import Assistant

        probe = Assistant(settings).retriever.retrieve("micro-credentials", k=1)
        has = bool(probe.passages) and getattr(probe.passages[0], "relevance", None) is not None
        signal = "relevance" if has else "fused"
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        found = pickle.loads(cache.read_bytes())
    else:
        found = retrieve_all(settings)
        if cache:
            cache.write_bytes(pickle.dumps(found))
    data = collect(found, signal)
    x = np.asarray(data["rows"], dtype=np.float64)
    y = np.asarray(data["labels"])
    groups = np.asarray(data["groups"])
    # Cross-validated scores (folds by item) for the calibration and the threshold.
    cv_scores = np.zeros(len(y))
    for train, held in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        mean, scale, lr = fit(x[train], y[train])
        cv_scores[held] = lr.decision_function((x[held] - mean) / scale)
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(cv_scores.reshape(-1, 1), y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    cv_probs = 1.0 / (1.0 + np.exp(-(a * cv_scores + b)))
    threshold, curve = decide_threshold(cv_probs, y, groups, data["answerable"])
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
        signal, meta={
            "trained_on": "tune split of corpus/eval/known_qa.jsonl and user_qa.jsonl",
            "items": len(data["items"]), "spans": int(len(y)), "positives": int(y.sum()),
            "k": settings.k, "embedding_model": settings.embedding_model or "e5-small",
            "folds": FOLDS, "C": C, "false_answer_cost": FALSE_ANSWER_COST,
            "cv_curve": curve, "cv_reliability": reliability,
            "command": "python scripts/train_answerer.py",
        })
    out = Path(args.out)
    out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    chosen = next(c for c in curve if c["threshold"] == threshold)
    print(f"{len(y)} spans of {len(data['items'])} items ({int(y.sum())} positive); signal "
          f"{signal}; threshold {threshold:.2f}: precision {chosen['precision']:.2f}, recall "
          f"{chosen['recall']:.2f}, {chosen['answered']} answered, {chosen['wrong']} wrong, "
          f"{chosen['false_answers']} to unanswerable items (cross-validated on tune)")
    for name, w in sorted(zip(FEATURES, lr.coef_[0], strict=True), key=lambda t: -abs(t[1])):
        print(f"  {name:20s} {w:+.3f}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
