"""The Chroma index: embedded in ``index/`` by default, or a Chroma server (ASSISTANT_CHROMA_URL).

Embeddings are computed here (a LangChain ``Embeddings``) and handed to Chroma, so Chroma never
loads a model of its own. Heavy imports (torch, chromadb) happen inside the functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.embeddings import load_embeddings
from assistant.errors import ConfigError, IndexError_
from assistant.types import Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

_CLIENTS: dict[str, Any] = {}


@dataclass(frozen=True)
class SentenceRow:
    """One sentence of a passage (offsets within the passage text) and its embedding."""

    passage_id: str
    start: int
    end: int
    vector: Sequence[float]
_LOCK = threading.Lock()


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        key = settings.chroma_url
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(
                f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not a URL; "
                "use http://127.0.0.1:8000"
            )
        with _LOCK:
            if key not in _CLIENTS:
                try:
                    _CLIENTS[key] = chromadb.HttpClient(
                        host=url.hostname,
                        port=url.port or (443 if url.scheme == "https" else 8000),
                        ssl=url.scheme == "https",
                        settings=chroma_settings,
                    )
                except Exception as exc:  # chromadb raises plain exceptions here
                    raise IndexError_(
                        f"Cannot reach the Chroma server at {settings.chroma_url} ({exc}). "
                        "Start it with: chroma run --path DIR --host 127.0.0.1 --port 8000"
                    ) from exc
            return _CLIENTS[key]
    path = settings.index_path
    path.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
        return _CLIENTS[key]


class Index:
    """One Chroma collection of passages, with their embeddings and provenance."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._collection: Any = None
        self._sentences: Any = None

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings)
        return self._embeddings

    @property
    def collection(self) -> Any:
        if self._collection is None:
            try:
                self._collection = _client(self.settings).get_or_create_collection(
                    self.settings.collection,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            except (ConfigError, IndexError_):
                raise
            except Exception as exc:
                where = self.settings.chroma_url or self.settings.index_path
                raise IndexError_(f"Cannot open the index at {where}: {exc}") from exc
        return self._collection

    @property
    def sentences(self) -> Any:
        """The companion collection of sentence embeddings (small-to-big retrieval)."""
        if self._sentences is None:
            _ = self.collection  # surfaces connection errors with the clearer message
            self._sentences = _client(self.settings).get_or_create_collection(
                f"{self.settings.collection}__sentences",
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        return self._sentences

    # -- which model built it ------------------------------------------------------------------
    def recorded_model(self) -> str | None:
        """The embedding model the index was built with, as recorded at ingest (or None)."""
        meta = self.collection.metadata or {}
        value = meta.get("embedding_model")
        return str(value) if value else None

    def model_problem(self) -> str | None:
        """None when the index was built with the configured model; else what to do."""
        from assistant.embeddings import model_id

        recorded, current = self.recorded_model(), model_id(self.settings)
        if recorded is None or recorded == current or self.count() == 0:
            return None
        where = self.settings.chroma_url or self.settings.index_path
        return (f"The index at {where} was built with the embedding model {recorded}, not "
                f"{current}: run `assistant ingest --rebuild`, or set "
                f"ASSISTANT_EMBEDDING_MODEL={recorded}.")

    def record_model(self) -> None:
        """Write the configured embedding model into the index's metadata."""
        from assistant.embeddings import model_id

        current = model_id(self.settings)
        if self.recorded_model() != current:
            meta = dict(self.collection.metadata or {})
            meta["embedding_model"] = current
            self.collection.modify(metadata=meta)

    def drop(self) -> None:
        """Delete both collections (everything indexed); the next use creates them empty."""
        client = _client(self.settings)
        for name in (self.settings.collection, f"{self.settings.collection}__sentences"):
            # A collection that does not exist is already gone.
            with contextlib.suppress(Exception):
                client.delete_collection(name)
        self._collection = self._sentences = None

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.collection.count())

    def passages(self, where: dict[str, Any] | None = None) -> list[Passage]:
        """Every stored passage (optionally filtered), in document order."""
        got = self.collection.get(where=where, include=["documents", "metadatas"])
        out = [
            Passage.from_metadata(pid, text or "", dict(meta or {}))
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(out, key=lambda p: (p.doc_id, p.start))

    def doc_states(self) -> dict[str, dict[str, Any]]:
        """doc id → {"sha256": set of hashes, "chunks": n, "ids": set of passage ids, "complete"}.

        A document is complete when its chunks all carry one hash and their number is the
        number the document was cut into (a run killed half-way leaves it incomplete).
        """
        got = self.collection.get(include=["metadatas"])
        states: dict[str, dict[str, Any]] = {}
        for pid, meta in zip(got["ids"], got["metadatas"], strict=True):
            meta = meta or {}
            st = states.setdefault(
                str(meta.get("doc_id", "?")),
                {"sha256": set(), "chunks": 0, "ids": set(), "expected": set()},
            )
            st["sha256"].add(str(meta.get("doc_sha256", "")))
            st["expected"].add(int(meta.get("doc_chunks", 0) or 0))
            st["chunks"] += 1
            st["ids"].add(pid)
        for st in states.values():
            st["complete"] = len(st["sha256"]) == 1 and st["expected"] == {st["chunks"]}
        return states

    def fingerprint(self) -> str:
        """A short hash of what is indexed (documents and their hashes) and how it was embedded."""
        states = self.doc_states()
        items = sorted((d, sorted(s["sha256"]), s["chunks"]) for d, s in states.items())
        basis = json.dumps(
            [items, self.settings.model_path(), self.settings.chunk_size,
             self.settings.chunk_overlap],
            sort_keys=True,
        )
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def query(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Passage, float]]:
        """Nearest passages with their cosine similarity."""
        total = self.count()
        if total == 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=min(n, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for pid, text, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0],
            strict=True,
        ):
            out.append((Passage.from_metadata(pid, text or "", dict(meta or {})), 1.0 - dist))
        return out

    def query_sentences(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest sentences as (passage id, cosine similarity), best first."""
        total = self.sentences.count()
        if total == 0:
            return []
        res = self.sentences.query(
            query_embeddings=[list(vector)], n_results=min(n, total), where=where,
            include=["metadatas", "distances"],
        )
        return [
            (str((meta or {}).get("passage_id", "")), 1.0 - dist)
            for meta, dist in zip(res["metadatas"][0], res["distances"][0], strict=True)
        ]

    def sentence_rows(self) -> list[SentenceRow]:
        """Every stored sentence with its embedding (for scoring sentences of a passage)."""
        got = self.sentences.get(include=["metadatas", "embeddings"])
        rows = []
        for meta, emb in zip(got["metadatas"], got["embeddings"], strict=True):
            meta = meta or {}
            rows.append(SentenceRow(str(meta.get("passage_id", "")), int(meta.get("start", 0)),
                                    int(meta.get("end", 0)), [float(x) for x in emb]))
        return rows

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        passages: Sequence[Passage],
        vectors: Sequence[Sequence[float]],
        sentences: Sequence[SentenceRow] = (),
    ) -> None:
        """Upsert passages (and their sentences) in batches; ids are content hashes."""
        step = 256
        by_id = {p.id: p for p in passages}
        for i in range(0, len(sentences), step):
            batch_s = sentences[i : i + step]
            self.sentences.upsert(
                ids=[f"{r.passage_id}:{r.start}" for r in batch_s],
                metadatas=[
                    {"passage_id": r.passage_id, "start": r.start, "end": r.end,
                     "doc_id": by_id[r.passage_id].doc_id,
                     "country": by_id[r.passage_id].country,
                     "doc_type": by_id[r.passage_id].doc_type}
                    for r in batch_s
                ],
                embeddings=[list(r.vector) for r in batch_s],
            )
        # Passages last: a passage is only visible once its sentences are stored.
        for i in range(0, len(passages), step):
            batch = passages[i : i + step]
            self.collection.upsert(
                ids=[p.id for p in batch],
                documents=[p.text for p in batch],
                metadatas=[p.to_metadata() for p in batch],
                embeddings=[list(v) for v in vectors[i : i + step]],
            )

    def update_metadata(self, passages: Sequence[Passage]) -> None:
        """Refresh stored metadata of passages that are already embedded."""
        for i in range(0, len(passages), 256):
            batch = passages[i : i + 256]
            self.collection.update(
                ids=[p.id for p in batch], metadatas=[p.to_metadata() for p in batch]
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete passages (first, so that no passage outlives its sentences) and sentences."""
        ids = list(ids)
        for i in range(0, len(ids), 256):
            batch = ids[i : i + 256]
            self.collection.delete(ids=batch)
            self.sentences.delete(where={"passage_id": {"$in": batch}})
