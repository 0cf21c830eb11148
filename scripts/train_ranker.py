"""Train the learned ranker (assistant/ranker.json) from the tune part of the Q&A sets.

    pip install -e '.[train]'          # scikit-learn: needed to train, not to run
    assistant ingest                   # the bundled corpus, with the default embedding model
    python scripts/train_ranker.py     # grouped cross-validation table, then writes the model

Training rows: every candidate of the first stage's ``rerank_depth`` list for each answerable
tune question (relevant = holds a gold quote, as the evaluation counts it) and for synthetic
questions made from the corpus's sentences (relevant = holds that sentence). Models and feature
sets are chosen by grouped cross-validation over the tune questions (a question's rows stay in
one fold); the test part is never read.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import assistant  # noqa: E402,F401  (offline settings)
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.metrics import is_relevant  # noqa: E402
from assistant.evaluation.qa import QAItem, load_qa, select_split  # noqa: E402
from assistant.evaluation.run import default_sets  # noqa: E402
from assistant.retrieve.hybrid import HybridRetriever  # noqa: E402
from assistant.retrieve.rerank import FEATURES, MODEL_PATH, Ranker, feature_rows  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.text import STOPWORDS, normalize, sentence_spans, stem, words  # noqa: E402

SYNTHETIC_PER_PASSAGE = 2
SYNTHETIC_WORDS = 4  # content words a synthetic question keeps from its sentence
FOLDS = 5
# The features of the first shipped model (before the block, lead-in and other-language ones).
FIRST_MODEL = FEATURES[: FEATURES.index("sentence_top3")]
FIRST_STAGE = ("fused", "fused_rank", "dense", "dense_gap", "sentence", "sentence_gap", "bm25")


@dataclass
class Group:
    """One question's candidate rows and their labels."""

    qid: str
    query: str
    rows: Any  # float matrix, one row per candidate (first-stage order)
    labels: Any  # 0/1 per row
    synthetic: bool
    category: str = "synthetic"


def standalone(item: QAItem) -> str:
    """The question as the assistant reads it (a follow-up resolved by the rule-based step)."""
    if not item.history:
        return item.question
    from assistant.answer.questions import condense_rule_based

    return condense_rule_based(item.question, list(item.history))


def tune_items(settings: Settings) -> list[QAItem]:
    items = [it for path in default_sets(settings) for it in load_qa(path, settings)]
    return [it for it in select_split(items, "tune") if it.answerable and it.split == "tune"]


def group_of(retriever: HybridRetriever, qid: str, query: str, relevant: Any,
             synthetic: bool, category: str = "synthetic") -> Group | None:
    first = retriever.first_stage(query)
    cands = first.candidates(retriever.settings.rerank_depth)
    if not cands:
        return None
    rows = feature_rows(query, cands, no_terms=not first.terms.known)
    labels = np.asarray([1 if relevant(c.passage) else 0 for c in cands])
    return Group(qid, query, rows, labels, synthetic, category)


def synthetic_questions(retriever: HybridRetriever, seed: int = 0) -> list[tuple[str, str, str]]:
    """(id, question, sentence) made from the corpus: a sentence's rarest words, in order,
    behind a question word that fits what the sentence holds."""
    rng = random.Random(seed)
    lex = retriever.lexicon()
    idf = lex.bm25.idf
    out = []
    for p in lex.passages:
        spans = [(a, b) for a, b in sentence_spans(p.text) if 60 <= b - a <= 400]
        for a, b in rng.sample(spans, min(SYNTHETIC_PER_PASSAGE, len(spans))):
            sent = p.text[a:b]
            ws = list(dict.fromkeys(w for w in words(sent) if w not in STOPWORDS and len(w) > 2
                                    and not w.isdigit()))
            if len(ws) < SYNTHETIC_WORDS:
                continue
            rare = sorted(ws, key=lambda w: -idf.get(stem(w), 0.0))[: SYNTHETIC_WORDS + 2]
            keep = set(rng.sample(rare, SYNTHETIC_WORDS))
            phrase = " ".join(w for w in ws if w in keep)
            if re.search(r"\d+(?:[.,]\d+)?\s*%|\b\d+\b", sent) and rng.random() < 0.5:
                q = f"How many {phrase}?"
            elif re.search(r":\s*$", sent):
                q = f"What are the {phrase}?"
            else:
                q = f"What about {phrase}?"
            out.append((f"syn-{p.id[:8]}-{a}", q, sent))
    return out


def build_groups(retriever: HybridRetriever, items: Sequence[QAItem],
                 synthetic: bool = True) -> list[Group]:
    groups = []
    for it in items:
        g = group_of(retriever, it.id, standalone(it),
                     lambda p, it=it: is_relevant(p, it.sources), False, it.category)
        if g is not None:
            groups.append(g)
    if synthetic:
        for qid, q, sent in synthetic_questions(retriever):
            ns = normalize(sent)
            g = group_of(retriever, qid, q, lambda p, ns=ns: ns in normalize(p.text), True)
            if g is not None and g.labels.any():
                groups.append(g)
    return groups


def groups_cached(settings: Settings, cache: Path | None = None) -> list[Group]:
    """The tune and synthetic groups, read from ``cache`` when it exists (same index and
    code), else built (and saved there)."""
    if cache and cache.exists():
        return [Group(*fields) for fields in pickle.loads(cache.read_bytes())]
    groups = build_groups(HybridRetriever(Index(settings), settings), tune_items(settings))
    if cache:
        cache.write_bytes(pickle.dumps([(g.qid, g.query, g.rows, g.labels, g.synthetic,
                                         g.category) for g in groups]))
    return groups


# -- models -----------------------------------------------------------------------------------
def columns(features: Sequence[str]) -> list[int]:
    return [FEATURES.index(f) for f in features]


def fit(kind: str, groups: Sequence[Group], features: Sequence[str] = FEATURES,
        synthetic_weight: float = 1.0) -> Any:
    """A fitted scikit-learn classifier (logistic regression or gradient-boosted trees)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.vstack([g.rows for g in groups])[:, columns(features)]
    y = np.concatenate([g.labels for g in groups])
    w = np.concatenate([np.full(len(g.labels), synthetic_weight if g.synthetic else 1.0)
                        for g in groups])
    if kind == "lr":
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        model.fit(X, y, logisticregression__sample_weight=w)
    elif kind == "lambdarank":  # LightGBM's LambdaRank: rows grouped by question, in order
        from lightgbm import LGBMRanker

        model = LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.05,
                           num_leaves=15, min_child_samples=20, subsample=0.8, subsample_freq=1,
                           colsample_bytree=0.8, random_state=0, verbose=-1)
        model.fit(X, y, group=[len(g.labels) for g in groups])
    else:
        model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                               max_leaf_nodes=15, random_state=0)
        model.fit(X, y, sample_weight=w)
    return model


def scores(model: Any, g: Group, features: Sequence[str] = FEATURES) -> Any:
    x = g.rows[:, columns(features)]
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.predict(x)  # a ranker's scores: only their order counts


def ranks(groups: Sequence[Group], score_of: Any) -> list[int | None]:
    """1-based rank of the first relevant candidate per group under ``score_of(group)``."""
    out: list[int | None] = []
    for g in groups:
        order = np.argsort(-score_of(g), kind="stable")
        hits = [i for i, j in enumerate(order, 1) if g.labels[j]]
        out.append(hits[0] if hits else None)
    return out


def summary(rs: Sequence[int | None]) -> dict[str, float]:
    n = len(rs) or 1
    return {"hit@1": sum(r == 1 for r in rs) / n,
            "hit@5": sum(r is not None and r <= 5 for r in rs) / n,
            "mrr": sum(1 / r for r in rs if r) / n}


CONFIGS: dict[str, dict[str, Any]] = {
    "lr, tune questions only": {"kind": "lr", "synthetic": False},
    "lr, tune + synthetic": {"kind": "lr", "synthetic": True},
    "lr, tune + synthetic, first-stage features only": {
        "kind": "lr", "synthetic": True, "features": FIRST_STAGE},
    "gradient-boosted trees, tune + synthetic": {"kind": "hgb", "synthetic": True},
    "LightGBM LambdaRank, tune + synthetic": {"kind": "lambdarank", "synthetic": True},
    "LightGBM LambdaRank, tune questions only": {"kind": "lambdarank", "synthetic": False},
    "lr, tune + synthetic, the first model's 25 features": {
        "kind": "lr", "synthetic": True, "features": FIRST_MODEL},
    "lr, tune questions only, the first model's 25 features": {
        "kind": "lr", "synthetic": False, "features": FIRST_MODEL},
    "lr, tune + synthetic at weight 0.3": {"kind": "lr", "synthetic": True, "weight": 0.3},
}
CHOSEN = "lr, tune questions only"


def cross_validate(groups: Sequence[Group], folds: int = FOLDS,
                   configs: Sequence[str] = tuple(CONFIGS),
                   ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    """Grouped k-fold over the tune questions: hit@1, hit@5, MRR of each config on held-out
    questions (synthetic rows are always in training, never scored), overall and as
    "hit@5 / MRR" per category."""
    real = [g for g in groups if not g.synthetic]
    synth = [g for g in groups if g.synthetic]
    fold_of = {g.qid: i % folds for i, g in enumerate(sorted(real, key=lambda g: g.qid))}
    first = dict(zip((g.qid for g in real), ranks(real, lambda g: g.rows[:, 1]), strict=True))
    got = {"first stage (fused order)": first}
    for name in configs:
        cfg = CONFIGS[name]
        if cfg["kind"] == "lambdarank" and importlib.util.find_spec("lightgbm") is None:
            print(f"{name}: not run (pip install lightgbm==4.7.0)", file=sys.stderr)
            continue
        feats = cfg.get("features", FEATURES)
        rs: dict[str, int | None] = {}
        for k in range(folds):
            held = [g for g in real if fold_of[g.qid] == k]
            train = [g for g in real if fold_of[g.qid] != k] + (synth if cfg["synthetic"] else [])
            model = fit(cfg["kind"], train, feats, cfg.get("weight", 1.0))
            rs.update(zip((g.qid for g in held), ranks(
                held, lambda g, model=model, feats=feats: scores(model, g, feats)), strict=True))
        got[name] = rs
    cats = sorted({g.category for g in real})
    overall = {name: summary(list(rs.values())) for name, rs in got.items()}
    per_cat = {name: {c: "{hit@5:.2f} / {mrr:.2f}".format(**summary(
        [rs[g.qid] for g in real if g.category == c])) for c in cats} for name, rs in got.items()}
    return overall, per_cat


def fold_models(groups: Sequence[Group], folds: int = FOLDS) -> dict[str, Ranker]:
    """For each tune question, the chosen model trained without its fold (for the benchmark's
    cross-validated tune figures)."""
    real = [g for g in groups if not g.synthetic]
    synth = [g for g in groups if g.synthetic]
    fold_of = {g.qid: i % folds for i, g in enumerate(sorted(real, key=lambda g: g.qid))}
    cfg = CONFIGS[CHOSEN]
    out = {}
    for k in range(folds):
        train = [g for g in real if fold_of[g.qid] != k] + (synth if cfg["synthetic"] else [])
        ranker = Ranker(chosen_model(train))
        out.update({g.qid: ranker for g in real if fold_of[g.qid] == k})
    return out


def chosen_model(groups: Sequence[Group], cv: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CHOSEN configuration fitted on ``groups`` (its synthetic groups dropped when it
    trains on tune questions only), as the JSON that Ranker reads."""
    cfg = CONFIGS[CHOSEN]
    train = [g for g in groups if cfg["synthetic"] or not g.synthetic]
    return export(fit(cfg["kind"], train, cfg.get("features", FEATURES),
                      cfg.get("weight", 1.0)), train, cv)


def export(model: Any, groups: Sequence[Group], cv: dict[str, Any] | None = None) -> dict[str, Any]:
    """The logistic regression as the JSON that assistant.rerank.Ranker reads."""
    scaler, lr = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    return {
        "model": "logistic regression (scikit-learn, standardised features)",
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scaler.scale_],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
        "tune_questions": sum(not g.synthetic for g in groups),
        "synthetic_questions": sum(g.synthetic for g in groups),
        "rows": int(sum(len(g.labels) for g in groups)),
        "cross_validation": cv or {},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="model file to write")
    ap.add_argument("--no-write", action="store_true", help="only print the comparison")
    ap.add_argument("--chosen-only", action="store_true",
                    help="cross-validate only the chosen configuration (quicker)")
    ap.add_argument("--cache", metavar="FILE.pickle",
                    help="keep the candidate rows here and reuse them (same index and code)")
    args = ap.parse_args()
    groups = groups_cached(Settings(), Path(args.cache) if args.cache else None)
    real = [g for g in groups if not g.synthetic]
    print(f"{len(real)} tune questions, {len(groups) - len(real)} synthetic, "
          f"{sum(len(g.labels) for g in groups)} rows", file=sys.stderr)
    cv, per_cat = cross_validate(groups, configs=[CHOSEN] if args.chosen_only else CONFIGS)
    print(f"| grouped {FOLDS}-fold CV on the tune part ({len(real)} questions) | hit@1 | hit@5 "
          "| MRR |")
    print("|---|---|---|---|")
    for name, m in cv.items():
        print(f"| {name} | {m['hit@1']:.2f} | {m['hit@5']:.2f} | {m['mrr']:.2f} |")
    cats = list(next(iter(per_cat.values())))
    counts = {c: sum(g.category == c for g in real) for c in cats}
    print("\nhit@5 / MRR by category (same cross-validation)\n")
    print("| config | " + " | ".join(f"{c} (n={counts[c]})" for c in cats) + " |")
    print("|---|" + "---|" * len(cats))
    for name, row in per_cat.items():
        print(f"| {name} | " + " | ".join(row[c] for c in cats) + " |")
    if args.no_write:
        return 0
    model = chosen_model(groups, {name: {k: round(v, 3) for k, v in m.items()}
                                  for name, m in cv.items()})
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({CHOSEN})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
