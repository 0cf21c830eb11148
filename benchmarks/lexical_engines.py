"""Lexical engines compared on the project's own tokens: build time, memory, query time, ranking.

    python benchmarks/lexical_engines.py [--times 1 50]

For each corpus size (the bundled reports and generated variants, see benchmarks/variants.py;
chunked as ingest chunks them, nothing embedded) and each engine, prints the build time, the
memory the built index holds (tracemalloc for Python engines, RSS growth otherwise), the query
p50 over the tune questions, and how far its top 24 agrees with the hand-written BM25 that
retrieval used before (top-1 agreement, overlap of the top 24). Every engine is fed the same
stemmed tokens (assistant.text.tokens), so the synonym and shared-root expansion keeps working.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from variants import build_corpus  # noqa: E402

FETCH = 24


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def passages_of(corpus: Path) -> list[list[str]]:
    from assistant.config import Settings
    from assistant.documents.chunking import chunk_document
    from assistant.documents.loaders import load_document
    from assistant.documents.manifest import load_manifest
    from assistant.text import tokens

    settings = Settings(corpus_dir=str(corpus))
    out = []
    for info in load_manifest(corpus / "corpus.toml"):
        doc = load_document(corpus / info.path, info, settings)
        out.extend(tokens(p.embed_text()) for p in chunk_document(doc, settings))
    return out


class HandWritten:
    name = "hand-written"

    def __init__(self, docs: list[list[str]]) -> None:
        self.docs = [{t: d.count(t) for t in set(d)} for d in docs]
        self.lens = [len(d) for d in docs]
        self.avgdl = sum(self.lens) / len(docs)
        df: dict[str, int] = {}
        for d in self.docs:
            for t in d:
                df[t] = df.get(t, 0) + 1
        n = len(docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def top(self, q: list[str]) -> list[int]:
        k1, b = 1.5, 0.75
        scores = []
        for i, (tf, dl) in enumerate(zip(self.docs, self.lens, strict=True)):
            norm = k1 * (1 - b + b * dl / self.avgdl)
            s = sum(self.idf[t] * tf[t] * (k1 + 1) / (tf[t] + norm) for t in q if t in tf)
            if s > 0:
                scores.append((-s, i))
        return [i for _, i in sorted(scores)[:FETCH]]


class Bm25s:
    name = "bm25s"

    def __init__(self, docs: list[list[str]]) -> None:
        from assistant.retrieve.lexical import LexicalIndex  # bm25s behind the project's wrapper

        self.lex = LexicalIndex.build([str(i) for i in range(len(docs))], docs)

    def top(self, q: list[str]) -> list[int]:
        return [i for i, _ in self.lex.top(q, FETCH)]


class Fts5:
    name = "sqlite-fts5"

    def __init__(self, docs: list[list[str]]) -> None:
        self.dir = tempfile.mkdtemp()
        self.db = sqlite3.connect(Path(self.dir) / "lex.sqlite3")
        self.db.execute("CREATE VIRTUAL TABLE lex USING fts5(body, "
                        "tokenize = \"unicode61 tokenchars '-'\")")
        self.db.executemany("INSERT INTO lex(rowid, body) VALUES (?, ?)",
                            ((i, " ".join(d)) for i, d in enumerate(docs)))
        self.db.commit()

    def top(self, q: list[str]) -> list[int]:
        if not q:
            return []
        match = " OR ".join(f'"{t}"' for t in q)
        rows = self.db.execute("SELECT rowid FROM lex WHERE lex MATCH ? ORDER BY bm25(lex) "
                               "LIMIT ?", (match, FETCH)).fetchall()
        return [r[0] for r in rows]


class Tantivy:
    name = "tantivy"

    def __init__(self, docs: list[list[str]]) -> None:
        import tantivy

        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("i", stored=True, indexed=True)
        sb.add_text_field("body", tokenizer_name="whitespace")
        self.schema = sb.build()
        self.dir = tempfile.mkdtemp()
        self.index = tantivy.Index(self.schema, path=self.dir)
        w = self.index.writer(heap_size=50_000_000, num_threads=1)
        for i, d in enumerate(docs):
            w.add_document(tantivy.Document(i=i, body=" ".join(d)))
        w.commit()
        w.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def top(self, q: list[str]) -> list[int]:
        if not q:
            return []
        t = self.t
        query = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(self.schema, "body", w)) for w in q])
        hits = self.searcher.search(query, FETCH).hits
        return [self.searcher.doc(addr)["i"][0] for _, addr in hits]


def questions() -> list[list[str]]:
    from assistant.text import tokens

    rows = [json.loads(line) for line in
            (REPO / "corpus/eval/known_qa.jsonl").read_text().splitlines() if line.strip()]
    return [tokens(r["question"]) for r in rows if r.get("split") == "tune"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", type=int, nargs="+", default=[1, 50])
    args = ap.parse_args()
    qs = questions()
    import bm25s  # noqa: F401  (imports are not part of the build time)
    import tantivy  # noqa: F401
    print(f"load average {os.getloadavg()}")
    for times in args.times:
        with tempfile.TemporaryDirectory() as tmp:
            docs = passages_of(build_corpus(Path(tmp) / "c", times))
        print(f"\n{times}x: {len(docs)} passages, {sum(map(len, docs))} tokens, "
              f"{len(qs)} tune questions")
        ref: list[list[int]] | None = None
        for cls in (HandWritten, Bm25s, Fts5, Tantivy):
            gc.collect()
            r0 = rss_mb()
            tracemalloc.start()
            t0 = time.perf_counter()
            eng = cls(docs)
            build = time.perf_counter() - t0
            py_mb = tracemalloc.get_traced_memory()[0] / 1e6
            tracemalloc.stop()
            grown = rss_mb() - r0
            tops, lat = [], []
            for q in qs:
                t = time.perf_counter()
                tops.append(eng.top(q))
                lat.append((time.perf_counter() - t) * 1000)
            if ref is None:
                ref = tops
            top1 = statistics.mean(1.0 if a[:1] == b[:1] else 0.0 for a, b in zip(tops, ref,
                                                                                  strict=True))
            overlap = statistics.mean(len(set(a) & set(b)) / len(b) if b else float(not a)
                                      for a, b in zip(tops, ref, strict=True))
            print(f"  {cls.name:13s} build {build:6.2f} s  python heap {py_mb:6.1f} MB  "
                  f"RSS +{max(grown, 0):6.1f} MB  query p50 {statistics.median(lat):6.2f} ms  "
                  f"top-1 same {top1:.2f}  top-24 overlap {overlap:.2f}")
            del eng
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
