"""Check, in one process, that ``Index.query`` and ``Index.query_sentences`` return what Chroma
returns whole (ids, distances, text and metadata), for every bundled evaluation question.

    python scripts/same_nearest.py [--k 24]

Chroma's nearest-neighbour search is approximate and can differ from one process to the next
(see ``snapshot_answers.py``), so two snapshots of two processes can differ where the code
does not. Here both reads see the same segments: each question's vector (and with each
country's filter) is queried the way main did (``include`` of documents and metadata, the
passage id from a sentence's metadata) and the way the index does now. Exits 1 on any
difference.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def questions() -> list[str]:
    from assistant.config import get_settings
    from assistant.evaluation.qa import load_qa
    from assistant.evaluation.run import DEFAULT_SETS

    settings = get_settings()
    folder = settings.corpus_path / "eval"
    names = [*DEFAULT_SETS, "blind_qa.jsonl"]
    found = [it.question for name in names if (folder / name).exists()
             for it in load_qa(folder / name, settings)]
    return list(dict.fromkeys(found))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=24, help="passages (sentences: 4x)")
    args = ap.parse_args()
    from assistant.config import get_settings
    from assistant.store.index import Index

    index = Index(get_settings())
    wheres: list[dict[str, Any] | None] = [None, {"country": {"$in": ["AM"]}},
                                           {"country": {"$in": ["GE"]}}]
    asked = differ = 0
    for q in questions():
        vec = index.embeddings.embed_query(q)
        for where in wheres:
            asked += 1
            whole = index._query_whole(vec, args.k, where)
            res = index.sentences.query(query_embeddings=[vec], n_results=4 * args.k,
                                        where=where, include=["metadatas", "distances"])
            sentences = [(str((m or {}).get("passage_id", "")), 1.0 - d)
                         for m, d in zip(res["metadatas"][0], res["distances"][0], strict=True)]
            if (index.query(vec, args.k, where) != whole
                    or index.query_sentences(vec, 4 * args.k, where) != sentences):
                differ += 1
                print(f"differs: {q!r} {where}")
    print(f"{asked} queries ({asked // len(wheres)} questions x {len(wheres)} filters): "
          f"{differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
