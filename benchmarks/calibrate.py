"""Fit a model's cosine scale to all-MiniLM-L6-v2's: the offset and gain of embeddings.Profile.

Embeds every indexed sentence and every English question of the Q&A sets' *tuning* part with
both models, then matches two quantiles of the question-sentence cosines (the median and the
99th percentile): ``minilm ≈ (other - offset) * gain``. Only the distribution of similarities
is used, never whether an answer was right, and never the test part.

    python benchmarks/calibrate.py               # needs an index built with minilm
    python benchmarks/calibrate.py --model e5-small
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant  # noqa: E402,F401
from assistant.config import Settings  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-small")
    args = ap.parse_args()

    import numpy as np

    from assistant.evaluation.run import default_sets
    from assistant.store.embeddings import load_embeddings
    from assistant.store.index import Index
    from assistant.text import display
    from assistant.types import COUNTRIES

    base = Settings(embedding_model="minilm")
    index = Index(base)
    rows = index.sentence_rows()
    if not rows:
        raise SystemExit("The index is empty: run `assistant ingest` with the minilm model first.")
    passages = {p.id: p for p in index.passages()}
    texts = []
    for r in rows:
        p = passages[r.passage_id]
        head = f"{COUNTRIES[p.country]}: " if p.country in {"AM", "GE"} else ""
        texts.append(head + display(p.text[r.start : r.end]))
    questions = []
    for path in default_sets(base):
        for line in path.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if d.get("split") == "tune" and d.get("lang", "en") == "en":
                questions.append(d["question"])
    reference = np.asarray([r.vector for r in rows], dtype=np.float32)
    mini = load_embeddings(base)
    q_ref = np.asarray([mini.embed_query(q) for q in questions], dtype=np.float32)
    other = load_embeddings(Settings(embedding_model=args.model))
    sent = np.asarray(other.embed_documents(texts), dtype=np.float32)
    q_other = np.asarray([other.embed_query(q) for q in questions], dtype=np.float32)
    a = (q_ref @ reference.T).ravel()
    b = (q_other @ sent.T).ravel()
    (a50, a99), (b50, b99) = np.quantile(a, [0.5, 0.99]), np.quantile(b, [0.5, 0.99])
    gain = (a99 - a50) / (b99 - b50)
    offset = b50 - a50 / gain
    print(f"{len(questions)} tuning questions x {len(texts)} sentences")
    print(f"minilm cosines: median {a50:.3f}, 99th percentile {a99:.3f}")
    print(f"{args.model} cosines: median {b50:.3f}, 99th percentile {b99:.3f}")
    print(f"Profile(offset={offset:.3f}, gain={gain:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
