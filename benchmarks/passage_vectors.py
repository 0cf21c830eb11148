"""Passage vectors made several ways, compared on the tune part: hit@1, hit@5, MRR.

    python benchmarks/passage_vectors.py [--work /tmp/passage-vectors]

Ingest embeds each sentence of a passage and stores the passage's vector as the normalised
mean of its sentence vectors (``pooled``, what the index holds). This script copies the index
once per other recipe, replaces the passage vectors in the copy and measures retrieval on the
tune questions, for the first stage (the fused order) and the shipped ranker (trained on tune,
so its tune figures compare recipes, not the ranker). The other recipes:

- ``embedded``: the passage text embedded whole (the model windows texts over 510 tokens);
- ``pooled, token-weighted``: the mean of the sentence vectors weighted by their token counts;
- ``mix``: the normalised sum of ``pooled`` and ``embedded``.

It also prints how much of the passages' text the sentence vectors cover. Needs an index of
the bundled corpus (``assistant ingest``); the sentence vectors are not changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import assistant  # noqa: E402,F401  (offline settings)
from assistant.config import Settings  # noqa: E402
from assistant.retrieve.hybrid import HybridRetriever  # noqa: E402
from assistant.retrieve.rerank import load_ranker  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.store.ingest import sentence_units  # noqa: E402
from assistant.text import display  # noqa: E402
from assistant.types import COUNTRIES, Passage  # noqa: E402
from benchmarks.rerank import K, figures, first_hit, items_of, top_k  # noqa: E402
from scripts.train_ranker import standalone  # noqa: E402


def head(p: Passage) -> str:
    prefix = COUNTRIES.get(p.country, "") if p.country != "XX" else ""
    return f"{prefix}: " if prefix else ""


def normed(m: Any) -> Any:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def coverage(passages: list[Passage], count: Any) -> None:
    """How much of each passage's text its embedded sentences hold."""
    left, chars, short, long_ = 0, 0, 0, 0
    worst: list[tuple[float, str]] = []
    for p in passages:
        units = sentence_units(p) or [(0, len(p.text))]
        covered = np.zeros(len(p.text), bool)
        for s, e in units:
            covered[s:e] = True
            if count(p.text[s:e]) > 512:
                long_ += 1
        visible = np.array([not c.isspace() for c in p.text])
        out = int((visible & ~covered).sum())
        left += out
        chars += int(visible.sum())
        short += sum(1 for s, e in units if len(display(p.text[s:e])) < 3)
        if out:
            worst.append((out / max(1, int(visible.sum())), p.id))
    print(f"coverage: {len(passages)} passages, {chars} visible characters, {left} of them in no "
          f"embedded sentence ({left / max(chars, 1):.2%}); {len(worst)} passages leave some out; "
          f"sentences over 512 tokens (windowed by the model, not cut): {long_}")
    for share, pid in sorted(worst, reverse=True)[:3]:
        print(f"  most left out: {pid} {share:.1%}")


def variants(index: Index, passages: list[Passage]) -> dict[str, Any]:
    """Passage id order and each recipe's matrix (rows in that order)."""
    rows = index.sentence_rows()
    ids = [p.id for p in passages]
    at = {pid: i for i, pid in enumerate(ids)}
    texts = {p.id: p.text for p in passages}
    model = index.embeddings._model  # type: ignore[attr-defined]
    plain = np.zeros((len(ids), 384))
    weighted = np.zeros((len(ids), 384))
    for r in rows:
        i = at[r.passage_id]
        v = np.asarray(r.vector, dtype=np.float64)
        plain[i] += v
        weighted[i] += v * model.token_count(display(texts[r.passage_id][r.start:r.end]))
    t = time.perf_counter()
    whole = np.asarray(index.embeddings.embed_documents(
        [f"{head(p)}{display(p.text)}" for p in passages]), dtype=np.float64)
    print(f"embedding {len(passages)} passages whole: {time.perf_counter() - t:.1f} s")
    stored_ids, stored = index.embeddings_of(ids)
    stored_m = np.asarray(stored, dtype=np.float64)[[stored_ids.index(pid) for pid in ids]]
    print(f"pooled recomputed from the stored sentence vectors against the stored passage "
          f"vectors: largest difference {np.abs(normed(plain) - stored_m).max():.2e}")
    return {"embedded": normed(whole), "pooled, token-weighted": normed(weighted),
            "mix (pooled + embedded)": normed(normed(plain) + normed(whole))}


def measure(settings: Settings, items: list[Any]) -> dict[str, dict[str, float]]:
    retriever = HybridRetriever(Index(settings), settings)
    ranker = load_ranker()
    first_ranks, ranked = [], []
    for it in items:
        q = standalone(it)
        first = retriever.first_stage(q)
        first_ranks.append(first_hit(top_k(retriever, first, first.order), it))
        retriever.ranker = ranker
        ranked.append(first_hit([sp.passage for sp in retriever.retrieve(q, k=K)], it))
    return {"first stage": figures(first_ranks, []), "shipped ranker": figures(ranked, [])}


def copy_with(settings: Settings, work: Path, name: str, ids: list[str], m: Any) -> Settings:
    folder = work / name.split()[0].strip(",")
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(settings.index_path, folder,
                    ignore=shutil.ignore_patterns("lexical", ".ingest.lock", ".space-reserve"))
    copy = settings.model_copy(update={"index_dir": folder})
    index = Index(copy)
    for i in range(0, len(ids), 256):
        index.collection.update(ids=ids[i:i + 256], embeddings=m[i:i + 256].astype(np.float32))
    return copy


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/passage-vectors"))
    args = ap.parse_args()
    settings = Settings()
    index = Index(settings)
    passages = index.passages()
    coverage(passages, lambda s: index.embeddings._model.token_count(s))  # type: ignore
    made = variants(index, passages)
    ids = [p.id for p in passages]
    items = items_of(settings, "tune")
    load = os.getloadavg()
    print(f"\ntune: {len(items)} answerable questions; load average {load[0]:.1f}\n")
    print("| passage vectors | first stage hit@1 / hit@5 / MRR | shipped ranker hit@1 / hit@5 "
          "/ MRR |\n|---|---|---|")
    recipes = [("pooled (stored)", settings)] + [
        (name, copy_with(settings, args.work, name, ids, m)) for name, m in made.items()]
    for name, s in recipes:
        got = measure(s, items)
        cells = [" / ".join(f"{got[k][f]:.2f}" for f in ("hit@1", "hit@5", "mrr"))
                 for k in ("first stage", "shipped ranker")]
        print(f"| {name} | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
