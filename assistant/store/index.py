"""The Chroma index: embedded in ``index/`` by default, or a Chroma server (ASSISTANT_CHROMA_URL).

Embeddings are computed here (a LangChain ``Embeddings``) and handed to Chroma, so Chroma never
loads a model of its own. Heavy imports (torch, chromadb) happen inside the functions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import ConfigError, IndexError_
from assistant.safety import mask_url, redact
from assistant.store.embeddings import load_embeddings, model_id
from assistant.types import Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

_CLIENTS: dict[str, Any] = {}
T = TypeVar("T")
_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GET_PAGE = 5000  # rows per read when reading a whole collection
KNOWN_PASSAGES = 4096  # passages ``query`` keeps between writes (about 1 kB each)
READ_RETRIES = 5  # a read that races another process's write is tried again this many times


@dataclass(frozen=True)
class SentenceRow:
    """One sentence of a passage (offsets within the passage text) and its embedding."""

    passage_id: str
    start: int
    end: int
    vector: Sequence[float]
    text_sha: str = ""  # what was embedded (:func:`text_sha`); "" in rows stored before it

    @property
    def id(self) -> str:
        """Its row id in the sentence collection (read back by ``query_sentences``)."""
        return f"{self.passage_id}:{self.start}"


def text_sha(text: str) -> str:
    """A short hash of an embedded text: a stored vector is reused only for the same text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
                f"ASSISTANT_CHROMA_URL={mask_url(settings.chroma_url)!r} is not a URL; "
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
                        f"Cannot reach the Chroma server at {mask_url(settings.chroma_url)} "
                        f"({redact(str(exc), settings)}). "
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
        self._client_ref: Any = None  # the client the collections came from
        self._seen_stamp: str | None = None
        self._held: tuple[int, int, str] | None = None  # see ``holding_generation``
        # Passages read by ``query`` under one generation stamp: (stamp, passage by id).
        self._known: tuple[str, dict[str, Passage]] = ("", {})
        self.embeddings_given = embeddings  # None: the model the settings name, loaded here

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings)
        return self._embeddings

    @property
    def collection(self) -> Any:
        if self._collection is None:
            try:
                self._client_ref = _client(self.settings)
                self._collection = self._client_ref.get_or_create_collection(
                    self.settings.collection,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            except (ConfigError, IndexError_):
                raise
            except Exception as exc:
                where = mask_url(self.settings.chroma_url) or self.settings.index_path
                raise IndexError_(
                    f"Cannot open the index at {where}: {redact(str(exc), self.settings)}"
                ) from exc
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
        recorded, current = self.recorded_model(), model_id(self.settings)
        if recorded is None or recorded == current or self.count() == 0:
            return None
        where = self.settings.chroma_url or self.settings.index_path
        return (f"The index at {where} was built with the embedding model {recorded}, not "
                f"{current}: run `assistant ingest --rebuild`, or set "
                f"ASSISTANT_EMBEDDING_MODEL={recorded}.")

    def record_model(self) -> None:
        """Write the configured embedding model into the index's metadata."""
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
    def read(self, fn: Callable[[], T]) -> T:
        """Run a read, trying again when it races a write by another process.

        Chroma can fail a read after another process wrote ("Error finding id": the metadata
        lists a row that this process's cached segments have not got). A first failure is
        tried again at once; a second reopens the client (which reloads the segments from
        disk). Only when the read keeps failing is the error reported, in one line.
        """
        for attempt in range(READ_RETRIES):
            try:
                return fn()
            except (ConfigError, IndexError_):
                raise
            except Exception as exc:
                if attempt == READ_RETRIES - 1:
                    raise IndexError_(
                        "The index could not be read while another process was writing to it "
                        f"({type(exc).__name__}: {redact(str(exc), self.settings)}); "
                        "try again in a moment."
                    ) from exc
                if attempt >= 1:
                    self.reopen()
                # Reopen by name next time: another process may have compacted (recreated) it.
                self._collection = self._sentences = None
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def reopen(self) -> None:
        """Drop this process's Chroma client for the index folder, so the next read reloads it.

        Only the client this index used is closed (once, whichever thread gets here first);
        a Chroma server needs no reopening.
        """
        self._collection = self._sentences = None
        if self.settings.chroma_url:
            return
        key = str(self.settings.index_path.resolve())
        with _LOCK:
            client = _CLIENTS.get(key)
            if client is None or (self._client_ref is not None and client is not self._client_ref):
                return  # another thread reopened it already
            _CLIENTS.pop(key, None)
        with contextlib.suppress(Exception):
            client.close()

    def generation(self) -> tuple[int, int, str]:
        """Changes whenever the index changes: (passages, sentences, the writers' stamp).

        Every write through ``Index`` (any process) rewrites the stamp file beside an embedded
        index; counts alone would miss a replaced document of the same size. When the stamp
        shows another process's write, the client is reopened first, so that this process
        reads the segments that process wrote instead of its cached ones.
        """
        held = self._held
        if held is not None:
            return held
        stamp = self._stamp_read()
        if (stamp and self._seen_stamp is not None and stamp != self._seen_stamp
                and not stamp.startswith(f"{os.getpid()}:")):
            self.reopen()
        self._seen_stamp = stamp
        counts = self.read(lambda: (int(self.collection.count()), int(self.sentences.count())))
        return counts[0], counts[1], stamp

    @contextlib.contextmanager
    def holding_generation(self) -> Iterator[None]:
        """While held, ``generation`` reports the generation seen on entry.

        For a child process that writes to the index for this one (a page upload): taking up
        its writes batch by batch would reopen Chroma and rebuild the lexicon every 2 s while
        it runs; after the block, the next ``generation`` takes them all up at once.
        """
        self._held = self.generation()
        try:
            yield
        finally:
            self._held = None

    def _stamp_path(self) -> Any:
        return None if self.settings.chroma_url else self.settings.index_path / ".generation"

    def _stamp_read(self) -> str:
        path = self._stamp_path()
        try:
            return path.read_text(encoding="utf-8").strip() if path is not None else ""
        except OSError:
            return ""

    def _stamp(self) -> None:
        path = self._stamp_path()
        if path is None:
            return
        try:
            tmp = path.with_name(f".generation.{os.getpid()}")
            tmp.write_text(f"{os.getpid()}:{time.time_ns()}\n", encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # counts still tell most changes; a full disk is reported by the write itself

    def count(self) -> int:
        return int(self.read(self.collection.count))

    def get_all(self, collection: Callable[[], Any], include: list[str],
                where: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every row of a collection (``collection()``, looked up again after a reopen), read in
        pages of GET_PAGE rows.

        One ``get`` of every row fails on a large index (Chroma's SQLite refuses a query with
        more than 32,766 variables: the 60,000 sentences of 50x the bundled corpus).
        Embeddings come back as one float32 matrix.
        """
        import numpy as np

        out: dict[str, Any] = {"ids": [], **{k: [] for k in include}}
        offset = 0
        while True:
            got = self.read(lambda o=offset: collection().get(  # type: ignore[misc]
                where=where, include=include, limit=GET_PAGE, offset=o))
            out["ids"].extend(got["ids"])
            for key in include:
                values = got.get(key)
                if key == "embeddings":
                    if values is not None and len(values):
                        out[key].append(np.asarray(values, dtype=np.float32))
                else:
                    out[key].extend(values if values is not None else [None] * len(got["ids"]))
            if len(got["ids"]) < GET_PAGE:
                break
            offset += GET_PAGE
        if "embeddings" in include:
            parts = out["embeddings"]
            out["embeddings"] = (np.concatenate(parts) if parts
                                 else np.zeros((0, 0), dtype=np.float32))
        return out

    def passages(self, where: dict[str, Any] | None = None) -> list[Passage]:
        """Every stored passage (optionally filtered), in document order."""
        return self.passages_and_storage(where)[0]

    def passages_and_storage(self, where: dict[str, Any] | None = None
                             ) -> tuple[list[Passage], list[str]]:
        """Every stored passage in document order, and their ids in Chroma's storage order
        (the order in which ``get`` returns rows, also for ``embeddings_of``)."""
        got = self.get_all(lambda: self.collection, ["documents", "metadatas"], where)
        out = [
            Passage.from_metadata(pid, text or "", dict(meta or {}))
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(out, key=lambda p: (p.doc_id, p.start)), list(got["ids"])

    def doc_states(self) -> dict[str, dict[str, Any]]:
        """doc id → {"sha256": set of hashes, "chunks": n, "ids": set of passage ids, "complete",
        "chunking": the chunker versions that cut its passages, "versions": passage id → the
        chunker version that cut it, "info": the (title, country, doc_type) its passages carry}.

        A document is complete when its chunks all carry one hash and their number is the
        number the document was cut into (a run killed half-way leaves it incomplete).
        """
        got = self.get_all(lambda: self.collection, ["metadatas"])
        states: dict[str, dict[str, Any]] = {}
        for pid, meta in zip(got["ids"], got["metadatas"], strict=True):
            meta = meta or {}
            st = states.setdefault(
                str(meta.get("doc_id", "?")),
                {"sha256": set(), "chunks": 0, "ids": set(), "expected": set(),
                 "chunking": set(), "versions": {}, "info": set()},
            )
            st["info"].add((str(meta.get("title", "")), str(meta.get("country", "")),
                            str(meta.get("doc_type", ""))))
            st["versions"][pid] = version = int(meta.get("chunking", 0) or 0)
            st["chunking"].add(version)
            st["sha256"].add(str(meta.get("doc_sha256", "")))
            st["expected"].add(int(meta.get("doc_chunks", 0) or 0))
            st["chunks"] += 1
            st["ids"].add(pid)
        for st in states.values():
            st["complete"] = len(st["sha256"]) == 1 and st["expected"] == {st["chunks"]}
            st["of"] = max(st["expected"], default=0)
        return states

    def fingerprint(self) -> str:
        """A short hash of what is indexed (documents and their hashes) and how it was embedded."""
        states = self.doc_states()
        items = sorted((d, sorted(s["sha256"]), s["chunks"], sorted(s["chunking"]))
                       for d, s in states.items())
        basis = json.dumps(
            [items, model_id(self.settings), self.settings.chunk_size,
             self.settings.chunk_overlap],
            sort_keys=True,
        )
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def query(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Passage, float]]:
        """Nearest passages with their cosine similarity.

        No count first: Chroma returns what there is when fewer than ``n`` rows match, and a
        count per question held the GIL for a tenth of the page's time under 20 users.

        Chroma is asked for ids and distances only; each passage's text and metadata are read
        once and kept (``_known``) while the generation stamp is unchanged: every write
        through ``Index`` (any process) rewrites it, so a kept passage is the one Chroma
        holds. Reading them with every query cost about 2 ms of CPU a question.
        """
        stamp = self._stamp_read()
        known = self._known if self._known[0] == stamp else (stamp, {})
        if not stamp:  # no stamp (a Chroma server): nothing tells when a passage changed
            return self._query_whole(vector, n, where)
        res = self.read(lambda: self.collection.query(
            query_embeddings=[list(vector)], n_results=n, where=where, include=["distances"],
        ))
        ids = res["ids"][0]
        passages = known[1]
        missing = [pid for pid in ids if pid not in passages]
        if missing:
            got = self.read(lambda: self.collection.get(
                ids=missing, include=["documents", "metadatas"]))
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                       strict=True):
                passages[pid] = Passage.from_metadata(pid, text or "", dict(meta or {}))
            if any(pid not in passages for pid in missing):  # removed meanwhile
                return self._query_whole(vector, n, where)
        if len(passages) > KNOWN_PASSAGES:
            known = (stamp, {pid: passages[pid] for pid in ids})
        self._known = known
        return [(known[1][pid], 1.0 - dist) for pid, dist in
                zip(ids, res["distances"][0], strict=True)]

    def _query_whole(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None
    ) -> list[tuple[Passage, float]]:
        """:meth:`query` with every passage's text and metadata read from Chroma."""
        res = self.read(lambda: self.collection.query(
            query_embeddings=[list(vector)],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        ))
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
        """Nearest sentences as (passage id, cosine similarity), best first (no count first,
        as :meth:`query`).

        The passage id is read from the sentence's id ("passage id:start", see :meth:`add`),
        not from its metadata: Chroma's metadata rows for 96 sentences cost about 2.5 ms of
        CPU a question, three quarters of the query.
        """
        res = self.read(lambda: self.sentences.query(
            query_embeddings=[list(vector)], n_results=n, where=where, include=["distances"],
        ))
        return [(sid.rpartition(":")[0], 1.0 - dist)
                for sid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]

    def sentence_rows(self, where: dict[str, Any] | None = None) -> list[SentenceRow]:
        """Every stored sentence (optionally filtered) with its embedding."""
        got = self.get_all(lambda: self.sentences, ["metadatas", "embeddings"], where)
        if not got["ids"]:
            return []
        # One float32 matrix, each row a view of it: Python floats would take 7x the memory.
        matrix = got["embeddings"]
        rows = []
        for meta, emb in zip(got["metadatas"], matrix, strict=True):
            meta = meta or {}
            rows.append(SentenceRow(str(meta.get("passage_id", "")), int(meta.get("start", 0)),
                                    int(meta.get("end", 0)), emb,
                                    str(meta.get("text_sha", ""))))
        return rows

    def embeddings_of(self, ids: list[str]) -> tuple[list[str], list[Any]]:
        """Stored passage vectors (ids in Chroma's order)."""
        got = self.read(lambda: self.collection.get(ids=ids, include=["embeddings"]))
        return list(got["ids"]), list(got["embeddings"])

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        passages: Sequence[Passage],
        vectors: Sequence[Sequence[float]],
        sentences: Sequence[SentenceRow] = (),
    ) -> None:
        """Upsert passages (and their sentences) in batches; ids are content hashes."""
        import numpy as np

        step = 256
        by_id = {p.id: p for p in passages}
        for i in range(0, len(sentences), step):
            batch_s = sentences[i : i + step]
            self.sentences.upsert(
                ids=[r.id for r in batch_s],
                metadatas=[
                    {"passage_id": r.passage_id, "start": r.start, "end": r.end,
                     "text_sha": r.text_sha,
                     "doc_id": by_id[r.passage_id].doc_id,
                     "country": by_id[r.passage_id].country,
                     "doc_type": by_id[r.passage_id].doc_type}
                    for r in batch_s
                ],
                # One float32 matrix: rows read back by sentence_rows are numpy views.
                embeddings=np.asarray([r.vector for r in batch_s], dtype=np.float32),
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
        self._stamp()

    def update_metadata(self, passages: Sequence[Passage]) -> None:
        """Refresh stored metadata of passages that are already embedded."""
        for i in range(0, len(passages), 256):
            batch = passages[i : i + 256]
            self.collection.update(
                ids=[p.id for p in batch], metadatas=[p.to_metadata() for p in batch]
            )
        self._stamp()

    def prune_sentences(self, passage_ids: Sequence[str], keep: set[str]) -> None:
        """Delete the sentence rows of these passages that are not in ``keep`` (the rows of
        an older sentence cut of a passage whose text and offsets, hence id, are unchanged)."""
        ids = list(passage_ids)
        for i in range(0, len(ids), 256):
            got = self.sentences.get(where={"passage_id": {"$in": ids[i : i + 256]}}, include=[])
            gone = [r for r in got["ids"] if r not in keep]
            if gone:
                self.sentences.delete(ids=gone)
        self._stamp()

    def delete(self, ids: Sequence[str]) -> None:
        """Delete passages (first, so that no passage outlives its sentences) and sentences."""
        ids = list(ids)
        for i in range(0, len(ids), 256):
            batch = ids[i : i + 256]
            self.collection.delete(ids=batch)
            self.sentences.delete(where={"passage_id": {"$in": batch}})
        self._stamp()

    # -- maintenance -----------------------------------------------------------------------------
    def compact(self) -> tuple[int, int]:
        """Rewrite both collections without the space of deleted rows; (bytes before, after).

        Chroma keeps the space of deleted vectors and rows. The rows are copied into fresh
        collections, the old ones are dropped, the new ones take their names, and SQLite is
        vacuumed. Run it under the ingest lock (``assistant index compact`` does).
        """
        import shutil
        import sqlite3

        from assistant.store.files import folder_size

        folder = self.settings.index_path
        before = folder_size(folder)
        client = _client(self.settings)
        names = [self.settings.collection, f"{self.settings.collection}__sentences"]
        for name in names:
            old = client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
            tmp_name = f"{name}__compact"
            # left over from an interrupted compaction (chromadb raises NotFoundError if not)
            with contextlib.suppress(Exception):
                client.delete_collection(tmp_name)
            new = client.create_collection(
                tmp_name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
            got = self.get_all(functools.partial(lambda c: c, old),
                               ["documents", "metadatas", "embeddings"])
            for i in range(0, len(got["ids"]), 256):
                docs = got["documents"][i : i + 256] if got["documents"] is not None else None
                new.add(ids=got["ids"][i : i + 256],
                        documents=docs if docs and any(d is not None for d in docs) else None,
                        metadatas=got["metadatas"][i : i + 256],
                        embeddings=list(got["embeddings"][i : i + 256]))
            if new.count() != old.count():
                client.delete_collection(tmp_name)
                raise IndexError_(f"Compaction of {name} copied {new.count()} of {old.count()} "
                                  "rows; the index is unchanged.")
            client.delete_collection(name)
            new.modify(name=name)
        self._collection = self._sentences = None
        db = folder / "chroma.sqlite3"
        if db.exists():
            with sqlite3.connect(db, timeout=30) as con:
                live = {str(row[0]) for row in con.execute("SELECT id FROM segments")}
                con.execute("VACUUM")
            # Chroma leaves the vector folders of dropped collections on disk: remove the
            # folders (named by segment id) that no segment owns any more.
            for child in folder.iterdir():
                if child.is_dir() and _SEGMENT_DIR.match(child.name) and child.name not in live:
                    shutil.rmtree(child, ignore_errors=True)
        self._stamp()
        return before, folder_size(folder)
