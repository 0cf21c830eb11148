"""Rerankers compared: hit@1, hit@5, MRR and added latency, on the tune part and the test part.

    python scripts/train_ranker.py --no-write   # (optional) the model comparison on tune alone
    python benchmarks/rerank.py                 # needs the `train` extra (scikit-learn)
    ASSISTANT_LLM_BACKEND=llamacpp ASSISTANT_LLM_GGUF_PATH=... python benchmarks/rerank.py

Rows: the hybrid order (``rerank_depth=0``); the learned ranker (the shipped model) and, with
``--also CONFIG`` (a name from scripts/train_ranker.py's CONFIGS), other learned configurations
(gradient-boosted trees, LightGBM LambdaRank, fewer features); pseudo-relevance feedback on
the lexical side (RM3: ten expansion terms from the ten best passages, original terms weighted
0.5, the expanded BM25 list fused with the hybrid order by reciprocal rank); and, when a local
model is configured, a hypothetical answer sentence it writes, retrieved for and fused with the
question's own ranking by reciprocal rank. On the tune part the learned rows are 5-fold
cross-validated by question (each question ranked by a model trained without it); on the test
part they are trained on the whole tune part. Retrieval figures count the first 6 passages the
retriever returns, as ``assistant eval`` does. The model's texts are cached in
artifacts/rerank_llm.json. ``--doc2query N`` times the local model writing questions for N
passages and projects the cost for the whole index.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import assistant  # noqa: E402,F401  (offline settings)
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.metrics import is_relevant  # noqa: E402
from assistant.evaluation.qa import QAItem, load_qa  # noqa: E402
from assistant.evaluation.run import default_sets  # noqa: E402
from assistant.retrieve.fusion import diversify, trust_adjust  # noqa: E402
from assistant.retrieve.hybrid import FirstStage, HybridRetriever  # noqa: E402
from assistant.retrieve.rerank import FEATURES, load_ranker  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.text import tokens  # noqa: E402
from scripts.train_ranker import (  # noqa: E402
    CHOSEN,
    CONFIGS,
    FOLDS,
    Group,
    build_groups,
    columns,
    fit,
    fold_models,
    standalone,
)

K = 6  # passages the retriever returns in `assistant eval` (max(5, k) with k = 6)
RRF_K = 60
FB_DOCS, FB_TERMS, ORIGINAL_WEIGHT = 10, 10, 0.5  # RM3 as Anserini sets it by default
CACHE = ROOT / "artifacts" / "rerank_llm.json"
HYDE_PROMPT = (
    "Write one sentence, as it might appear in a policy report on micro-credentials in Armenia "
    "and Georgia, that answers the question. Write it in English. Invent plausible details if "
    "needed.\nQuestion: {q}\nSentence:"
)
DOC2QUERY_PROMPT = (
    "Write three short questions that this passage answers, one per line.\nPassage:\n{p}\n"
    "Questions:"
)


# -- the ways to order the candidates ---------------------------------------------------------
def top_k(retriever: HybridRetriever, first: FirstStage, order: Sequence[str]) -> list[Any]:
    """The k passages the retriever would return in this order (trust and diversity applied)."""
    n = len(order)
    key = {pid: -i / n for i, pid in enumerate(order)}
    adjusted = trust_adjust(key, first.by_id, retriever.settings, K)
    picked = diversify(sorted(adjusted, key=lambda p: -adjusted[p]), first.by_id, K,
                       retriever.settings.max_per_doc)
    return [first.by_id[pid] for pid in picked]


def rrf(*orders: Sequence[str]) -> list[str]:
    score: dict[str, float] = {}
    for order in orders:
        for r, pid in enumerate(order):
            score[pid] = score.get(pid, 0.0) + 1 / (RRF_K + r + 1)
    return sorted(score, key=lambda p: -score[p])


def rm3_order(first: FirstStage, fetch_k: int) -> list[str]:
    """The hybrid order fused with BM25 over the question plus RM3 expansion terms."""
    lex = first.lex
    idf = lex.bm25.idf
    weight: dict[str, float] = {}
    for pid in first.order[:FB_DOCS]:
        toks = tokens(first.by_id[pid].embed_text())
        for t in toks:
            weight[t] = weight.get(t, 0.0) + first.fused[pid] / len(toks)
    query = list(first.terms.expanded)
    extra = sorted((t for t in weight if t not in query and not t.isdigit()),
                   key=lambda t: -weight[t] * idf.get(t, 0.0))[:FB_TERMS]
    if not extra:
        return first.order
    top = max(weight[t] * idf.get(t, 0.0) for t in extra) or 1.0
    boost = {t: ORIGINAL_WEIGHT for t in query}
    boost.update({t: (1 - ORIGINAL_WEIGHT) * weight[t] * idf.get(t, 0.0) / top for t in extra})
    bm = lex.bm25.scores(query + extra, boost)
    ranked = sorted((i for i in range(len(bm)) if bm[i] > 0), key=lambda i: -bm[i])[:fetch_k]
    return rrf(first.order, [lex.passages[i].id for i in ranked])


class _Fitted:
    """A model fitted by scripts/train_ranker.py behind the Ranker interface (scikit-learn or
    LightGBM at run time), reading its own feature columns."""

    def __init__(self, model: Any, features: Sequence[str]) -> None:
        self.model = model
        self.cols = columns(features)

    def relevance(self, rows: Any) -> Any:
        x = rows[:, self.cols]
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(x)[:, 1]
        import numpy as np

        return 1.0 / (1.0 + np.exp(-self.model.predict(x)))  # a ranker's scores, kept in order


# -- the local model --------------------------------------------------------------------------
class LocalModel:
    """Texts the configured local model writes, cached by prompt."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache: dict[str, dict[str, Any]] = (
            json.loads(CACHE.read_text(encoding="utf-8")) if CACHE.exists() else {})
        self._llm: Any = None

    def write(self, kind: str, subject: str, prompt: str, max_tokens: int) -> tuple[str, float]:
        """The model's reply to ``prompt`` and the ms it took (cached by kind and subject)."""
        key = f"{kind}\x00{subject}"
        if key not in self.cache:
            if self._llm is None:
                os.environ.setdefault("OMP_WAIT_POLICY", "passive")
                from llama_cpp import Llama

                s = self.settings
                self._llm = Llama(model_path=str(s.llm_gguf_path), n_threads=s.llm_threads,
                                  n_ctx=1024, n_batch=256, verbose=False)
            t = time.perf_counter()
            out = self._llm.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                temperature=0.0)
            self.cache[key] = {"text": out["choices"][0]["message"]["content"].strip(),
                               "ms": (time.perf_counter() - t) * 1000}
            CACHE.parent.mkdir(exist_ok=True)
            CACHE.write_text(json.dumps(self.cache, ensure_ascii=False, indent=0),
                             encoding="utf-8")
        got = self.cache[key]
        return got["text"], got["ms"]


def hyde_order(retriever: HybridRetriever, llm: LocalModel, first: FirstStage,
               query: str) -> tuple[list[str], float]:
    text, ms = llm.write("hyde", query, HYDE_PROMPT.format(q=query), 60)
    t = time.perf_counter()
    second = retriever.first_stage(text)
    first.by_id.update(second.by_id)
    order = rrf(first.order, second.order)
    return order, ms + (time.perf_counter() - t) * 1000


# -- the table --------------------------------------------------------------------------------
def items_of(settings: Settings, split: str, paths: Sequence[Path] | None = None
             ) -> list[QAItem]:
    items = [it for path in paths or default_sets(settings) for it in load_qa(path, settings)]
    return [it for it in items if it.answerable and it.split == split]


def figures(ranks: Sequence[int | None], added_ms: Sequence[float]) -> dict[str, float]:
    n = len(ranks) or 1
    return {"hit@1": sum(r == 1 for r in ranks) / n,
            "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n,
            "ms": statistics.median(added_ms) if added_ms else 0.0}


def first_hit(passages: Sequence[Any], item: QAItem) -> int | None:
    return next((i for i, p in enumerate(passages, 1) if is_relevant(p, item.sources)), None)


def run(retriever: HybridRetriever, items: Sequence[QAItem],
        methods: dict[str, Callable[[QAItem, str, FirstStage], tuple[list[Any], float]]],
        ) -> dict[str, dict[str, Any]]:
    """Rank of the first relevant passage and added ms per method and item."""
    out: dict[str, dict[str, Any]] = {m: {"ranks": [], "ms": [], "cats": []} for m in methods}
    for it in items:
        q = standalone(it)
        first = retriever.first_stage(q)
        for name, method in methods.items():
            passages, ms = method(it, q, first)
            out[name]["ranks"].append(first_hit(passages, it))
            out[name]["ms"].append(ms)
            out[name]["cats"].append(it.category)
    return out


def learned(retriever: HybridRetriever, ranker_of: Callable[[QAItem], Any]) -> Any:
    def method(it: QAItem, q: str, first: FirstStage) -> tuple[list[Any], float]:
        retriever.ranker = ranker_of(it)
        timings: dict[str, float] = {}
        got = retriever.retrieve(q, k=K, timings=timings)
        return [sp.passage for sp in got], timings["rerank_ms"]
    return method


def methods_for(retriever: HybridRetriever, llm: LocalModel | None,
                ranker_of: Callable[[QAItem], Any], others: dict[str, Callable[[QAItem], Any]],
                ) -> dict[str, Any]:
    def hybrid(it: QAItem, q: str, first: FirstStage) -> tuple[list[Any], float]:
        return top_k(retriever, first, first.order), 0.0

    def prf(it: QAItem, q: str, first: FirstStage) -> tuple[list[Any], float]:
        t = time.perf_counter()
        order = rm3_order(first, retriever.settings.fetch_k)
        ms = (time.perf_counter() - t) * 1000
        return top_k(retriever, first, order), ms

    methods = {"hybrid (first stage)": hybrid,
               f"learned ranker, shipped ({CHOSEN})": learned(retriever, ranker_of),
               **{f"learned ranker: {name}": learned(retriever, of)
                  for name, of in others.items()},
               "pseudo-relevance feedback (RM3, fused)": prf}
    if llm is not None:
        def hyde(it: QAItem, q: str, first: FirstStage) -> tuple[list[Any], float]:
            order, ms = hyde_order(retriever, llm, first, q)
            return top_k(retriever, first, order), ms
        methods["hypothetical answer by the local model (fused)"] = hyde
    return methods


def doc2query_cost(retriever: HybridRetriever, llm: LocalModel, n: int) -> str:
    passages = retriever.lexicon().passages
    ms = [llm.write("doc2query", p.id, DOC2QUERY_PROMPT.format(p=p.text), 80)[1]
          for p in passages[:: max(1, len(passages) // n)][:n]]
    per = statistics.mean(ms)
    return (f"doc2query: {per / 1000:.1f} s per passage (mean of {len(ms)}), about "
            f"{per * len(passages) / 60000:.0f} min for the {len(passages)} passages of this "
            "index at ingest")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc2query", type=int, default=0, metavar="N",
                    help="time the local model writing questions for N passages")
    ap.add_argument("--test-qa", metavar="FILE", action="append",
                    help="the Q&A files whose test part is reported (default: the bundled sets)")
    ap.add_argument("--also", metavar="CONFIG", action="append", default=[],
                    help="another configuration of scripts/train_ranker.py to add as a row")
    args = ap.parse_args()
    settings = Settings()
    retriever = HybridRetriever(Index(settings), settings)
    llm = LocalModel(settings) if settings.llm_gguf_path else None
    tune = items_of(settings, "tune")
    test = items_of(settings, "test", [Path(p) for p in args.test_qa] if args.test_qa else None)

    groups: list[Group] = build_groups(retriever, tune)
    by_fold = fold_models(groups)
    real = [g for g in groups if not g.synthetic]
    synth = [g for g in groups if g.synthetic]
    fold_of = {g.qid: i % FOLDS for i, g in enumerate(sorted(real, key=lambda g: g.qid))}
    shipped = load_ranker()
    tune_of: dict[str, Callable[[QAItem], Any]] = {}
    test_of: dict[str, Callable[[QAItem], Any]] = {}
    for name in args.also:
        cfg = CONFIGS[name]
        if cfg.get("doc2query"):
            ap.error(f"{name!r}: doc2query rows are cross-validated by scripts/train_ranker.py "
                     "--doc2query --no-write, not here")
        feats = cfg.get("features", FEATURES)
        extra = synth if cfg["synthetic"] else []
        folds = {k: _Fitted(fit(cfg["kind"], [g for g in real if fold_of[g.qid] != k] + extra,
                                feats), feats) for k in range(FOLDS)}
        whole = _Fitted(fit(cfg["kind"], real + extra, feats), feats)
        tune_of[name] = lambda it, folds=folds: folds[fold_of[it.id]]
        test_of[name] = lambda it, whole=whole: whole

    load = os.getloadavg()
    res_tune = run(retriever, tune, methods_for(
        retriever, llm, lambda it: by_fold[it.id], tune_of))
    res_test = run(retriever, test, methods_for(retriever, llm, lambda it: shipped, test_of))

    print(f"tune: {len(tune)} answerable questions (learned rows {FOLDS}-fold cross-validated); "
          f"test: {len(test)}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    print("| method | tune hit@1 | tune hit@5 | tune MRR | test hit@1 | test hit@5 | test MRR "
          "| added ms (p50, test) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in res_tune:
        a = figures(res_tune[name]["ranks"], res_tune[name]["ms"])
        b = figures(res_test[name]["ranks"], res_test[name]["ms"])
        print(f"| {name} | {a['hit@1']:.2f} | {a['hit@5']:.2f} | {a['mrr']:.2f} | "
              f"{b['hit@1']:.2f} | {b['hit@5']:.2f} | {b['mrr']:.2f} | {b['ms']:.0f} |")
    if llm is None:
        print("\nhypothetical answer: not measured (no local model: set ASSISTANT_LLM_GGUF_PATH)")
    print("\nTest part by category (hit@5 / MRR):\n")
    cats = list(dict.fromkeys(res_test["hybrid (first stage)"]["cats"]))
    print("| method | " + " | ".join(cats) + " |")
    print("|---|" + "---|" * len(cats))
    for name, r in res_test.items():
        cells = []
        for c in cats:
            rs = [x for x, cc in zip(r["ranks"], r["cats"], strict=True) if cc == c]
            f = figures(rs, [])
            cells.append(f"{f['hit@5']:.2f} / {f['mrr']:.2f} (n={len(rs)})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.doc2query and llm is not None:
        print("\n" + doc2query_cost(retriever, llm, args.doc2query))
    return 0


if __name__ == "__main__":
    sys.exit(main())
