"""Read one document (PDF, Markdown, text, HTML) into text with its pages and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.documents.html import decode_html, html_to_text
from assistant.documents.manifest import file_sha256
from assistant.documents.pdf import OutlineEntry, PageSpan, read_pdf
from assistant.errors import DocumentError
from assistant.safety import MAX_CONTROL_RATIO, control_ratio
from assistant.types import DocumentInfo

SUPPORTED_SUFFIXES = {".md": "md", ".markdown": "md", ".txt": "txt", ".pdf": "pdf",
                      ".html": "html", ".htm": "html"}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
@dataclass
class LoadedDocument:
    """A document's extracted text and where its pages lie in that text."""

    info: DocumentInfo
    text: str
    fmt: str
    sha256: str
    pages: list[PageSpan] = field(default_factory=list)
    outline: list[OutlineEntry] = field(default_factory=list)  # PDF bookmarks, placed in text
    problems: list[str] = field(default_factory=list)  # pages that cannot be read ("page 12: …")

    def page_at(self, offset: int) -> PageSpan | None:
        for span in self.pages:
            if span.start <= offset < span.end:
                return span
        return self.pages[-1] if self.pages and offset >= self.pages[-1].start else None

    def page_breaks(self, start: int, end: int) -> tuple[tuple[int, int, str], ...]:
        """Pages that begin inside text[start:end], as (offset from start, page, label)."""
        return tuple(
            (sp.start - start, sp.page, sp.label or "")
            for sp in self.pages
            if start < sp.start < end
        )


def load_document(path: Path, info: DocumentInfo, settings: Settings) -> LoadedDocument:
    """Load one file, or raise DocumentError with the reason it cannot be ingested."""
    if not path.exists():
        raise DocumentError(path, "file not found")
    if path.is_dir():
        raise DocumentError(path, "is a folder, not a file")
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(
            path,
            f"unsupported file type {path.suffix or '(none)'}; "
            f"use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}",
        )
    size = path.stat().st_size
    limit = int(settings.max_file_mb * 1024 * 1024)
    if size > limit:
        raise DocumentError(
            path,
            f"file is {size / 1048576:.1f} MB, over the {settings.max_file_mb:g} MB limit "
            "(ASSISTANT_MAX_FILE_MB)",
        )
    if size == 0:
        raise DocumentError(path, "file is empty")
    sha = file_sha256(path)
    pages: list[PageSpan] = []
    outline: list[OutlineEntry] = []
    problems: list[str] = []
    if fmt == "pdf":
        pdf = read_pdf(path)
        text, pages, outline, problems = pdf.text, pdf.pages, pdf.outline, pdf.problems
    elif fmt == "html":
        text = html_to_text(decode_html(path.read_bytes(), path))
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                path, f"not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
            ) from exc
    if not text.strip():
        raise DocumentError(path, "no text found in the file")
    ratio = control_ratio(text)
    if ratio > MAX_CONTROL_RATIO:
        raise DocumentError(
            path, f"{ratio:.0%} of the text is control characters or NUL bytes; this is not a "
            "text document (re-export it as text, Markdown, HTML or PDF)"
        )
    return LoadedDocument(info=info, text=text, fmt=fmt, sha256=sha, pages=pages,
                          outline=outline, problems=problems)
