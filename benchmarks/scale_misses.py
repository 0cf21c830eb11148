"""Why the fixed questions of benchmarks/scale.py miss the top 5 on one of its corpora.

    ASSISTANT_CORPUS_DIR=DIR/x50/corpus ASSISTANT_INDEX_DIR=DIR/x50/index \\
    ASSISTANT_DATA_DIR=DIR/x50/data ASSISTANT_COLLECTION=scale \\
        python benchmarks/scale_misses.py > misses.json

(DIR is the ``--work`` folder of ``scale.py``.) For each question: its split, whether the top 5
holds a gold passage, the gold passage's rank in the fused first stage and after the learned
ranker (None: not a candidate at all), its relevance, and the top 5 as (document, country,
relevance). A summary line goes to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import questions  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.metrics import is_relevant  # noqa: E402
from assistant.evaluation.qa import Source  # noqa: E402
from assistant.retrieve.hybrid import HybridRetriever  # noqa: E402
from assistant.retrieve.rerank import feature_rows, load_ranker  # noqa: E402
from assistant.store.index import Index  # noqa: E402


def main() -> int:
    s = Settings()
    retriever = HybridRetriever(Index(s), s)
    passages = retriever.lexicon().passages
    ranker = load_ranker()
    out = []
    for q in questions():
        sources = [Source(x["doc"], x["quote"]) for x in q["sources"]]
        gold = {p.id for p in passages if is_relevant(p, sources)}
        first = retriever.first_stage(q["question"])
        cands = first.candidates(s.rerank_depth)
        probs = ranker.relevance(feature_rows(q["question"], cands, not first.terms.known))
        reranked = [c.passage.id for c, _ in sorted(zip(cands, probs, strict=True),
                                                     key=lambda t: -t[1])]
        top5 = list(retriever.retrieve(q["question"]))[:5]
        out.append({
            "id": q["id"], "split": q["split"], "question": q["question"],
            "hit": any(sp.passage.id in gold for sp in top5),
            "fused_rank": next((i for i, pid in enumerate(first.order, 1) if pid in gold), None),
            "reranked_rank": next((i for i, pid in enumerate(reranked, 1) if pid in gold), None),
            "gold_relevance": max((float(p) for c, p in zip(cands, probs, strict=True)
                                   if c.passage.id in gold), default=None),
            "top5": [(sp.passage.doc_id, sp.passage.country, round(sp.relevance or 0.0, 3))
                     for sp in top5],
        })
    print(json.dumps(out, indent=1))
    for split in ("tune", "test"):
        rows = [r for r in out if r["split"] == split]
        print(f"{split}: hit@5 {sum(r['hit'] for r in rows)}/{len(rows)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
