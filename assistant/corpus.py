"""The corpus: the manifest, loaders (Markdown, text, PDF, HTML) and structure-aware chunking.

Every chunk is an exact slice of its document's extracted text, so a quote taken from a chunk
can always be found again in the document, at the recorded character offsets.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from assistant.config import Settings
from assistant.errors import ConfigError, DocumentError
from assistant.types import SECTION_SEP, DocumentInfo, Passage, SourceURL

SUPPORTED_SUFFIXES = {".md": "md", ".markdown": "md", ".txt": "txt", ".pdf": "pdf",
                      ".html": "html", ".htm": "html"}


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------
def load_manifest(path: Path) -> list[DocumentInfo]:
    """Read ``corpus.toml``: one ``[[document]]`` table per document the assistant covers."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No corpus manifest at {path}; set ASSISTANT_CORPUS_DIR.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    docs = []
    for i, entry in enumerate(data.get("document", []), 1):
        try:
            urls = tuple(SourceURL(url=u["url"], format=u["format"]) for u in entry.get("urls", []))
            docs.append(
                DocumentInfo(
                    id=entry["id"],
                    title=entry["title"],
                    country=entry.get("country", "XX"),
                    doc_type=entry.get("doc_type", "other"),
                    year=entry.get("year"),
                    issuer=entry.get("issuer", ""),
                    source=entry.get("source", ""),
                    path=entry.get("path", ""),
                    urls=urls,
                    aliases=tuple(entry.get("aliases", [])),
                    sha256=entry.get("sha256", ""),
                )
            )
        except KeyError as exc:
            raise ConfigError(f"{path}: document #{i} lacks the field {exc}") from exc
    ids = [d.id for d in docs]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: document ids must be unique, got {ids}")
    return docs


def document_path(info: DocumentInfo, settings: Settings) -> Path:
    """Where a document's file lives (manifest paths are relative to the corpus folder)."""
    p = Path(info.path)
    return p if p.is_absolute() else settings.corpus_path / p


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "document"


def info_for_upload(path: Path) -> DocumentInfo:
    """Metadata for a file that is not in the manifest: id and title from its name.

    The title, country and type a user gave on the page are kept beside the file, in
    ``.<name>.json``, and take precedence.
    """
    stem = path.stem
    info = DocumentInfo(
        id=f"upload-{slugify(stem)}-{path.suffix.lstrip('.').lower() or 'file'}",
        title=stem.replace("_", " ").replace("-", " ").strip() or path.name,
        country="XX",
        doc_type="other",
        source=f"uploaded file {path.name}",
        path=str(path),
    )
    try:
        given = json.loads((path.parent / f".{path.name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return info
    keep = {k: str(v) for k, v in given.items() if k in {"title", "country", "doc_type"} and v}
    return replace(info, **keep)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageSpan:
    start: int
    end: int
    page: int  # 1-based
    label: str


@dataclass
class LoadedDocument:
    """A document's extracted text and where its pages lie in that text."""

    info: DocumentInfo
    text: str
    fmt: str
    sha256: str
    pages: list[PageSpan] = field(default_factory=list)

    def page_at(self, offset: int) -> PageSpan | None:
        for span in self.pages:
            if span.start <= offset < span.end:
                return span
        return self.pages[-1] if self.pages and offset >= self.pages[-1].start else None


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
    if fmt == "pdf":
        text, pages = _read_pdf(path)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                path, f"not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
            ) from exc
        if fmt == "html":
            text = html_to_text(text)
    if not text.strip():
        raise DocumentError(path, "no text found in the file")
    return LoadedDocument(info=info, text=text, fmt=fmt, sha256=sha, pages=pages)


def _read_pdf(path: Path) -> tuple[str, list[PageSpan]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DocumentError(path, "PDF is encrypted; save an unprotected copy first")
        parts: list[str] = []
        pages: list[PageSpan] = []
        pos = 0
        for i, page in enumerate(reader.pages):
            page_text = (page.extract_text() or "").strip()
            try:
                label = reader.page_labels[i]
            except (IndexError, KeyError, ValueError):
                label = str(i + 1)
            if parts:
                parts.append("\n\n")
                pos += 2
            parts.append(page_text)
            pages.append(PageSpan(pos, pos + len(page_text), i + 1, label))
            pos += len(page_text)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise DocumentError(path, f"PDF cannot be read ({type(exc).__name__}: {exc})") from exc
    text = "".join(parts)
    if not text.strip():
        raise DocumentError(
            path, "PDF has no text layer (scanned images?); run OCR on it first"
        )
    return text, pages


_SKIP_TAGS = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
              "button", "select", "svg", "iframe", "template"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "br", "tr", "table", "li", "ul", "ol",
               "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dt", "dd", "td", "th"}
_NOISE = re.compile(r"(^|[-_ ])(nav|menu|breadcrumb|footer|header|cookie|sidebar|banner|toolbar)",
                    re.I)
# EUR-Lex puts the act in #document1 / .eli-container, matsne in #maindoc / .maindoc.
_MAIN_HINT = re.compile(r"^(document1|maindoc|textTabContent|TexteOnly|eli-container|content)$",
                        re.I)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.out: list[str] = []
        self.main_out: list[str] = []
        self.main_depth: int | None = None

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        marker = f"{a.get('id', '')} {a.get('class', '')} {a.get('role', '')}"
        skip = tag in _SKIP_TAGS or bool(_NOISE.search(marker)) or "navigation" in marker
        if tag in {"br", "img", "hr", "meta", "link", "input"}:
            if tag == "br":
                self._emit("\n")
            return
        self.stack.append((tag, skip))
        is_main = tag == "main" or any(_MAIN_HINT.match(t) for t in marker.split() if t)
        if self.main_depth is None and is_main and not self._skipping():
            self.main_depth = len(self.stack)
        if tag in _BLOCK_TAGS:
            self._emit("\n\n" if tag not in {"li", "td", "th"} else "\n")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._emit("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._emit("- ")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, _ = self.stack.pop()
            if self.main_depth is not None and len(self.stack) < self.main_depth:
                self.main_depth = -1  # main content closed; keep what we have
            if t == tag:
                break
        if tag in _BLOCK_TAGS:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] in {"title"}:
            return
        if not self._skipping():
            self._emit(re.sub(r"[ \t\r\n]+", " ", data))

    def _emit(self, s: str) -> None:
        if self._skipping():
            return
        self.out.append(s)
        if self.main_depth is not None and self.main_depth > 0:
            self.main_out.append(s)


def html_to_text(html: str) -> str:
    """Main text of an HTML page (EUR-Lex, matsne, generic): no navigation, scripts or styles."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    chosen = parser.main_out if "".join(parser.main_out).strip() else parser.out
    text = "".join(chosen)
    lines = [ln.strip() for ln in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --------------------------------------------------------------------------------------------
# Structure: headings → sections
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Heading:
    start: int  # offset of the heading line
    level: int
    title: str


_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_BOLD_LINE = re.compile(r"^\*\*(.{3,250}?)\*\*[ \t]*$", re.M)
_QUESTION = re.compile(r"^\*\*\\?\*?\s*(Question\s+N?\s?\d+)", re.M | re.I)
_LAW_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+)?\**(?P<kind>CHAPTER|Chapter|PART|Part|TITLE|SECTION|Section|"
    r"Article|ARTICLE|ANNEX|Annex|APPENDIX|Appendix)[ \t]+"
    r"(?P<num>[0-9IVXLC]+(?:[\u00b9\u00b2\u00b3\u2070-\u2079]|\.\d+)*)"
    r"\b[.:]?(?P<rest>[^\n]{0,120})$",
    re.M,
)
_LAW_LEVEL = {"part": 1, "title": 1, "chapter": 2, "section": 3, "article": 4, "annex": 2,
              "appendix": 2}
_POINT = re.compile(r"^[ \t]*(?:\((?P<a>\d{1,3}|[a-z])\)|(?P<b>\d{1,3})\.)[ \t]+\S", re.M)


def clean_title(raw: str, limit: int = 300) -> str:
    t = re.sub(r"<[^>]+>", "", raw)
    t = t.replace("\\", "").replace("**", "").replace("__", "").strip(" *#_:\t")
    t = re.sub(r"\s+", " ", t)
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def find_headings(text: str, structure: str) -> list[Heading]:
    """Headings of a document. ``structure`` is "markdown" (reports) or "legal" (laws).

    Besides Markdown headings, a whole bold line that ends in "?" or ":" is a minor heading,
    and a bold "Question N12" line opens a question section (level 3, under the chapter).
    A single level-1 heading is the document's own title and is left out of section paths.
    """
    heads: list[Heading] = []
    md = [m for m in _MD_HEADING.finditer(text)]
    h1 = [m for m in md if len(m.group(1)) == 1]
    for m in md:
        title = clean_title(m.group(2))
        if title and not (len(h1) == 1 and m is h1[0]):
            heads.append(Heading(m.start(), len(m.group(1)), title))
    taken = {m.start() for m in md}
    for m in _QUESTION.finditer(text):
        if m.start() not in taken:
            heads.append(Heading(m.start(), 3, clean_title(m.group(1))))
            taken.add(m.start())
    for m in _BOLD_LINE.finditer(text):
        raw = m.group(1).rstrip(" *\\")
        if m.start() in taken or "**" in raw or not raw.endswith(("?", ")", ":")):
            continue
        heads.append(Heading(m.start(), 7, clean_title(raw)))
        taken.add(m.start())
    if structure == "legal":
        for m in _LAW_HEADING.finditer(text):
            kind = m.group("kind").lower()
            label = f"{kind.capitalize()} {m.group('num')}"
            # An Annex title on the same line is informative; an Article's is kept short.
            rest = clean_title(m.group("rest"), 60)
            if rest and kind in {"annex", "appendix", "chapter", "part", "title"}:
                label = f"{label}. {rest}"
            heads = [h for h in heads if h.start != m.start()]
            heads.append(Heading(m.start(), _LAW_LEVEL[kind] + 1, clean_title(label)))
    return sorted(heads, key=lambda h: h.start)


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    path: tuple[str, ...]


def sections(text: str, structure: str) -> list[Section]:
    """Split a text into sections, each with its heading path."""
    heads = find_headings(text, structure)
    out: list[Section] = []
    stack: list[Heading] = []
    first = heads[0].start if heads else len(text)
    if text[:first].strip():
        out.append(Section(0, first, ()))
    for i, h in enumerate(heads):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        end = heads[i + 1].start if i + 1 < len(heads) else len(text)
        out.append(Section(h.start, end, tuple(s.title for s in stack)))
    return out


# --------------------------------------------------------------------------------------------
# Chunking
# --------------------------------------------------------------------------------------------
_PARA = re.compile(r"\n[ \t]*\n")
_SENT_END = re.compile(r"(?<=[.!?;])[\"'”’)]*\s+(?=[A-Z0-9(\"“‘\[•✓-])")


def _units(text: str, start: int, end: int, max_len: int) -> Iterator[tuple[int, int]]:
    """Paragraphs of text[start:end]; a paragraph longer than max_len is cut at sentences."""
    pos = start
    for m in _PARA.finditer(text, start, end):
        yield from _split_long(text, pos, m.start(), max_len)
        pos = m.end()
    yield from _split_long(text, pos, end, max_len)


def _split_long(text: str, start: int, end: int, max_len: int) -> Iterator[tuple[int, int]]:
    s, e = _trim(text, start, end)
    if e <= s:
        return
    if e - s <= max_len:
        yield s, e
        return
    pos = s
    cuts = [m.end() for m in _SENT_END.finditer(text, s, e)]
    piece_start = s
    for c in cuts + [e]:
        if c - piece_start > max_len and pos > piece_start:
            yield from _hard_cut(text, piece_start, pos, max_len)
            piece_start = pos
        pos = c
    yield from _hard_cut(text, piece_start, e, max_len)


def _hard_cut(text: str, s: int, e: int, max_len: int) -> Iterator[tuple[int, int]]:
    s, e = _trim(text, s, e)
    while e - s > max_len:
        cut = text.rfind(" ", s, s + max_len)
        cut = cut if cut > s + max_len // 2 else s + max_len
        yield _trim(text, s, cut)
        s = _trim(text, cut, e)[0]
    if e > s:
        yield s, e


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _legal_subsections(text: str, sec: Section, size: int) -> list[Section]:
    """An Article (or Annex) longer than one chunk is split at its numbered points."""
    if sec.end - sec.start <= size or not sec.path:
        return [sec]
    points = [m for m in _POINT.finditer(text, sec.start, sec.end) if m.start() > sec.start]
    if not points:
        return [sec]
    out = [Section(sec.start, points[0].start(), sec.path)]
    for i, m in enumerate(points):
        end = points[i + 1].start() if i + 1 < len(points) else sec.end
        num = m.group("a") or m.group("b")
        out.append(Section(m.start(), end, (*sec.path, f"point {num}")))
    # Merge tiny neighbours so that a chunk is not one line.
    merged: list[Section] = []
    for s in out:
        if merged and (s.end - merged[-1].start) <= size // 2:
            merged[-1] = Section(merged[-1].start, s.end, merged[-1].path)
        else:
            merged.append(s)
    return merged


def structure_for(info: DocumentInfo) -> str:
    return "legal" if info.doc_type in {"law", "recommendation"} else "markdown"


def chunk_document(doc: LoadedDocument, settings: Settings) -> list[Passage]:
    """Chunks that never cross a section or a document, each an exact slice of the text."""
    size, overlap = settings.chunk_size, min(settings.chunk_overlap, settings.chunk_size // 2)
    text, info = doc.text, doc.info
    structure = structure_for(info)
    secs = sections(text, structure)
    if structure == "legal":
        secs = [sub for s in secs for sub in _legal_subsections(text, s, size)]
    passages: list[Passage] = []
    for sec in secs:
        units = list(_units(text, sec.start, sec.end, size))
        if not units or sum(e - s for s, e in units) < 3:
            continue
        section = SECTION_SEP.join(sec.path)
        for cs, ce in _pack(units, size, overlap):
            passages.append(_make_passage(doc, text[cs:ce], cs, ce, section))
    return [replace(p, doc_chunks=len(passages)) for p in passages]


def _pack(units: list[tuple[int, int]], size: int, overlap: int) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= size:
            j += 1
        yield units[i][0], units[j][1]
        if j + 1 >= len(units):
            return
        # Start the next chunk with the last units of this one that fit in the overlap.
        k = j + 1
        while k - 1 > i and units[j][1] - units[k - 1][0] <= overlap:
            k -= 1
        i = k


def _make_passage(doc: LoadedDocument, text: str, start: int, end: int, section: str) -> Passage:
    info = doc.info
    page = doc.page_at(start)
    return Passage(
        id=Passage.make_id(info.id, text, start, end, section),
        doc_id=info.id,
        title=info.title,
        text=text,
        section=section,
        page=page.page if page else None,
        page_label=page.label if page else None,
        start=start,
        end=end,
        country=info.country,
        doc_type=info.doc_type,
        year=info.year,
        source=info.source,
        doc_sha256=doc.sha256,
    )


# --------------------------------------------------------------------------------------------
# The corpus as a whole
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusEntry:
    """A document the assistant knows of, and the file that holds it (if any)."""

    info: DocumentInfo
    path: Path
    in_manifest: bool

    @property
    def present(self) -> bool:
        return self.path.is_file()


def corpus_entries(settings: Settings) -> list[CorpusEntry]:
    """Manifest documents, then uploaded documents (data/documents), in a stable order."""
    entries = [
        CorpusEntry(info, document_path(info, settings), True)
        for info in load_manifest(settings.manifest_path)
    ]
    known = {e.path.resolve() for e in entries}
    up = settings.uploads_path
    if up.is_dir():
        for f in sorted(up.iterdir()):
            if f.is_file() and f.resolve() not in known and not f.name.startswith("."):
                info = replace(info_for_upload(f), path=str(f))
                entries.append(CorpusEntry(info, f, False))
    return entries


def alias_map(entries: Iterable[CorpusEntry]) -> dict[str, str]:
    """Document id or alias → document id."""
    out: dict[str, str] = {}
    for e in entries:
        out[e.info.id] = e.info.id
        for a in e.info.aliases:
            out[a] = e.info.id
    return out
