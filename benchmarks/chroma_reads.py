"""CPU of one Chroma nearest-neighbour query by what it returns (ids and distances, or also the
rows' text and metadata), on this tree's index.

    python benchmarks/chroma_reads.py [--n 200] [--question "..."]

A question runs two queries: its 24 nearest passages and its 96 nearest sentences
(``Index.query`` and ``Index.query_sentences``). Prints CPU and wall time per query for each
``include``, twice (the second round is warm), and the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any


def timed(label: str, fn: Callable[[], Any], n: int) -> None:
    fn()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    print(f"{label:44s} CPU {1000 * (time.process_time() - cpu) / n:5.2f} ms   "
          f"wall {1000 * (time.perf_counter() - wall) / n:5.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="queries per line")
    ap.add_argument("--question",
                    default="How many scientific institutions took part in the Armenian survey?")
    args = ap.parse_args()
    from assistant.config import get_settings
    from assistant.store.index import Index

    index = Index(get_settings())
    vec = index.embeddings.embed_query(args.question)
    passages, sentences = index.collection, index.sentences
    print(f"{passages.count()} passages, {sentences.count()} sentences; "
          f"load {os.getloadavg()[0]:.1f}")
    for _ in range(2):
        for name, col, k in (("passages", passages, 24), ("sentences", sentences, 96)):
            for include in (["documents", "metadatas", "distances"], ["metadatas", "distances"],
                            ["distances"]):
                if name == "sentences" and "documents" in include:
                    continue  # a sentence row has no document
                timed(f"{name} k={k} {'+'.join(include)}", lambda c=col, k=k, i=include:
                      c.query(query_embeddings=[vec], n_results=k, include=i), args.n)
        timed("Index.query (24, as a question runs it)", lambda: index.query(vec, 24), args.n)
        timed("Index.query_sentences (96)", lambda: index.query_sentences(vec, 96), args.n)
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
