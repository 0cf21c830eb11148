"""Train the learned ranker (assistant/ranker.json) from the tune part of the Q&A sets.

    pip install -e '.[train]'          # scikit-learn: needed to train, not to run
    assistant ingest                   # the bundled corpus, with the default embedding model
    python scripts/train_ranker.py     # grouped cross-validation table, then writes the model

Training rows: every candidate of the first stage's ``rerank_depth`` list for each answerable
tune question (relevant = holds a gold quote, as the evaluation counts it) and for synthetic
questions made from the corpus's sentences (relevant = holds that sentence). Models and feature
sets are chosen by grouped cross-validation over the tune questions (a question's rows stay in
one fold); the test part is never read.

``--doc2query [FILE]`` adds the questions the local model wrote per passage
(corpus/doc2query/questions.jsonl, made by scripts/doc2query.py) as further training groups
(relevant = a passage with the text they were written from) and cross-validates the rows
"lr, tune + doc2query at weight W": those groups are in every training fold and never scored.
Measured and not kept: they lowered every figure (docs/notes-d2qrank.md).
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
from assistant.types import Passage  # noqa: E402
from scripts import doc2query  # noqa: E402

SYNTHETIC_PER_PASSAGE = 2
SYNTHETIC_WORDS = 4  # content words a synthetic question keeps from its sentence
FOLDS = 5
# The features of the first shipped model (before the block, lead-in and other-language ones).
FIRST_MODEL = FEATURES[: FEATURES.index("sentence_top3")]
FIRST_STAGE = ("fused", "fused_rank", "dense", "dense_gap", "sentence", "sentence_gap", "bm25")
DOC2QUERY = "doc2query"  # the category of a group made from a doc2query question
DOC2QUERY_WEIGHTS = (1.0, 0.5, 0.25)  # sample weight of a doc2query row, compared by CV


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


def doc2query_questions(path: Path) -> list[tuple[str, str, str]]:
    """(id, question, text key) for every question scripts/doc2query.py wrote in ``path``."""
    if not path.is_file():
        raise SystemExit(
            f"No doc2query questions at {path}. They are written by the local model: "
            "ASSISTANT_LLM_GGUF_PATH=/path/model.gguf python scripts/doc2query.py (about 45 min "
            "on 2 cores), or give the file: --doc2query FILE. Without --doc2query the trainer "
            "does not need them.")
    return [(f"d2q-{key[:12]}-{i}", q, key) for key, entry in sorted(doc2query.load(path).items())
            for i, q in enumerate(entry.questions)]


def written_from(key: str) -> Any:
    """Relevance of a doc2query question: the passage has the text it was written from."""
    return lambda p: doc2query.text_key(p.text) == key


def doc2query_groups(retriever: HybridRetriever, path: Path) -> list[Group]:
    """The doc2query questions as training groups (those whose passage is not among the
    candidates are dropped: they have no positive row)."""
    groups = []
    for qid, q, key in doc2query_questions(path):
        g = group_of(retriever, qid, q, written_from(key), True, DOC2QUERY)
        if g is not None and g.labels.any():
            groups.append(g)
    return groups


def gold_written(passages: Sequence[Passage], items: Sequence[QAItem],
                 questions: Sequence[tuple[str, str, str]]) -> tuple[int, int]:
    """How many doc2query questions, and how many of their passage texts, were written from a
    passage that is an item's gold passage (intended: the ranker learns those passages' words;
    counted so that the overlap is known)."""
    gold = {doc2query.text_key(p.text) for p in passages
            if any(is_relevant(p, it.sources) for it in items)}
    hit = [key for _, _, key in questions if key in gold]
    return len(hit), len(set(hit))


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


def groups_cached(settings: Settings, cache: Path | None = None,
                  doc2query_file: Path | None = None) -> list[Group]:
    """The tune and synthetic groups (and the doc2query ones when ``doc2query_file`` is
    given), read from ``cache`` when it holds them (same index and code), else built (and
    saved there)."""
    groups = ([Group(*fields) for fields in pickle.loads(cache.read_bytes())]
              if cache and cache.exists() else [])
    retriever = None
    if not groups:
        retriever = HybridRetriever(Index(settings), settings)
        groups = build_groups(retriever, tune_items(settings))
    if doc2query_file and not any(g.category == DOC2QUERY for g in groups):
        retriever = retriever or HybridRetriever(Index(settings), settings)
        groups += doc2query_groups(retriever, doc2query_file)
    if cache and retriever:
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
} | {f"lr, tune + doc2query at weight {w:g}": {"kind": "lr", "synthetic": False,
                                              "doc2query": True, "weight": w}
     for w in DOC2QUERY_WEIGHTS}
CHOSEN = "lr, tune questions only"


def extra_groups(groups: Sequence[Group], cfg: dict[str, Any]) -> list[Group]:
    """The synthetic groups a configuration trains on: the rule-made ones and/or doc2query's."""
    return [g for g in groups if g.synthetic and (
        cfg.get("doc2query", False) if g.category == DOC2QUERY else cfg["synthetic"])]


def folds_of(groups: Sequence[Group], cfg: dict[str, Any], folds: int = FOLDS,
             ) -> list[tuple[list[Group], list[Group]]]:
    """(training groups, held-out groups) per fold: the tune questions split by question id,
    every synthetic group the configuration uses in every training fold and never held out."""
    real = [g for g in groups if not g.synthetic]
    fold_of = {g.qid: i % folds for i, g in enumerate(sorted(real, key=lambda g: g.qid))}
    extra = extra_groups(groups, cfg)
    return [([g for g in real if fold_of[g.qid] != k] + extra,
             [g for g in real if fold_of[g.qid] == k]) for k in range(folds)]


def cross_validate(groups: Sequence[Group], folds: int = FOLDS,
                   configs: Sequence[str] = tuple(CONFIGS),
                   ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    """Grouped k-fold over the tune questions: hit@1, hit@5, MRR of each config on held-out
    questions (synthetic rows are always in training, never scored), overall and as
    "hit@1 / hit@5 / MRR" per category."""
    real = [g for g in groups if not g.synthetic]
    first = dict(zip((g.qid for g in real), ranks(real, lambda g: g.rows[:, 1]), strict=True))
    got = {"first stage (fused order)": first}
    has_d2q = any(g.category == DOC2QUERY for g in groups)
    for name in configs:
        cfg = CONFIGS[name]
        if cfg["kind"] == "lambdarank" and importlib.util.find_spec("lightgbm") is None:
            print(f"{name}: not run (pip install lightgbm==4.7.0)", file=sys.stderr)
            continue
        if cfg.get("doc2query") and not has_d2q:
            continue  # only with --doc2query
        feats = cfg.get("features", FEATURES)
        rs: dict[str, int | None] = {}
        for train, held in folds_of(groups, cfg, folds):
            model = fit(cfg["kind"], train, feats, cfg.get("weight", 1.0))
            rs.update(zip((g.qid for g in held), ranks(
                held, lambda g, model=model, feats=feats: scores(model, g, feats)), strict=True))
        got[name] = rs
    cats = sorted({g.category for g in real})
    overall = {name: summary(list(rs.values())) for name, rs in got.items()}
    per_cat = {name: {c: "{hit@1:.2f} / {hit@5:.2f} / {mrr:.2f}".format(**summary(
        [rs[g.qid] for g in real if g.category == c])) for c in cats} for name, rs in got.items()}
    return overall, per_cat


def fold_models(groups: Sequence[Group], folds: int = FOLDS) -> dict[str, Ranker]:
    """For each tune question, the chosen model trained without its fold (for the benchmark's
    cross-validated tune figures)."""
    out = {}
    for train, held in folds_of(groups, CONFIGS[CHOSEN], folds):
        ranker = Ranker(chosen_model(train))
        out.update({g.qid: ranker for g in held})
    return out


def chosen_model(groups: Sequence[Group], cv: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CHOSEN configuration fitted on ``groups`` (the synthetic groups it does not use
    dropped), as the JSON that Ranker reads."""
    cfg = CONFIGS[CHOSEN]
    train = [g for g in groups if not g.synthetic] + extra_groups(groups, cfg)
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
        "synthetic_questions": sum(g.synthetic and g.category != DOC2QUERY for g in groups),
        "doc2query_questions": sum(g.category == DOC2QUERY for g in groups),
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
                    help="keep the candidate rows here and reuse them (same index, code and "
                         "doc2query file)")
    ap.add_argument("--doc2query", nargs="?", type=Path, metavar="FILE", const=True,
                    help="also train on the questions scripts/doc2query.py wrote (default file: "
                         "corpus/doc2query/questions.jsonl) and cross-validate those rows")
    args = ap.parse_args()
    settings = Settings()
    d2q_file = doc2query.cache_path(settings) if args.doc2query is True else args.doc2query
    groups = groups_cached(settings, Path(args.cache) if args.cache else None, d2q_file)
    real = [g for g in groups if not g.synthetic]
    n_d2q = sum(g.category == DOC2QUERY for g in groups)
    print(f"{len(real)} tune questions, {len(groups) - len(real) - n_d2q} synthetic, {n_d2q} "
          f"doc2query, {sum(len(g.labels) for g in groups)} rows", file=sys.stderr)
    if d2q_file:
        questions = doc2query_questions(d2q_file)
        n_q, n_texts = gold_written(Index(settings).passages(), tune_items(settings), questions)
        print(f"doc2query: {len(questions)} questions, {len(questions) - n_d2q} dropped (their "
              f"passage is not among the {settings.rerank_depth} candidates); {n_q} written from "
              f"{n_texts} passage texts that are a tune question's gold passage", file=sys.stderr)
    configs = [n for n in CONFIGS if n == CHOSEN or not args.chosen_only
               or CONFIGS[n].get("doc2query")]
    cv, per_cat = cross_validate(groups, configs=configs)
    print(f"| grouped {FOLDS}-fold CV on the tune part ({len(real)} questions) | hit@1 | hit@5 "
          "| MRR |")
    print("|---|---|---|---|")
    for name, m in cv.items():
        print(f"| {name} | {m['hit@1']:.2f} | {m['hit@5']:.2f} | {m['mrr']:.2f} |")
    cats = list(next(iter(per_cat.values())))
    counts = {c: sum(g.category == c for g in real) for c in cats}
    print("\nhit@1 / hit@5 / MRR by category (same cross-validation)\n")
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
