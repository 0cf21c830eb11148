"""A retriever that reuses query vectors: given ones, or each query's own once computed.

A draft's sentences are embedded in one batch before they are checked; a comparison's topic is
asked once per country. Both use :func:`with_query_vectors`, a shallow copy of the retriever
(same lexicon), so concurrent questions on the original are not affected.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from assistant.retrieve.hybrid import HybridRetriever


class _QueryVectors:
    """Embeddings whose query vectors are looked up first: given ones, or remembered ones."""

    def __init__(self, inner: Any, vectors: dict[str, list[float]]) -> None:
        self.inner, self.vectors = inner, vectors

    def embed_query(self, text: str) -> list[float]:
        vec = self.vectors.get(text)
        if vec is None:
            vec = self.vectors[text] = self.inner.embed_query(text)
        return vec

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return list(self.inner.embed_documents(texts))


class _IndexView:
    """An index seen through other query embeddings (nothing else changes)."""

    def __init__(self, index: Any, embeddings: _QueryVectors) -> None:
        self._index, self.embeddings = index, embeddings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def with_query_vectors(
    retriever: HybridRetriever, vectors: dict[str, list[float]] | None = None
) -> HybridRetriever:
    """A shallow copy of ``retriever`` that uses ``vectors`` for those queries and remembers
    every other query's vector, so a query asked again is embedded once."""
    view = _IndexView(retriever.index, _QueryVectors(retriever.index.embeddings,
                                                      dict(vectors or {})))
    out = copy.copy(retriever)
    out.index = cast(Any, view)
    return out
