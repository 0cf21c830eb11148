"""BM25 over the indexed passages (the lexical half of hybrid retrieval)."""

from __future__ import annotations

import math


class BM25:
    """Okapi BM25 over stemmed tokens, with the corpus statistics answers also use."""

    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [self._tf(d) for d in docs]
        self.lens = [len(d) for d in docs]
        self.avgdl = (sum(self.lens) / len(docs)) if docs else 1.0
        df: dict[str, int] = {}
        for d in self.docs:
            for t in d:
                df[t] = df.get(t, 0) + 1
        n = len(docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

    @staticmethod
    def _tf(doc: list[str]) -> dict[str, int]:
        tf: dict[str, int] = {}
        for t in doc:
            tf[t] = tf.get(t, 0) + 1
        return tf

    def scores(self, query: list[str], boost: dict[str, float] | None = None) -> list[float]:
        """BM25 of every document; ``boost`` scales a term's contribution (default 1)."""
        boost = boost or {}
        terms = {t: boost.get(t, 1.0) for t in query}
        out = []
        for tf, dl in zip(self.docs, self.lens, strict=True):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * dl / self.avgdl)
            for t, w in terms.items():
                f = tf.get(t)
                if f:
                    s += w * self.idf[t] * f * (self.k1 + 1) / (f + norm)
            out.append(s)
        return out

    def typical_weight(self) -> float:
        """The median IDF: the weight given to a question word the corpus never uses."""
        return sorted(self.idf.values())[len(self.idf) // 2] if self.idf else 1.0

    def weight(self, term: str) -> float:
        """IDF of a term; a term the corpus never uses gets the highest weight."""
        return self.idf.get(term, self.max_idf)
