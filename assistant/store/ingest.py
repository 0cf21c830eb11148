"""Ingestion: corpus files → passages → embeddings → the index. Incremental and safe.

- An unchanged document (same sha256 as indexed, cut by this ``CHUNKING_VERSION``) is skipped;
  one cut by an older chunker is re-cut, its unchanged passages and sentences keeping their
  vectors.
- A changed document's new passages are added before its old ones are deleted, so a kill in
  the middle leaves a queryable index; the next run finishes the job.
- A document whose file is gone is deleted from the index (full runs only).
- A bad file is reported with its reason and never stops the others.
- One ingest at a time: a second one waits for the lock file (assistant/store/files.py).
- An added file keeps its name; a different file under a name that is taken is stored beside
  it (``name-2.md``) unless ``replace`` is asked. A file re-added from the path it came from
  replaces its older version. The sha256 is checked before anything is extracted.
"""

from __future__ import annotations

import getpass
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.documents import chunking
from assistant.documents.chunking import chunk_document
from assistant.documents.loaders import LoadedDocument, load_document
from assistant.documents.manifest import (
    CorpusEntry,
    corpus_entries,
    file_sha256,
    info_for_upload,
    save_upload_records,
    upload_records,
)
from assistant.errors import DocumentError, InputError
from assistant.store.files import (
    disk_full_error,
    folder_size,
    ingest_lock,
    release_space,
    reserve_space,
)
from assistant.store.index import Index, SentenceRow, text_sha
from assistant.text import counted, display, sentence_spans
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
    flagged: dict[str, int] = field(default_factory=dict)  # doc id → passages that instruct
    notes: list[str] = field(default_factory=list)  # e.g. "stored beside it as a-2.md"
    chunks_added: int = 0
    sentences_kept: int = 0  # sentences of new chunks whose stored vectors were kept
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
            f"{counted(self.chunks_added, 'chunk')} embedded",
        ]
        if self.sentences_kept:
            their = "its" if self.chunks_added == 1 else "their"
            parts[-1] += (f" ({self.sentences_kept} of {their} sentences unchanged, "
                          "not embedded again)")
        if self.missing:
            parts.append(f"{len(self.missing)} not on this machine (assistant corpus fetch)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.removed:
            parts.append("disk space of removed documents comes back with: "
                         "assistant index compact")
        if self.flagged:
            n = sum(self.flagged.values())
            verb = "addresses" if n == 1 else "address"
            parts.append(f"{counted(n, 'passage')} that {verb} the reader or the "
                         f"assistant flagged in {', '.join(sorted(self.flagged))} (ranked last)")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


@dataclass(frozen=True)
class DocumentStatus:
    """A corpus document and its state: indexed (with its chunk count), present, or missing."""

    entry: CorpusEntry
    chunks: int  # 0 when not indexed
    expected: int = 0  # chunks the document was cut into (0: unknown)
    complete: bool = True
    outdated: bool = False  # cut by an older chunker (``CHUNKING_VERSION``)

    @property
    def state(self) -> str:
        if self.chunks and self.entry.present and not self.complete:
            chunks = (f"{self.chunks} of {counted(self.expected, 'chunk')}" if self.expected
                      else counted(self.chunks, "chunk"))
            return f"partly indexed ({chunks}); run assistant ingest"
        if self.chunks and self.entry.present:
            done = f"indexed ({counted(self.chunks, 'chunk')})"
            return f"{done}, cut by an older version; run assistant ingest" if self.outdated \
                else done
        if self.entry.present:
            return "present, not indexed (run: assistant ingest)"
        if self.entry.info.urls:
            return "missing (run: assistant corpus fetch)"
        return "missing (no download address; see its source)"


def corpus_status(settings: Settings, index: Index) -> list[DocumentStatus]:
    """Every document the assistant knows of, with its state in the index."""
    states = index.doc_states()
    out = []
    for e in corpus_entries(settings):
        st = states.get(e.info.id, {})
        out.append(DocumentStatus(
            e, int(st.get("chunks", 0)), int(st.get("of", 0)), bool(st.get("complete", True)),
            outdated=bool(st) and st["chunking"] != {chunking.CHUNKING_VERSION}))
    return out


@dataclass
class Added:
    """What ``add_files`` did: the stored files to index, documents already loaded, refusals."""

    paths: list[Path] = field(default_factory=list)
    loaded: dict[Path, LoadedDocument] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def default_uploader() -> str:
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


def _beside(folder: Path, name: str) -> Path:
    """The first free ``stem-N.suffix`` in the folder."""
    p = Path(name)
    n = 2
    while (folder / f"{p.stem}-{n}{p.suffix}").exists():
        n += 1
    return folder / f"{p.stem}-{n}{p.suffix}"


def add_files(
    paths: Sequence[Path], settings: Settings, replace_existing: bool = False,
    uploader: str | None = None,
) -> Added:
    """Copy user files into the library folder (data/documents), refusing bad ones early.

    - The sha256 is compared before anything is extracted: a file already stored (same name,
      same content, or re-added from the path it came from unchanged) is not read again.
    - A file re-added from its original path with new content replaces its stored copy.
    - A different file whose name is taken is stored beside it (``name-2.md``), unless
      ``replace_existing``. A copy of an indexed document under another name is refused.
    """
    dest_dir = settings.uploads_path
    records = upload_records(settings)
    by_source = {r.get("source"): name for name, r in records.items() if r.get("source")}
    known: dict[str, Path] = {}
    for e in corpus_entries(settings):
        if e.present:
            known.setdefault(file_sha256(e.path), e.path)
    out = Added()
    changed_records = False
    for path in paths:
        path = Path(path)
        try:
            if path.name.startswith("."):
                raise DocumentError(path, "names starting with a dot are hidden files and are "
                                    "never indexed; rename the file without the leading dot")
            if path.is_dir():
                raise DocumentError(path, "is a folder; name the files inside it")
            if not path.is_file():
                raise DocumentError(path, "file not found")
            sha = file_sha256(path)
            source = str(path.resolve())
            inside = path.resolve().parent == dest_dir.resolve()
            if inside:
                dest = path
            elif source in by_source:
                dest = dest_dir / by_source[source]  # the same file, re-added: update it
            else:
                dest = dest_dir / path.name
                if dest.exists() and file_sha256(dest) != sha and not replace_existing:
                    dest = _beside(dest_dir, path.name)
            if dest.exists() and file_sha256(dest) == sha:
                out.paths.append(dest)  # stored already: the index decides if work remains
                continue
            if sha in known and known[sha].resolve() != dest.resolve():
                other = next((e.info.id for e in corpus_entries(settings)
                              if e.path.resolve() == known[sha].resolve()), known[sha].name)
                raise DocumentError(path, f"duplicate of the indexed document {other}")
            # Loading validates type, size, encoding and text before anything is copied.
            doc = load_document(path, info_for_upload(dest), settings)
            dest_dir.mkdir(parents=True, exist_ok=True)
            if path.resolve() != dest.resolve():
                tmp = dest.with_name(f".{dest.name}.part")
                shutil.copyfile(path, tmp)
                tmp.replace(dest)
                if dest.name != path.name:
                    out.notes.append(f"{path.name} differs from the stored file of that name; "
                                     f"stored beside it as {dest.name}")
            records[dest.name] = {
                "source": source if not inside else records.get(dest.name, {}).get("source", ""),
                "sha256": sha,
                "uploaded_by": uploader or default_uploader(),
                "uploaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "original_name": path.name,
            }
            changed_records = True
            known[sha] = dest
            out.paths.append(dest)
            out.loaded[dest.resolve()] = doc
        except DocumentError as exc:
            out.failed[str(path)] = exc.reason
        except OSError as exc:
            full = disk_full_error(exc, dest_dir, path.stat().st_size if path.exists() else 0)
            out.failed[str(path)] = str(full) if full else f"cannot read or copy the file ({exc})"
    if changed_records:
        save_upload_records(settings, records)
    return out


def ingest(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    index: Index | None = None,
    progress: Progress | None = None,
    replace_existing: bool = False,
    uploader: str | None = None,
    notify: Callable[[str], None] | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """Bring the index up to date with the corpus (or add ``paths`` to it), one run at a time.

    ``rebuild`` empties the index first; so does an index built with another embedding model.
    """
    if paths and not settings.uploads:
        raise InputError("Adding documents is turned off on this deployment "
                         "(ASSISTANT_UPLOADS=false); ask its administrator.")
    lock_dir = settings.data_path if settings.chroma_url else settings.index_path
    with ingest_lock(lock_dir, settings.ingest_lock_timeout_s, notify):
        return _ingest(settings, paths, index or Index(settings), progress, replace_existing,
                       uploader, rebuild)


def _ingest(
    settings: Settings,
    paths: Sequence[Path] | None,
    index: Index,
    progress: Progress | None,
    replace_existing: bool,
    uploader: str | None,
    rebuild: bool = False,
) -> IngestReport:
    t0 = time.perf_counter()
    report = IngestReport()
    rebuild = rebuild or bool(index.model_problem())
    if rebuild:
        # Vectors of two models cannot be compared: a model change re-embeds everything.
        index.drop()
    if not settings.chroma_url:
        reserve_space(settings.index_path)
    only: set[Path] | None = None
    loaded: dict[Path, LoadedDocument] = {}
    if paths:
        added = add_files(paths, settings, replace_existing, uploader)
        report.failed.update(added.failed)
        report.notes.extend(added.notes)
        only = None if rebuild else {p.resolve() for p in added.paths}
        loaded = added.loaded
    entries = corpus_entries(settings)
    states = index.doc_states()
    todo = _to_embed(settings, entries, only, states, loaded, report)
    _embed_and_store(settings, index, todo, states, progress, report)
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


def _to_embed(
    settings: Settings,
    entries: Sequence[CorpusEntry],
    only: set[Path] | None,
    states: dict[str, Any],
    loaded: dict[Path, LoadedDocument],
    report: IngestReport,
) -> list[tuple[CorpusEntry, list[Passage]]]:
    """The documents that are new or changed, read and cut into passages; the rest reported."""
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
            if (state and state["sha256"] == {sha} and state["complete"]
                    and state["chunking"] == {chunking.CHUNKING_VERSION}
                    and state["info"] == {_described(entry)}):
                report.unchanged.append(doc_id)
                continue  # (cut by an older chunker: re-cut, its unchanged texts kept)
            if by_sha.get(sha, doc_id) != doc_id:
                raise DocumentError(entry.path, f"duplicate of the indexed document {by_sha[sha]}")
            cached = loaded.get(entry.path.resolve())
            doc = (replace(cached, info=entry.info) if cached is not None
                   else load_document(entry.path, entry.info, settings))
            if doc.problems:
                report.warnings[str(entry.path)] = doc.problems
            passages = chunk_document(doc, settings)
            if not passages:
                raise DocumentError(entry.path, "no passages could be cut from the text")
            flagged = sum(1 for p in passages if p.instruction_like)
            if flagged:
                report.flagged[doc_id] = flagged
            todo.append((entry, passages))
            by_sha[sha] = doc_id
        except DocumentError as exc:
            report.failed[str(entry.path)] = exc.reason
    return todo


def _described(entry: CorpusEntry) -> tuple[str, str, str]:
    """What a document's passages say of it besides its text: a change re-cuts it (a title,
    country or type given again for an upload, or edited in the manifest)."""
    return (entry.info.title, entry.info.country, entry.info.doc_type)


def _embed_and_store(
    settings: Settings,
    index: Index,
    todo: list[tuple[CorpusEntry, list[Passage]]],
    states: dict[str, Any],
    progress: Progress | None,
    report: IngestReport,
) -> None:
    """Embed the new passages in groups and store each group at once; drop stale ones."""
    total = sum(len(p) for _, p in todo)
    done = 0
    for entry, passages in todo:
        doc_id = entry.info.id
        state = states.get(doc_id, {})
        old_ids = state.get("ids", set())
        # A passage cut by an older chunker is embedded again even when its id (text and
        # offsets) is unchanged: its sentences may be cut differently (their unchanged texts
        # still keep their vectors, below), and its old sentence rows are pruned once stored.
        current = {i for i, v in state.get("versions", {}).items()
                   if v == chunking.CHUNKING_VERSION}
        if state and state["info"] != {_described(entry)}:
            current = set()  # a new country is a new text to embed ("Armenia: …")
        new = [p for p in passages if p.id not in current]
        # A changed document's unchanged sentences keep their vectors: an edit near the start
        # shifts every later passage (its id holds its offsets), not what its sentences say.
        known = stored_sentences(index, doc_id) if new and old_ids else {}
        if progress and new:
            progress(done, total, doc_id)  # read and split: embedding starts
        for batch in _groups(new, max(1, settings.embed_batch_size) * 2):
            vectors, rows = embed_passages(batch, index.embeddings, known)
            if known:
                report.sentences_kept += sum(t in known for p in batch
                                             for t, _, _ in sentence_texts(p))
            try:
                index.add(batch, vectors, rows)
                recut = [p.id for p in batch if p.id in old_ids]
                if recut:
                    index.prune_sentences(recut, {r.id for r in rows})
            except Exception as exc:
                full = disk_full_error(exc, settings.index_path,
                                       _bytes_needed(settings, index, total - done))
                if full is not None:
                    release_space(settings.index_path)  # so that reads keep working
                    raise full from exc
                raise
            done += len(batch)
            if progress:
                progress(done, total, doc_id)
        kept = [p for p in passages if p.id in current]
        if kept:
            index.update_metadata(kept)
        done += len(kept)
        stale = old_ids - {p.id for p in passages}
        if stale:
            index.delete(sorted(stale))
        report.chunks_added += len(new)
        (report.updated if doc_id in states else report.added).append(doc_id)


FIRST_GROUP = 4  # passages: the progress bar moves within seconds of the start


def _groups(passages: list[Passage], step: int) -> Iterator[list[Passage]]:
    """The passages in groups, each stored as soon as it is embedded: a first group of
    ``FIRST_GROUP``, then each twice the one before up to ``step`` (several model batches: the
    sentence-transformers model sorts a group's texts by length, so larger groups waste less
    padding). A page upload's progress then moves within seconds and keeps moving (a trial
    saw "0.0%" for 10-18 s, and later 5% for 15 s before one large group)."""
    size, pos = min(step, FIRST_GROUP), 0
    while pos < len(passages):
        yield passages[pos : pos + size]
        pos += size
        size = min(step, size * 2)


BYTES_PER_CHUNK = 30_000  # measured: 210 chunks of the bundled reports take 6.2 MB


def _bytes_needed(settings: Settings, index: Index, chunks: int) -> int:
    """About how much disk ``chunks`` more passages take, from this index's own size per chunk."""
    per_chunk = float(BYTES_PER_CHUNK)
    if not settings.chroma_url:
        try:
            n = index.count()
            if n >= 100:
                per_chunk = folder_size(settings.index_path) / n
        except Exception:  # the index may be unreadable right now; the guess will do
            pass
    return int(max(chunks, 1) * per_chunk)


def sentence_units(p: Passage) -> list[tuple[int, int]]:
    """The sentences of a passage that get their own embedding (offsets in the passage)."""
    return [(s, e) for s, e in sentence_spans(p.text) if len(display(p.text[s:e])) >= 3]


def sentence_texts(p: Passage) -> list[tuple[str, int, int]]:
    """What is embedded for each sentence of a passage, prefixed with its country ("Armenia:
    …"), with the sentence's offsets in the passage; the whole text when it has no sentence."""
    prefix = COUNTRIES.get(p.country, "") if p.country != "XX" else ""
    head = f"{prefix}: " if prefix else ""
    return [(f"{head}{display(p.text[s:e])}", s, e)
            for s, e in sentence_units(p) or [(0, len(p.text))]]


def stored_sentences(index: Index, doc_id: str) -> dict[str, Any]:
    """A document's stored sentence vectors by the text that was embedded for them: only rows
    whose stored hash is that of the text this release embeds at their offsets (an older
    release may have embedded other text there, and rows stored without a hash are embedded
    again)."""
    old = {p.id: p for p in index.passages(where={"doc_id": doc_id})}
    out: dict[str, Any] = {}
    for row in index.sentence_rows(where={"doc_id": doc_id}):
        p = old.get(row.passage_id)
        if p is not None and row.text_sha:
            for text, s, e in sentence_texts(p):
                if (s, e) == (row.start, row.end) and text_sha(text) == row.text_sha:
                    out[text] = row.vector
    return out


def embed_passages(
    passages: Sequence[Passage], embeddings: Embeddings, known: Mapping[str, Any] | None = None,
) -> tuple[list[list[float]], list[SentenceRow]]:
    """Embed every sentence of the passages (:func:`sentence_texts`); the passage text itself
    is not embedded.

    A passage's vector is the normalised mean of its sentence vectors, so one embedding call
    serves both passage retrieval and sentence-level (small-to-big) scoring. A text that comes
    more than once (the overlap between neighbouring chunks, a repeated line) is embedded once;
    a text in ``known`` (vectors this model made for it before) is not embedded again: the model
    gives a text the same vector whatever else is in its batch (Chroma's copy of it can differ
    in float32's last bit: it normalises what it stores).
    """
    known = known or {}
    texts: list[str] = []
    owners: list[tuple[int, int, int]] = []  # (passage index, start, end)
    for i, p in enumerate(passages):
        for text, s, e in sentence_texts(p):
            texts.append(text)
            owners.append((i, s, e))
    if not texts:
        return [], []
    import numpy as np

    distinct = list(dict.fromkeys(t for t in texts if t not in known))
    got = embeddings.embed_documents(distinct) if distinct else []
    vector_of: dict[str, Any] = {t: known[t] for t in texts if t in known}
    vector_of.update(zip(distinct, got, strict=True))
    vecs = np.asarray([vector_of[t] for t in texts], dtype=np.float64)
    owner = np.asarray([i for i, _, _ in owners])
    sums = np.zeros((len(passages), vecs.shape[1]))
    np.add.at(sums, owner, vecs)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    rows = [
        SentenceRow(passages[i].id, s, e, vecs[j].tolist(), text_sha(texts[j]))
        for j, (i, s, e) in enumerate(owners)
    ]
    return sums.tolist(), rows
