"""The hybrid retriever as a LangChain ``BaseRetriever``, for use inside an existing chain.

``PassageRetriever(retriever=HybridRetriever(Index(settings)))`` (or
``PassageRetriever.from_settings(settings)``) returns LangChain ``Document`` objects whose
metadata carry the passage's provenance: ``passage_id``, ``doc_id``, ``title``, ``section``,
``page``/``page_label``, the character span ``start``/``end`` in the document's text, and the
scores that ranked it (``score``, ``rank``, ``evidence``, ``dense``, ``lexical``).
``Passage.from_document`` turns such a Document back into a passage. See docs/langchain.md.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.config import Settings
from assistant.retrieve.hybrid import HybridRetriever


class PassageRetriever(BaseRetriever):
    """BM25 and dense search fused (``HybridRetriever``), as LangChain Documents."""

    retriever: Any  # a HybridRetriever, or anything with its ``retrieve(query, filters, k)``
    k: int | None = None  # None: ``ASSISTANT_K``
    filters: dict[str, Any] | None = None  # {"country": [...], "doc_type": [...], "doc_id": [...]}
    evidence_only: bool = False  # True: only passages above the relevance floor

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **fields: Any) -> PassageRetriever:
        """A retriever over the index the settings name (the project's own by default)."""
        from assistant.store.index import Index

        return cls(retriever=HybridRetriever(Index(settings or Settings())), **fields)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        found = self.retriever.retrieve(query, filters=self.filters, k=self.k)
        return [sp.to_document() for sp in found if sp.evidence or not self.evidence_only]
