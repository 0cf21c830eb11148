"""The naive baseline the assistant is compared with."""

from __future__ import annotations

import tempfile
import uuid
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import IndexError_
from assistant.types import Answer, Citation, Passage, ScoredPassage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


class NaiveBaseline:
    """A textbook LangChain RAG pipeline, the yardstick for ours.

    RecursiveCharacterTextSplitter(1000, 200) over the same documents' text, the same embedding
    model, an in-memory Chroma, dense similarity search top 4, no hybrid search. The answer is
    the top passage; it never abstains and cites that passage whole.
    """

    name = "naive"
    top_k = 4

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.documents.loaders import load_document
        from assistant.documents.manifest import corpus_entries
        from assistant.errors import DocumentError
        from assistant.store.index import load_embeddings

        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="naive-chroma-")
        client = chromadb.PersistentClient(
            path=self._tmp.name, settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma(
            client=client,
            collection_name=f"naive_{uuid.uuid4().hex[:12]}",
            embedding_function=embeddings or load_embeddings(settings),
            collection_metadata={"hnsw:space": "cosine"},
        )
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=1000, chunk_overlap=200, add_start_index=True
        )
        texts, metas = [], []
        for e in corpus_entries(settings):
            if not e.present:
                continue
            try:
                doc = load_document(e.path, e.info, settings)
            except DocumentError:
                continue
            texts.append(doc.text)
            metas.append({"doc_id": e.info.id, "title": e.info.title})
        chunks = splitter.create_documents(texts, metadatas=metas)
        if not chunks:
            raise IndexError_("The corpus has no readable document for the naive baseline.")
        self.store.add_documents(chunks)
        self.chunks = len(chunks)

    @property
    def retriever(self) -> NaiveBaseline:
        return self

    def retrieve(
        self, query: str, filters: Any = None, k: int | None = None
    ) -> list[ScoredPassage]:
        """Dense top-4 (``k`` is ignored: the textbook pipeline always takes 4)."""
        out = []
        for rank, (d, dist) in enumerate(
            self.store.similarity_search_with_score(query, k=self.top_k), 1
        ):
            start = int(d.metadata.get("start_index", 0))
            end = start + len(d.page_content)
            doc_id = str(d.metadata["doc_id"])
            p = Passage(id=Passage.make_id(doc_id, d.page_content, start, end, ""),
                        doc_id=doc_id, title=str(d.metadata.get("title", doc_id)),
                        text=d.page_content, start=start, end=end)
            out.append(ScoredPassage(p, score=1.0 - dist, dense=1.0 - dist, rank=rank))
        return out

    def ask(self, question: str, history: Any = None, *, mode: str | None = None,
            k: int | None = None) -> Answer:
        """The top passage, as is, with itself as the one citation (history is ignored)."""
        ranked = self.retrieve(question)
        if not ranked:
            return Answer(question, "", [], [], abstained=False, mode=self.name)
        top = ranked[0].passage
        return Answer(question=question, text=top.text,
                      citations=[Citation(1, top, top.text)], passages=ranked,
                      abstained=False, mode=self.name)

    def close(self) -> None:
        self._tmp.cleanup()
