"""Ingestion: corpus files → passages → embeddings → the index. Incremental and safe.

- An unchanged document (same sha256 as indexed) is skipped.
- A changed document's new passages are added before its old ones are deleted, so a kill in
  the middle leaves a queryable index; the next run finishes the job.
- A document whose file is gone is deleted from the index (full runs only).
- A bad file is reported with its reason and never stops the others.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.corpus import (
    CorpusEntry,
    chunk_document,
    corpus_entries,
    file_sha256,
    info_for_upload,
    load_document,
)
from assistant.errors import DocumentError
from assistant.index import Index, SentenceRow
from assistant.text import display, sentence_spans
from assistant.types import COUNTRIES, Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    """What one ingest run did, document by document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # Pages that were ingested but cannot be read ("page 12: text has no word breaks …").
    warnings: dict[str, list[str]] = field(default_factory=dict)
    chunks_added: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
            f"{self.chunks_added} chunks embedded",
        ]
        if self.missing:
            parts.append(f"{len(self.missing)} not on this machine (assistant corpus fetch)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


@dataclass(frozen=True)
class DocumentStatus:
    """A corpus document and its state: indexed (with its chunk count), present, or missing."""

    entry: CorpusEntry
    chunks: int  # 0 when not indexed

    @property
    def state(self) -> str:
        if self.chunks and self.entry.present:
            return f"indexed ({self.chunks} chunk{'' if self.chunks == 1 else 's'})"
        if self.entry.present:
            return "present, not indexed (run: assistant ingest)"
        if self.entry.info.urls:
            return "missing (run: assistant corpus fetch)"
        return "missing (no download address; see its source)"


def corpus_status(settings: Settings, index: Index) -> list[DocumentStatus]:
    """Every document the assistant knows of, with its state in the index."""
    states = index.doc_states()
    return [
        DocumentStatus(e, int(states.get(e.info.id, {}).get("chunks", 0)))
        for e in corpus_entries(settings)
    ]


def add_files(paths: Sequence[Path], settings: Settings) -> tuple[list[Path], dict[str, str]]:
    """Copy user files into the library folder (data/documents), refusing bad ones early.

    A file with the same content as a document already in the corpus is refused as a duplicate.
    """
    dest_dir = settings.uploads_path
    known = {}
    for e in corpus_entries(settings):
        if e.present:
            known[file_sha256(e.path)] = e.info.id
    copied: list[Path] = []
    failed: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        try:
            if path.is_dir():
                raise DocumentError(path, "is a folder; name the files inside it")
            # Loading validates type, size, encoding and text before anything is copied.
            doc = load_document(path, info_for_upload(path), settings)
            if doc.sha256 in known:
                raise DocumentError(path, f"duplicate of the indexed document {known[doc.sha256]}")
            dest_dir.mkdir(parents=True, exist_ok=True)
            dest = dest_dir / path.name
            if dest.exists() and file_sha256(dest) != doc.sha256:
                raise DocumentError(
                    path, f"another file named {path.name} is already in {dest_dir}; rename it"
                )
            if path.resolve() != dest.resolve():
                tmp = dest.with_name(f".{dest.name}.part")
                shutil.copyfile(path, tmp)
                tmp.replace(dest)
            known[doc.sha256] = info_for_upload(dest).id
            copied.append(dest)
        except DocumentError as exc:
            failed[str(path)] = exc.reason
        except OSError as exc:
            failed[str(path)] = f"cannot read or copy the file ({exc})"
    return copied, failed


def ingest(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    index: Index | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """Bring the index up to date with the corpus (or add ``paths`` to it).

    ``rebuild`` empties the index first; so does an index built with another embedding model.
    """
    t0 = time.perf_counter()
    index = index or Index(settings)
    report = IngestReport()
    rebuild = rebuild or bool(index.model_problem())
    if rebuild:
        # Vectors of two models cannot be compared: a model change re-embeds everything.
        index.drop()
    only: set[Path] | None = None
    if paths:
        copied, failed = add_files(paths, settings)
        report.failed.update(failed)
        only = None if rebuild else {p.resolve() for p in copied}
    entries = corpus_entries(settings)
    states = index.doc_states()
    by_sha: dict[str, str] = {}
    for doc_id, st in states.items():
        for sha in st["sha256"]:
            by_sha[sha] = doc_id

    todo: list[tuple[CorpusEntry, list[Passage]]] = []
    for entry in entries:
        if only is not None and entry.path.resolve() not in only:
            continue
        doc_id = entry.info.id
        if not entry.present:
            report.missing.append(doc_id)
            continue
        try:
            sha = file_sha256(entry.path)
            state = states.get(doc_id)
            if state and state["sha256"] == {sha} and state["complete"]:
                report.unchanged.append(doc_id)
                continue
            if by_sha.get(sha, doc_id) != doc_id:
                raise DocumentError(entry.path, f"duplicate of the indexed document {by_sha[sha]}")
            doc = load_document(entry.path, entry.info, settings)
            if doc.problems:
                report.warnings[str(entry.path)] = doc.problems
            passages = chunk_document(doc, settings)
            if not passages:
                raise DocumentError(entry.path, "no passages could be cut from the text")
            todo.append((entry, passages))
            by_sha[sha] = doc_id
        except DocumentError as exc:
            report.failed[str(entry.path)] = exc.reason

    total = sum(len(p) for _, p in todo)
    done = 0
    for entry, passages in todo:
        doc_id = entry.info.id
        old_ids = states.get(doc_id, {}).get("ids", set())
        new = [p for p in passages if p.id not in old_ids]
        # Groups of several model batches: the model sorts a group's texts by length, so
        # larger groups waste less padding; a group is stored as soon as it is embedded.
        step = max(1, settings.embed_batch_size) * 2
        for i in range(0, len(new), step):
            batch = new[i : i + step]
            vectors, rows = embed_passages(batch, index.embeddings)
            index.add(batch, vectors, rows)
            done += len(batch)
            if progress:
                progress(done, total, doc_id)
        kept = [p for p in passages if p.id in old_ids]
        if kept:
            index.update_metadata(kept)
        done += len(kept)
        stale = old_ids - {p.id for p in passages}
        if stale:
            index.delete(sorted(stale))
        report.chunks_added += len(new)
        (report.updated if doc_id in states else report.added).append(doc_id)

    if todo:
        index.record_model()
    if only is None:
        present = {e.info.id for e in entries if e.present}
        for doc_id, st in states.items():
            if doc_id not in present:
                index.delete(sorted(st["ids"]))
                report.removed.append(doc_id)
    report.seconds = time.perf_counter() - t0
    return report


def sentence_units(p: Passage) -> list[tuple[int, int]]:
    """The sentences of a passage that get their own embedding (offsets in the passage)."""
    return [(s, e) for s, e in sentence_spans(p.text) if len(display(p.text[s:e])) >= 3]


def embed_passages(
    passages: Sequence[Passage], embeddings: Embeddings
) -> tuple[list[list[float]], list[SentenceRow]]:
    """Embed every sentence of the passages, prefixed with its country ("Armenia: …").

    A passage's vector is the normalised mean of its sentence vectors, so one embedding call
    serves both passage retrieval and sentence-level (small-to-big) scoring.
    """
    texts: list[str] = []
    owners: list[tuple[int, int, int]] = []  # (passage index, start, end)
    for i, p in enumerate(passages):
        prefix = COUNTRIES.get(p.country, "") if p.country != "XX" else ""
        head = f"{prefix}: " if prefix else ""
        for s, e in sentence_units(p) or [(0, len(p.text))]:
            texts.append(f"{head}{display(p.text[s:e])}")
            owners.append((i, s, e))
    if not texts:
        return [], []
    import numpy as np

    vecs = np.asarray(embeddings.embed_documents(texts), dtype=np.float64)
    owner = np.asarray([i for i, _, _ in owners])
    sums = np.zeros((len(passages), vecs.shape[1]))
    np.add.at(sums, owner, vecs)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    rows = [
        SentenceRow(passages[i].id, s, e, vecs[j].tolist()) for j, (i, s, e) in enumerate(owners)
    ]
    return sums.tolist(), rows

