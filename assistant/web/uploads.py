"""Documents added on the page: checked, copied to the library, removed."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import InputError
from assistant.text import counted, md_escape

if TYPE_CHECKING:

    from assistant.store.index import Index
    from assistant.store.ingest import IngestReport


log = logging.getLogger(__name__)


UPLOAD_TYPES = [".pdf", ".md", ".txt", ".html", ".htm"]


def release_memory() -> None:
    """Give the heap an ingest freed back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). glibc keeps freed memory for reuse: an ingest of 78 chunks in a running process
    left it 92 MB larger, of which ``malloc_trim`` returned 47 MB."""
    from assistant.web.memory import trim_heap

    trim_heap()


def discard_upload(path: Path) -> None:
    """Delete the page's temporary copy of an upload (the library keeps its own copy)."""
    try:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError as exc:
        log.warning("could not delete the temporary upload %s (%s)", path, exc)


def upload_tmp_dir(settings: Settings) -> Path:
    """Gradio's upload folder for this page (emptied when the page starts)."""
    return settings.data_path / "page-uploads"


def empty_upload_tmp(settings: Settings) -> int:
    """Delete what earlier runs of the page left in its upload folder; how many entries went."""
    import shutil

    folder = upload_tmp_dir(settings)
    n = 0
    if folder.is_dir():
        for child in folder.iterdir():
            n += 1
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    return n


def page_uploader(request: Any) -> str:
    """Who uploaded through the page: the logged-in user, or "chat page"."""
    name = getattr(request, "username", None) if request is not None else None
    return f"{name} (chat page)" if name else "chat page"


def check_upload(path: Path, settings: Settings) -> None:
    """Refuse a file of the wrong type or over ``max_upload_mb`` before anything is ingested."""
    if path.suffix.lower() not in UPLOAD_TYPES:
        raise InputError(f"{path.name}: unsupported type; upload one of {', '.join(UPLOAD_TYPES)}")
    mb = path.stat().st_size / 1_000_000
    if mb > settings.max_upload_mb:
        raise InputError(
            f"{path.name} is {mb:.1f} MB; the upload limit is {settings.max_upload_mb:g} MB "
            "(ASSISTANT_MAX_UPLOAD_MB). Split the file or raise the limit."
        )


def _pdf_title(path: Path) -> str | None:
    """The title a PDF's metadata gives, when it is a real one (not a file name or "Untitled")."""
    try:
        from pypdf import PdfReader

        meta = PdfReader(str(path)).metadata
        title = meta.get("/Title") if meta is not None else None
    except Exception:  # an unreadable PDF: load_document names the problem
        return None
    title = re.sub(r"\s+", " ", str(title or "")).strip()
    if len(title) < 3 or title.lower() in {"untitled", "microsoft word", path.stem.lower()} or \
            re.search(r"\.(docx?|pdf|odt|rtf)$", title, re.I):
        return None
    return title[:120]


def first_heading(path: Path, settings: Settings) -> str:
    """A title for an uploaded file: its first heading (or first line); DocumentError if bad."""
    from assistant.documents.chunking import clean_title, find_headings
    from assistant.documents.loaders import load_document
    from assistant.documents.manifest import info_for_upload

    info = info_for_upload(path)
    if path.suffix.lower() == ".pdf":
        meta = _pdf_title(path)
        if meta:
            return meta
    doc = load_document(path, info, settings)
    if path.suffix.lower() in {".md", ".markdown"}:
        # The document's own title: its first level-1 heading, before any "##" section.
        for line in doc.text.splitlines():
            m = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
            if m and len(clean_title(m.group(1), 120)) >= 3:
                return clean_title(m.group(1), 120)
    heads = [] if path.suffix.lower() == ".pdf" else find_headings(doc.text, "markdown")
    if heads:
        return heads[0].title
    for line in doc.text.splitlines():  # a PDF without a title in its metadata: its first line
        t = clean_title(line, 120)
        if len(t) >= 3:
            return t
    return info.title


def upload_sidecar(settings: Settings, name: str) -> Path:
    """Where the title, country and type given for an uploaded file are kept."""
    return settings.uploads_path / f".{name}.json"


def uploaded_docs(settings: Settings) -> list[tuple[str, str]]:
    """(label, doc id) of the documents added through uploads (the ones that can be removed)."""
    from assistant.documents.manifest import corpus_entries

    return [(f"{e.info.title} ({e.path.name})", e.info.id) for e in corpus_entries(settings)
            if not e.in_manifest]


def gone_message(name: str) -> str:
    """What the page says when an upload's temporary copy is gone (it is deleted once the file
    has been added or refused; a trial pressed “Add to the library” again to correct the
    country and read "Something went wrong")."""
    return (f"⚠ The page no longer holds {md_escape(name)}: its temporary copy is deleted once "
            "a file has been added or refused. Nothing was changed. Choose the file again, "
            "then press “Add to the library” (a document added again with another title, "
            "country or type is updated).")


def added_lines(settings: Settings, index: Index, report: IngestReport) -> list[str]:
    """An upload's result in words, a line a document: "Added “Title” (3 passages); it can be
    asked about now." (the command line prints the counts of ``IngestReport.summary``)."""
    from assistant.documents.manifest import corpus_entries

    titles = {e.info.id: e.info.title for e in corpus_entries(settings)}
    states = index.doc_states()

    def named(doc_id: str) -> str:
        n = int(states.get(doc_id, {}).get("chunks", 0))
        size = f" ({counted(n, 'passage')})" if n else ""
        return f"“{md_escape(titles.get(doc_id, doc_id))}”{size}"

    return [*(f"Added {named(d)}; it can be asked about now." for d in report.added),
            *(f"Updated {named(d)}; it can be asked about now." for d in report.updated),
            *(f"{named(d)} was already in the library, unchanged; it can be asked about."
              for d in report.unchanged)]


def remove_upload(settings: Settings, index: Index, doc_id: str) -> str:
    """Delete an uploaded document: its chunks, its file and its details. The message to show."""
    from assistant.documents.manifest import corpus_entries

    entry = next((e for e in corpus_entries(settings)
                  if e.info.id == doc_id and not e.in_manifest), None)
    if entry is None:
        raise InputError(f"{doc_id} is not an uploaded document; only uploads can be removed "
                         "here (manifest documents are managed in corpus/corpus.toml).")
    ids = sorted(index.doc_states().get(doc_id, {}).get("ids", set()))
    if ids:
        index.delete(ids)
    entry.path.unlink(missing_ok=True)
    upload_sidecar(settings, entry.path.name).unlink(missing_ok=True)
    return f"Removed {entry.info.title} ({entry.path.name}) and its {counted(len(ids), 'chunk')}."


class DiskFullUploads:
    """ASGI middleware: an upload that fills the disk is answered "the disk is full" (HTTP 507,
    naming the folder), not gradio's bare HTTP 500. Every other error passes through."""

    def __init__(self, app: Any, folder: str) -> None:
        self.app = app
        self.folder = Path(folder)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not str(scope.get("path", "")).endswith("/upload"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except OSError as exc:
            from assistant.store.files import disk_full_error

            full = disk_full_error(exc, self.folder, 0)
            if full is None or started:
                raise
            body = str(full).encode("utf-8")
            await send({"type": "http.response.start", "status": 507,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


def app_kwargs(settings: Settings, with_login_limit: bool) -> dict[str, Any]:
    """FastAPI arguments of the page: the full-disk answer for uploads, and the login limit
    when a login is required."""
    from starlette.middleware import Middleware

    from assistant.web.auth import login_limit_kwargs

    middleware = [Middleware(DiskFullUploads, folder=str(upload_tmp_dir(settings)))]
    if with_login_limit:
        middleware += login_limit_kwargs(settings)["middleware"]
    return {"middleware": middleware}
