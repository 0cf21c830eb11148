"""Documents added on the page: checked, copied to the library, removed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import InputError

if TYPE_CHECKING:

    from assistant.store.index import Index


log = logging.getLogger(__name__)


UPLOAD_TYPES = [".pdf", ".md", ".txt", ".html", ".htm"]


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


def first_heading(path: Path, settings: Settings) -> str:
    """A title for an uploaded file: its first heading (or first line); DocumentError if bad."""
    from assistant.documents.chunking import clean_title, find_headings
    from assistant.documents.loaders import load_document
    from assistant.documents.manifest import info_for_upload

    info = info_for_upload(path)
    doc = load_document(path, info, settings)
    heads = find_headings(doc.text, "markdown")
    if heads:
        return heads[0].title
    for line in doc.text.splitlines():
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
    return f"Removed {entry.info.title} ({entry.path.name}) and its {len(ids)} chunks."
