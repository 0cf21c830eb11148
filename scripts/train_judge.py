"""Train verify mode's combined score (assistant/answer/judge.json) on the tuning part only.

    pip install -e '.[train]'                        # scikit-learn, for this script only
    ASSISTANT_LLM_BACKEND=llamacpp ASSISTANT_LLM_GGUF_PATH=qwen.gguf \\
        python scripts/train_judge.py --cache found.pickle --judge-cache judge.jsonl

verify mode asks the local model whether a span states the answer and reads its probability of
"yes" (the first token's logits, yes against no), not its argmax. That probability and the
answer model's are combined into one calibrated probability by a logistic regression on
[logit(answer model), logit(judge)], fitted on the tune items only:

- every tune item is read and retrieved as scripts/train_answerer.py does (the same cache, with
  the same cross-fitted reranker), and its spans get the answer model's cross-validated
  probability (folds by item, so no item scores itself);
- the judge sees the TOP_K spans with the highest such probability that reach FLOOR (after the
  asked-country rule); items the `none` floor or the rules decline and comparisons (answered per
  country by the answer model alone) are not judged;
- the combination is fitted with the same item folds, and its threshold minimises
  FALSE_ANSWER_COST x wrong answers + needless refusals on the cross-fitted probabilities.

It prints tune figures for the answer model alone, the judge alone and the combination (fact
recall, false answers, evidence recall, needless refusals) and, unless --compare, writes the
fit. The judge's replies are kept in --judge-cache (key: the prompt text), so no prompt is ever
sent twice. The test part and any blind set are never read.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_answerer  # noqa: E402  (a sibling script: retrieval, features, folds, cost)

TOP_K = 1  # spans judged per question (--top-k; one: a judge call took 3-7 s here)
FLOOR = 0.05  # a span below this answer-model probability is never judged
FOLDS = train_answerer.FOLDS
COST = train_answerer.FALSE_ANSWER_COST


def logit(p: float) -> float:
    from assistant.answer.judging import logit as _logit

    return _logit(p)


def item_spans(found: list[dict[str, Any]], signal: str) -> tuple[dict[str, Any], list[Any]]:
    """train_answerer's rows and labels, and for each row its span and fact share."""
    from assistant.answer.spans import build_spans
    from assistant.evaluation.metrics import has_fact

    data = train_answerer.collect(found, signal)
    extra = []
    for f in found:
        it, retrieval = f["item"], f["retrieval"]
        if retrieval is None:
            continue
        for span in (s for sp in retrieval.evidence for s in build_spans(sp)):
            share = (sum(has_fact(span.shown, fact) or has_fact(span.quote, fact)
                         for fact in it.facts) / len(it.facts)) if it.facts else 0.0
            extra.append((span, share if it.answerable else 0.0))
    assert len(extra) == len(data["labels"])
    return data, extra


def candidates(found: list[dict[str, Any]], data: dict[str, Any], extra: list[Any],
               probs: Any, none_below: float) -> dict[int, dict[str, Any]]:
    """Per item: its spans ordered as the assistant orders them, and which are judged."""
    from assistant.answer.core import asked_country_first
    from assistant.answer.scorer import ScoredSpan

    rows: dict[int, list[int]] = {}
    for i, g in enumerate(data["groups"]):
        rows.setdefault(int(g), []).append(i)
    out = {}
    for g, f in enumerate(found):
        info = f["info"]
        idx = rows.get(g, [])
        top = f["top_relevance"]
        declined = f["retrieval"] is None or (top is not None and top < none_below)
        scored = [ScoredSpan(extra[i][0], float(probs[i])) for i in idx]
        by_span = {id(s.span): i for s, i in zip(scored, idx, strict=True)}
        scored = sorted(asked_country_first(info, scored),
                        key=lambda x: (-x.probability, x.span.end - x.span.start))
        order = [by_span[id(s.span)] for s in scored]
        judged = [] if declined or info.both_countries else [
            i for i in order[:TOP_K] if probs[i] >= FLOOR]
        out[g] = {"order": [] if declined else order, "judged": judged,
                  "comparison": info.both_countries, "question": info.standalone,
                  "answerable": f["item"].answerable, "category": f["item"].category}
    return out


def ask_judge(items: dict[int, dict[str, Any]], extra: list[Any], cache: Path,
              limit: int | None) -> dict[int, float]:
    """The judge's P(yes) for every judged span (row index → probability), cached on disk."""
    import time

    from assistant.answer.grounded import Judge, JudgeCache
    from assistant.answer.llm import make_chat_model
    from assistant.config import Settings
    from assistant.prompts import load_prompt

    settings = Settings()
    prompt = load_prompt(settings.prompts_path, "verify", ("question", "quote"))
    judge = Judge(None, prompt, cache=JudgeCache(cache))
    todo = [(g, i) for g, it in items.items() for i in it["judged"]]
    out: dict[int, float] = {}
    t0, asked = time.perf_counter(), 0
    for n, (g, i) in enumerate(todo, 1):
        if limit is not None and asked >= limit and not judge.cached(
                items[g]["question"], extra[i][0].quote):
            continue
        if judge.llm is None and not judge.cached(items[g]["question"], extra[i][0].quote):
            judge.llm = make_chat_model(settings)
        before = judge.model_calls
        out[i] = judge.probability(items[g]["question"], extra[i][0].quote)
        asked += judge.model_calls - before
        if n % 25 == 0:
            print(f"  judged {n}/{len(todo)} ({asked} model calls, "
                  f"{time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def decide(items: dict[int, dict[str, Any]], score: dict[int, float], learned: Any,
           extra: list[Any], threshold: float, t_learned: float) -> dict[int, int | None]:
    """Per item the answered row (None: not answered). Judged items use ``score`` on their
    judged spans; comparisons use the answer model alone, as the assistant does."""
    out: dict[int, int | None] = {}
    for g, it in items.items():
        if it["comparison"] or not it["judged"]:
            best = it["order"][0] if it["order"] and it["comparison"] else None
            out[g] = best if best is not None and learned[best] >= t_learned else None
            continue
        best = max(it["judged"], key=lambda i: score[i])
        out[g] = best if score[best] >= threshold else None
    return out


def figures(items: dict[int, dict[str, Any]], answered: dict[int, int | None],
            score: dict[int, float], extra: list[Any], category: str | None = None
            ) -> dict[str, float]:
    """Fact recall, false answers, evidence recall, needless refusals (shares of items)."""
    sel = {g: it for g, it in items.items() if category in (None, it["category"])}
    ans = [g for g, it in sel.items() if it["answerable"]]
    una = [g for g, it in sel.items() if not it["answerable"]]

    def shown(g: int) -> int | None:
        a = answered[g]
        if a is not None:
            return a
        it = sel[g]
        if it["judged"] and not it["comparison"]:
            return max(it["judged"], key=lambda i: score[i])
        return it["order"][0] if it["order"] else None

    def share(i: int | None) -> float:
        return extra[i][1] if i is not None else 0.0

    recall = sum(share(answered[g]) for g in ans) / max(len(ans), 1)
    wrong = sum(1 for g in ans if answered[g] is not None and share(answered[g]) < 0.5)
    refused = sum(1 for g in ans if answered[g] is None and share(shown(g)) >= 0.5)
    return {"n": len(sel), "fact_recall": recall,
            "false_answers": sum(answered[g] is not None for g in una) / max(len(una), 1),
            "evidence_recall": sum(share(shown(g)) for g in ans) / max(len(ans), 1),
            "wrong_answers": wrong, "needless_refusals": refused,
            "cost": COST * (wrong + sum(answered[g] is not None for g in una)) + refused}


def choose_threshold(items: dict[int, dict[str, Any]], score: dict[int, float], learned: Any,
                     extra: list[Any], t_learned: float) -> float:
    """The threshold with the lowest cost on the tune items (steps of 0.01)."""
    best_t, best_cost = 1.0, float("inf")
    for k in range(2, 99):
        t = k / 100
        cost = figures(items, decide(items, score, learned, extra, t, t_learned), score,
                       extra)["cost"]
        if cost < best_cost:
            best_t, best_cost = t, cost
    return best_t


def fit_combination(items: dict[int, dict[str, Any]], judged: dict[int, float], learned: Any,
                    labels: Any) -> tuple[dict[int, float], Any]:
    """Cross-fitted combined probabilities (folds by item) and the fit on all judged rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    rows = sorted(judged)
    group_of = {i: g for g, it in items.items() for i in it["judged"]}
    x = np.asarray([[logit(learned[i]), logit(judged[i])] for i in rows])
    y = np.asarray([labels[i] for i in rows])
    groups = np.asarray([group_of[i] for i in rows])
    cv = np.zeros(len(rows))
    for train, held in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(x[train], y[train])
        cv[held] = lr.predict_proba(x[held])[:, 1]
    full = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return dict(zip(rows, (float(v) for v in cv), strict=True)), full


def table(name: str, f: dict[str, float], threshold: float) -> str:
    return (f"{name:28s} t={threshold:.2f}  fact recall {f['fact_recall']:.2f}  false answers "
            f"{f['false_answers']:.2f}  evidence recall {f['evidence_recall']:.2f}  needless "
            f"refusals {f['needless_refusals']:3d}  wrong {f['wrong_answers']:3d}  "
            f"cost {f['cost']:.0f}")


def main() -> int:
    global TOP_K, FLOOR
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", metavar="FILE.pickle", required=True,
                    help="the tuning items' retrievals (scripts/train_answerer.py --cache); made "
                         "here when missing")
    ap.add_argument("--judge-cache", metavar="FILE.jsonl", required=True,
                    help="the judge's P(yes) per prompt text, reused and extended")
    ap.add_argument("--out", default=str(ROOT / "assistant" / "answer" / "judge.json"))
    ap.add_argument("--compare", action="store_true", help="print the comparison, write nothing")
    ap.add_argument("--dry", action="store_true", help="count the spans to judge, ask nothing")
    ap.add_argument("--limit", type=int, help="ask the model at most this many new prompts")
    ap.add_argument("--top-k", type=int, default=TOP_K, help="spans judged per question")
    ap.add_argument("--floor", type=float, default=FLOOR,
                    help="answer-model probability below which a span is not judged")
    args = ap.parse_args()
    TOP_K, FLOOR = args.top_k, args.floor
    import numpy as np

    from assistant.answer.scorer import load_model
    from assistant.config import Settings

    settings = Settings()
    cache = Path(args.cache)
    if cache.exists():
        found = pickle.loads(cache.read_bytes())
    else:
        found = train_answerer.retrieve_all(settings, train_answerer.fold_rankers(settings))
        cache.write_bytes(pickle.dumps(found))
    model = load_model()
    data, extra = item_spans(found, model.signal)
    x = np.asarray(data["rows"], dtype=np.float64)
    y = np.asarray(data["labels"])
    *_, learned, t_cv, _ = train_answerer.cross_validated(x, y, np.asarray(data["groups"]),
                                                          data["answerable"])
    print(f"answer model, cross-validated on tune: threshold {t_cv:.2f} (shipped "
          f"{model.threshold:.2f})")
    t_learned = model.threshold
    items = candidates(found, data, extra, learned, model.none_below)
    n_judged = sum(len(it["judged"]) for it in items.values())
    reach = sum(1 for it in items.values() if it["answerable"] and any(
        extra[i][1] >= 0.5 for i in it["judged"]))
    print(f"{len(items)} tune items; {n_judged} spans to judge (top {TOP_K} at or above "
          f"{FLOOR}); answerable items with a right span among them: {reach}")
    if args.dry:
        return 0
    judged = ask_judge(items, extra, Path(args.judge_cache), args.limit)
    items = {g: {**it, "judged": [i for i in it["judged"] if i in judged]}
             for g, it in items.items()}
    combined, full = fit_combination(items, judged, learned, y)
    learned_score = {i: float(learned[i]) for i in range(len(y))}
    variants = {"answer model alone": (learned_score, t_learned)}
    for name, score in (("judge alone (top spans)", judged), ("combined (cross-fitted)",
                                                              combined)):
        variants[name] = (score, choose_threshold(items, score, learned, extra, t_learned))
    cats = sorted({it["category"] for it in items.values()})
    for name, (score, t) in variants.items():
        if name == "answer model alone":  # every span, as the extractive mode reads them
            ans = {g: (it["order"][0] if it["order"] and learned[it["order"][0]] >= t
                       else None) for g, it in items.items()}
            plain = {g: {**it, "judged": [], "comparison": True} for g, it in items.items()}
            f_all = figures(plain, ans, score, extra)
            per = {c: figures(plain, ans, score, extra, c) for c in cats}
        else:
            ans = decide(items, score, learned, extra, t, t_learned)
            f_all = figures(items, ans, score, extra)
            per = {c: figures(items, ans, score, extra, c) for c in cats}
        print(table(name, f_all, t))
        for c in cats:
            print("    " + table(c, per[c], t))
    if args.compare:
        return 0
    t_comb = variants["combined (cross-fitted)"][1]
    out = {"coef_answer_model": float(full.coef_[0][0]), "coef_judge": float(full.coef_[0][1]),
           "intercept": float(full.intercept_[0]), "threshold": t_comb, "top_k": TOP_K,
           "floor": FLOOR, "meta": {
               "trained_on": "tune split of the default Q&A sets (scripts/train_judge.py)",
               "judged_spans": len(judged), "false_answer_cost": COST, "folds": FOLDS,
               "prompt": "prompts/verify.md (verify-v2)",
               "model": Path(str(settings.llm_gguf_path)).name,
               "cv_tune": figures(items, decide(items, combined, learned, extra, t_comb,
                                                t_learned), combined, extra)}}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {out['coef_answer_model']:+.3f} logit(answer model) "
          f"{out['coef_judge']:+.3f} logit(judge) {out['intercept']:+.3f}; threshold {t_comb}")
    return 0 if math.isfinite(out["intercept"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
