"""A draft read from a file: text, Markdown, PDF or .docx."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import DocumentError

# --------------------------------------------------------------------------------------------
# Reading a draft file
# --------------------------------------------------------------------------------------------
DRAFT_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf")


def read_draft(path: Path, max_mb: float) -> str:
    """The text of a draft file (.md, .txt, .docx, .pdf), or DocumentError with the reason."""
    if not path.exists():
        raise DocumentError(path, "file not found")
    if path.is_dir():
        raise DocumentError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in DRAFT_SUFFIXES:
        raise DocumentError(path, f"unsupported file type {suffix or '(none)'}; "
                                  f"use one of {', '.join(DRAFT_SUFFIXES)}")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "file is empty")
    if size > max_mb * 1024 * 1024:
        raise DocumentError(path, f"file is {size / 1048576:.1f} MB, over the {max_mb:g} MB "
                                  "limit (ASSISTANT_MAX_FILE_MB)")
    if suffix == ".pdf":
        from assistant.documents.pdf import read_pdf

        return read_pdf(path).text
    if suffix == ".docx":
        return _read_docx(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(path, f"not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
                            ) from exc


def _read_docx(path: Path) -> str:
    """Paragraphs of a .docx; headings become Markdown headings, list items bullets."""
    import zipfile

    try:
        import docx
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DocumentError(path, "reading .docx needs python-docx: pip install "
                                  "python-docx==1.2.0") from exc
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(path, f"not a readable .docx ({type(exc).__name__})") from exc
    except Exception as exc:  # noqa: BLE001 - python-docx raises its own PackageNotFoundError
        raise DocumentError(path, f"not a readable .docx ({type(exc).__name__})") from exc
    lines: list[str] = []
    for para in document.paragraphs:
        t = para.text.strip()
        if not t:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = re.match(r"Heading (\d)", style)
        if level or style == "Title":
            lines.append("#" * (int(level.group(1)) if level else 1) + " " + t)
        elif "List" in style:
            lines.append("- " + t)
        else:
            lines.append(t)
    return "\n\n".join(lines)
