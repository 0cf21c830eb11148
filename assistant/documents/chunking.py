"""Structure-aware chunking: headings, sections and the passages cut from a loaded document.

Every chunk is an exact slice of its document's extracted text, so a quote taken from a chunk
can always be found again in the document, at the recorded character offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.config import Settings
from assistant.documents.loaders import LoadedDocument
from assistant.documents.pdf import OutlineEntry
from assistant.safety import instruction_like
from assistant.text import breaks_a_word
from assistant.types import SECTION_SEP, DocumentInfo, Passage

# Raise it whenever a change cuts passages or sentences differently: the next ingest re-cuts
# every document an older version cut (its unchanged texts keep their vectors). 1: a word or a
# sentence broken over a page is kept whole (2026-11-30). 2: the same cut; raised so that an
# index re-cut to 1 is re-cut again, since that re-cut left passages whose id had not changed
# with their old sentence rows (an index that answered differently from a fresh build). 3: a
# sentence broken after an apostrophe or closing quote ("the providers'" | "determinations") is
# kept whole, and a sentence's closing quote stays with it (2026-11-30).
CHUNKING_VERSION = 3

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
_POINT = re.compile(
    r"^[ \t]*(?:\((?P<a>\d{1,3}|[a-z])\)|(?P<b>\d{1,3})\.|(?P<c>[a-z])\))[ \t]+\S", re.M
)


def clean_title(raw: str, limit: int = 300) -> str:
    t = re.sub(r"<[^>]+>", "", raw)
    t = t.replace("\\", "").replace("**", "").replace("__", "").strip(" *#_:\t")
    t = re.sub(r"\s+", " ", t)
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.M)
_LIST_NUMBER = re.compile(r"^(\d{1,3})\.[ \t]+\S")
_ROMAN_TITLE = re.compile(r"^[IVX]{1,5}\.[ \t]")
_DOTTED_TITLE = re.compile(r"^\d{1,2}((?:\.\d{1,2})+)\.?[ \t]")
# A numbered heading line of a PDF: "2.3 Attributes", "4 Usage notes" (not a TOC line that ends
# in its page number, not a sentence that ends in a full stop).
_PDF_NUMBERED = re.compile(
    r"^[ \t]*(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?[ \t]+(?P<title>[A-Z][^\n]{1,80}?)[ \t]*$", re.M
)


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks (``` or ~~~); an unclosed fence runs to the end."""
    out: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for m in _FENCE.finditer(text):
        fence = m.group(1)
        if opened is None:
            opened = (m.start(), fence[0])
        elif fence[0] == opened[1]:
            out.append((opened[0], m.end()))
            opened = None
    if opened is not None:
        out.append((opened[0], len(text)))
    return out


def _continues_a_list(text: str, start: int, title: str) -> bool:
    """Is a heading "27. Name" the next item of the numbered list just above it (item 26)?"""
    m = _LIST_NUMBER.match(title)
    if not m or int(m.group(1)) < 2:
        return False
    above = [ln for ln in text[max(0, start - 3000) : start].splitlines()
             if ln.strip() and not re.fullmatch(r"\s*(-{3,}|\*{3,}|_{3,})\s*", ln)]
    return bool(above) and re.match(rf"^[ \t>*-]*{int(m.group(1)) - 1}\.[ \t]+\S",
                                    above[-1]) is not None


_LIST_LINE = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)]|---+)(?:[ \t]|$)")
_QUESTION_NUMBER = re.compile(r"^\*?[ \t]*(\d{1,3})\.[ \t]")


def _repair_levels(text: str, heads: list[Heading]) -> list[Heading]:
    """Levels from numbering and content where the converted Markdown got them wrong.

    - Roman-numbered chapters ("II. Methodology", "III. Survey results") all take the level
      of the highest of them; "2.2. Selection" sits one level below its chapter.
    - Numbered questions ("3. Does…", "4. How…") take the level of the one before them.
    - A heading that follows a caption over nothing but a list ("State Universities:" and its
      list) is that caption's sibling, not its child.
    """
    roman = [h.level for h in heads if _ROMAN_TITLE.match(h.title) and h.level <= 6]
    top = min(roman) if len(roman) >= 2 else None
    out: list[Heading] = []
    for h in heads:
        if top is not None and h.level <= 6 and _ROMAN_TITLE.match(h.title):
            h = Heading(h.start, top, h.title)
        elif top is not None and h.level <= 6 and (d := _DOTTED_TITLE.match(h.title)):
            h = Heading(h.start, top + d.group(1).count("."), h.title)
        elif out and (q := _QUESTION_NUMBER.match(h.title)):
            prev = next((o for o in reversed(out) if _QUESTION_NUMBER.match(o.title)), None)
            pm = _QUESTION_NUMBER.match(prev.title) if prev else None
            if prev and pm and int(q.group(1)) == int(pm.group(1)) + 1:
                h = Heading(h.start, prev.level, h.title)
        if out and h.level > out[-1].level and h.level <= 6:
            a = out[-1]
            body = text[a.start : h.start].split("\n", 1)[1:] or [""]
            lines = [ln for ln in body[0].splitlines() if ln.strip()]
            if lines and all(_LIST_LINE.match(ln) for ln in lines):
                h = Heading(h.start, a.level, h.title)
        out.append(h)
    return _nest_between_chapters(out, top) if top is not None else out


def _nest_between_chapters(heads: list[Heading], top: int) -> list[Heading]:
    """An unnumbered heading at chapter level between two roman chapters ("RECOGNITION"
    between "II. Survey results" and "III. Findings") belongs to the chapter before it, and
    its own subsections move down with it."""
    romans = [i for i, h in enumerate(heads) if h.level == top and _ROMAN_TITLE.match(h.title)]
    first, last = romans[0], romans[-1]
    out: list[Heading] = []
    shift_below: int | None = None  # the original level of the heading being moved down
    for i, h in enumerate(heads):
        if shift_below is not None and h.level <= shift_below:
            shift_below = None
        if first < i < last and h.level <= top and not _ROMAN_TITLE.match(h.title):
            shift_below = h.level
            h = Heading(h.start, top + 1, h.title)
        elif shift_below is not None:
            h = Heading(h.start, h.level + 1, h.title)
        out.append(h)
    return out


def _pdf_numbered_headings(text: str) -> list[Heading]:
    """Numbered headings of a PDF without an outline, kept only when the numbers follow on
    ("2" → "2.1" → "2.2" → "3"), so that numbered list items and tables are not taken."""
    heads: list[Heading] = []
    last: tuple[int, ...] = (0,)
    for m in _PDF_NUMBERED.finditer(text):
        title = m.group("title")
        if title.endswith((".", ",", ";", ":")) or re.search(r"(\.{3,}|\s\d{1,4})$", title):
            continue
        num = tuple(int(x) for x in m.group("num").split("."))
        nexts = {(*last, 1)} | {(*last[:k], last[k] + 1) for k in range(len(last))}
        if num not in nexts:
            continue
        last = num
        heads.append(Heading(m.start(), len(num), clean_title(f"{m.group('num')} {title}")))
    return heads


def find_headings(
    text: str, structure: str, fmt: str = "md", outline: Sequence[OutlineEntry] = ()
) -> list[Heading]:
    """Headings of a document. ``structure`` is "markdown" (reports) or "legal" (laws).

    Besides Markdown headings, a whole bold line that ends in "?" or ":" is a minor heading,
    and a bold "Question N12" line opens a question section (level 3, under the chapter).
    A single level-1 heading is the document's own title and is left out of section paths.
    A "#" inside a fenced code block, or a heading that is the next item of a numbered list,
    is no heading. A PDF has no Markdown: its sections come from its outline, or else from
    numbered headings ("2.3 Attributes") and, in legal texts, Article/Chapter lines.
    """
    heads: list[Heading] = []
    if fmt == "pdf":
        if outline:
            return [Heading(o.start, o.level, clean_title(o.title)) for o in outline]
        # In a law, numbered lines are points of an article (split later), not headings.
        if structure == "legal":
            return sorted(_legal_headings(text, []), key=lambda h: h.start)
        return _pdf_numbered_headings(text)
    fenced = _fenced_ranges(text)

    def in_code(pos: int) -> bool:
        return any(a <= pos < b for a, b in fenced)

    md = [m for m in _MD_HEADING.finditer(text) if not in_code(m.start())]
    md = [m for m in md if not _continues_a_list(text, m.start(), clean_title(m.group(2)))]
    h1 = [m for m in md if len(m.group(1)) == 1]
    for m in md:
        title = clean_title(m.group(2))
        if title and not (len(h1) == 1 and m is h1[0]):
            heads.append(Heading(m.start(), len(m.group(1)), title))
    taken = {m.start() for m in md}
    for m in _QUESTION.finditer(text):
        if m.start() not in taken and not in_code(m.start()):
            heads.append(Heading(m.start(), 3, clean_title(m.group(1))))
            taken.add(m.start())
    for m in _BOLD_LINE.finditer(text):
        raw = m.group(1).rstrip(" *\\")
        # A wrapped bold line ("**credentials?**") is no heading: a heading starts a sentence.
        if m.start() in taken or "**" in raw or not raw.endswith(("?", ")", ":")) \
                or in_code(m.start()) or not re.match(r"[*\\ ]*[A-Z0-9]", raw):
            continue
        heads.append(Heading(m.start(), 7, clean_title(raw)))
        taken.add(m.start())
    heads = _repair_levels(text, sorted(heads, key=lambda h: h.start))
    if structure == "legal":
        heads = _legal_headings(text, heads, in_code)
    return sorted(heads, key=lambda h: h.start)


def _legal_headings(
    text: str, heads: list[Heading], in_code: Callable[[int], bool] = lambda _: False
) -> list[Heading]:
    for m in _LAW_HEADING.finditer(text):
        if in_code(m.start()):
            continue
        kind = m.group("kind").lower()
        label = f"{kind.capitalize()} {m.group('num')}"
        # An Annex title on the same line is informative; an Article's is kept short.
        rest = clean_title(m.group("rest").lstrip(" \u2013\u2014-"), 60)
        if rest and kind in {"annex", "appendix", "chapter", "part", "title"}:
            label = f"{label}. {rest}"
        heads = [h for h in heads if h.start != m.start()]
        heads.append(Heading(m.start(), _LAW_LEVEL[kind] + 1, clean_title(label)))
    return heads


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    path: tuple[str, ...]


def sections(
    text: str, structure: str, fmt: str = "md", outline: Sequence[OutlineEntry] = ()
) -> list[Section]:
    """Split a text into sections, each with its heading path."""
    heads = find_headings(text, structure, fmt, outline)
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
        if breaks_a_word(text[pos : m.start()], text[m.end() : m.end() + 80].lstrip()):
            continue  # "micro-" | "credentials": a page break inside a word, not a paragraph
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
        num = m.group("a") or m.group("b") or m.group("c")
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
    secs = sections(text, structure, doc.fmt, doc.outline)
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
        page_breaks=doc.page_breaks(start, end),
        start=start,
        end=end,
        country=info.country,
        doc_type=info.doc_type,
        year=info.year,
        source=info.source,
        doc_sha256=doc.sha256,
        origin=info.origin,
        uploaded_by=info.uploaded_by,
        uploaded_at=info.uploaded_at,
        instruction_like=instruction_like(text),
        chunking=CHUNKING_VERSION,
    )
