"""Text extraction from PDF files, with a page for every character (HTML: ``html``).

PDF text comes from PDFium (pypdfium2), chosen by measurement (docs/how-it-works.md, extraction
table). The text is normalised the way the reader will see it: Unicode NFKC (ligatures), line-end
hyphenation joined, running headers and footers removed. Every page keeps its character span in
the final text, so a quote can be cited to the page it is on. A printed page label is used only
when it agrees with the page number printed on the page itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import DocumentError


@dataclass(frozen=True)
class PageSpan:
    """Where one PDF page lies in the document's text; ``label`` is the checked printed label."""

    start: int
    end: int
    page: int  # 1-based
    label: str | None


@dataclass(frozen=True)
class OutlineEntry:
    """A bookmark of the PDF outline, placed in the text."""

    start: int
    level: int  # 1 = top
    title: str


@dataclass
class ExtractedPDF:
    text: str
    pages: list[PageSpan]
    outline: list[OutlineEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "page 12: text has no word breaks"


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------
_ROMAN = re.compile(r"^(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_NUMBER_TOKEN = re.compile(r"^\d{1,4}$")
_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running text


def roman_to_int(s: str) -> int | None:
    s = s.lower()
    if not s or not _ROMAN.match(s):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def _page_number_candidates(line: str) -> set[tuple[str, int]]:
    """Numbers a header/footer line may print as its page number: ("arabic"|"roman", value).

    Only where page numbers sit: the line's first or last word, or "N / total", "N of total".
    """
    words = line.split()
    if not words:
        return set()
    picked = {words[0], words[-1]}
    picked |= set(re.findall(r"(\S+)\s*(?:/|of)\s*\d+", line))
    out: set[tuple[str, int]] = set()
    for tok in picked:
        tok = tok.strip(".,()[]|-–—")
        if _NUMBER_TOKEN.match(tok):
            out.add(("arabic", int(tok)))
        elif (r := roman_to_int(tok)) is not None and tok in {tok.lower(), tok.upper()}:
            out.add(("roman", r))
    return out


def _mask(line: str) -> str:
    """A line with its numbers masked: running headers differ only in their page numbers."""
    folded = re.sub(r"\s+", " ", line.strip().lower())
    folded = re.sub(r"\b[ivxlc]{1,6}\b", lambda m: "#" if roman_to_int(m.group()) else m.group(),
                    folded)
    return re.sub(r"\d+", "#", folded)


def _edge_indices(lines: list[str]) -> list[int]:
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    return sorted(set(idx[:_EDGE_LINES] + idx[-_EDGE_LINES:]))


def printed_page_numbers(
    pages: list[list[str]], table: list[str | None] | None = None
) -> dict[int, str]:
    """Page index → the page number printed in its header or footer, where one is found.

    A number counts as the page number only when it follows the page order: printed number
    minus page index is the same offset on several pages (per numbering style, so roman front
    matter and arabic body are found separately). Where a page has both, the one that equals
    the PDF's own label for the page is taken, else the roman one.
    """
    if len(pages) < 2:
        return {}
    cands: dict[int, set[tuple[str, int]]] = {}
    for i, lines in enumerate(pages):
        cs: set[tuple[str, int]] = set()
        for j in _edge_indices(lines):
            cs |= _page_number_candidates(lines[j])
        cands[i] = cs
    found: dict[int, list[str]] = {}
    for style in ("roman", "arabic"):
        offsets = Counter(v - i for i, cs in cands.items() for s, v in cs if s == style)
        # An offset shared by 3 pages (2 in a short document) is a numbering, not chance.
        need = 2 if len(pages) <= 5 else 3
        good = {d for d, n in offsets.items() if n >= need}
        for i, cs in cands.items():
            hits = [v for s, v in cs if s == style and v - i in good]
            if hits:
                v = max(hits, key=lambda v: offsets[v - i])
                found.setdefault(i, []).append(str(v) if style == "arabic" else _int_to_roman(v))
    out: dict[int, str] = {}
    for i, options in found.items():
        own = (table[i] or "").lower() if table and i < len(table) else ""
        out[i] = next((o for o in options if o == own), options[0])
    return out


def glued_page_numbers(pages: list[list[str]], printed: dict[int, str]) -> dict[int, str]:
    """Pages whose printed number is glued onto the last or first line of text ("…op61"),
    found where the neighbouring pages' numbering expects it. Page index → that number."""
    offsets = Counter(int(p) - i for i, p in printed.items() if p.isdigit())
    if not offsets:
        return {}
    d, n = offsets.most_common(1)[0]
    if n < 3:
        return {}
    out: dict[int, str] = {}
    for i, lines in enumerate(pages):
        want = str(i + d)
        if i in printed or i + d < 1 or not lines:
            continue
        edges = [lines[j] for j in _edge_indices(lines)]
        if any(re.search(rf"(?<![\d.,]){want}$", ln.rstrip()) for ln in edges[-1:]) or any(
            re.match(rf"^{want}(?![\d.,])", ln.lstrip()) for ln in edges[:1]
        ):
            out[i] = want
    return out


def _int_to_roman(n: int) -> str:
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
            (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out, n = out + s, n - v
    return out


def checked_labels(table: list[str | None], printed: dict[int, str]) -> list[str | None]:
    """The label to show for each page: never one that disagrees with the printed number.

    - A page with a printed number shows that number (the PDF's label table is right or not).
    - A page without one shows the PDF label only when the table agrees with the printed
      numbers on every page where both exist, and at least one page could be checked.
    - Otherwise no label.
    """
    compared = [(table[i], p) for i, p in printed.items() if i < len(table) and table[i]]
    table_ok = bool(compared) and all((t or "").lower() == p.lower() for t, p in compared)
    out: list[str | None] = []
    for i, lab in enumerate(table):
        if i in printed:
            p = printed[i]
            out.append(lab if lab and lab.lower() == p.lower() else p)
        else:
            out.append(lab if table_ok and lab else None)
    return out


def _edge_pages(pages: list[list[str]]) -> dict[str, list[int]]:
    """For each masked line, the pages that carry it at their top or bottom."""
    seen: dict[str, list[int]] = {}
    for i, lines in enumerate(pages):
        for m in {_mask(lines[j]) for j in _edge_indices(lines)}:
            seen.setdefault(m, []).append(i)
    return seen


def _longest_run(idx: list[int], gap: int = 2) -> int:
    """Length of the longest run of page indices no more than ``gap`` apart."""
    best = run = 1 if idx else 0
    for a, b in zip(idx, idx[1:], strict=False):
        run = run + 1 if b - a <= gap else 1
        best = max(best, run)
    return best


def _is_running(line: str, where: dict[str, list[int]], n_pages: int,
                printed: str | None) -> bool:
    """A running header or footer line at the top or bottom of a page:
    - it repeats on half the pages, or on 3 pages close together (a chapter's running head,
      "User Guide Chapter 2 Graphics and Text"), or
    - it is short and starts or ends with this page's printed number ("3.5. Problem 4 25")."""
    m = _mask(line)
    if not m:
        return False
    pages = where.get(m, [])
    wordy = len(re.findall(r"[^\W\d_]", m)) >= 4  # not "}" or "end;" closing a listing
    if wordy and n_pages >= 3 and (len(pages) >= max(3, n_pages // 2)
                                   or _longest_run(pages) >= 3):
        return True
    toks = [t.strip(".,()[]").lower() for t in re.split(r"[\s|/–—-]+", line.strip()) if t]
    # A line of separators only ("-", "|") has no tokens: it is not a running head.
    return (printed is not None and 1 < len(toks) <= 12
            and printed.lower() in {toks[0], toks[-1]})


def _is_bare_number(line: str) -> bool:
    t = line.strip().strip("-–— ").lower()
    return bool(_NUMBER_TOKEN.match(t) or (roman_to_int(t) is not None and len(t) <= 6)
                or re.fullmatch(r"(page|p\.)\s*\d{1,4}(\s*(/|of)\s*\d{1,4})?", t))


def normalise_page(raw: str) -> str:
    """One page's raw text as the reader sees it: NFKC, hyphenation joined, lines kept."""
    t = raw.replace("\r\n", "\n").replace("\r", "\n")
    # PDFium marks a hyphen that the typesetter added at a line end as U+FFFE.
    t = re.sub("\ufffe[ \t]*\n[ \t]*", "", t)
    t = t.replace("\ufffe", "").replace("\x02", "")
    t = unicodedata.normalize("NFKC", t)
    t = "".join(ch for ch in t if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(ln.rstrip() for ln in t.split("\n"))


_LETTERS = re.compile(r"[^\W\d_]+")


def readability_problem(text: str) -> str | None:
    """Why a page's text cannot be read as words, or None. Word-length statistics only, so
    that it holds for any language."""
    toks = _LETTERS.findall(text)
    letters = sum(len(t) for t in toks)
    if letters < 200:
        return None
    long_share = sum(len(t) for t in toks if len(t) >= 25) / letters
    mean = letters / len(toks)
    if long_share > 0.3 or mean > 12:
        return "text has no word breaks (words run together); the extracted text is unusable"
    return None


# What to do about a PDF that cannot be read (the page's upload and `assistant ingest` both say it).
UNREADABLE_PDF_FIX = ("open it in a PDF reader and save or export it again as a PDF, or add its "
                      "text as a .txt or .md file")


def _unreadable(why: str) -> str:
    return f"PDF cannot be read ({why.rstrip('.')}); {UNREADABLE_PDF_FIX}"


def read_pdf(path: Path) -> ExtractedPDF:
    """Extract a PDF: normalised text, page spans with checked labels, outline, problems."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise DocumentError(path, "PDF is encrypted; save an unprotected copy first") from exc
        raise DocumentError(path, _unreadable(msg)) from exc
    try:
        raw_pages: list[str] = []
        image_only: list[int] = []
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            raw = textpage.get_text_range()
            textpage.close()
            if not raw.strip() and any(True for _ in page.get_objects(max_depth=1)):
                image_only.append(i)
            page.close()
            raw_pages.append(raw)
        table: list[str | None] = []
        for i in range(len(doc)):
            try:
                table.append(doc.get_page_label(i) or None)
            except pdfium.PdfiumError:
                table.append(None)
        bookmarks = []
        for bm in doc.get_toc(max_depth=6):
            dest = bm.get_dest()
            idx = dest.get_index() if dest is not None else None
            if idx is not None:
                bookmarks.append((bm.level + 1, bm.get_title() or "", idx))
    except pdfium.PdfiumError as exc:
        raise DocumentError(path, _unreadable(str(exc))) from exc
    finally:
        doc.close()
    return assemble_pdf_text(raw_pages, table, bookmarks, image_only, path)


def assemble_pdf_text(
    raw_pages: list[str],
    table: list[str | None],
    bookmarks: list[tuple[int, str, int]],
    image_only: list[int],
    path: Path,
) -> ExtractedPDF:
    """Pages of raw text → one normalised text with page spans, outline and problems."""
    pages = [normalise_page(r).split("\n") for r in raw_pages]
    printed = printed_page_numbers(pages, table)
    glued = glued_page_numbers(pages, printed)
    for i, num in glued.items():
        lines = pages[i]
        edges = _edge_indices(lines)
        first, last = edges[0], edges[-1]
        if lines[last].rstrip().endswith(num):
            lines[last] = lines[last].rstrip()[: -len(num)]
        else:
            lines[first] = lines[first].lstrip()[len(num):]
    printed = {**printed, **glued}
    labels = checked_labels(table, printed)
    where = _edge_pages(pages)
    texts: list[str] = []
    for i, lines in enumerate(pages):
        edge_set = set(_edge_indices(lines))
        kept = [
            ln for j, ln in enumerate(lines)
            if not (j in edge_set and (_is_bare_number(ln)
                                    or _is_running(ln, where, len(pages), printed.get(i))))
        ]
        texts.append("\n".join(kept).strip())
    problems = []
    for i, t in enumerate(texts):
        why = readability_problem(t)
        if why:
            problems.append(f"page {i + 1}: {why}")
    for i in image_only:
        problems.append(f"page {i + 1}: image only, no text layer; run OCR on the file "
                        "(for example ocrmypdf) to make it searchable")
    if not any(t.strip() for t in texts):
        raise DocumentError(path, "PDF has no text layer (scanned images?); run OCR on it first "
                                  "(for example ocrmypdf)")
    parts: list[str] = []
    spans: list[PageSpan] = []
    pos = 0
    for i, t in enumerate(texts):
        if parts:
            prev = parts[-1] if parts[-1].strip() else ""
            # A sentence that runs on over the page break stays one paragraph.
            sep = "\n" if prev and not prev.rstrip().endswith((".", ":", "!", "?")) \
                and t[:1].islower() else "\n\n"
            parts.append(sep)
            pos += len(sep)
        parts.append(t)
        spans.append(PageSpan(pos, pos + len(t), i + 1, labels[i] if i < len(labels) else None))
        pos += len(t)
    text = "".join(parts)
    return ExtractedPDF(text, spans, _place_outline(text, spans, bookmarks), problems)


def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def _place_outline(
    text: str, spans: list[PageSpan], bookmarks: list[tuple[int, str, int]]
) -> list[OutlineEntry]:
    """Each bookmark at its title's line on its page (or at the page start when not found)."""
    out: list[OutlineEntry] = []
    last_pos: dict[int, int] = {}
    for level, title, idx in bookmarks:
        title = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", title)).strip()
        if not title or idx < 0 or idx >= len(spans):
            continue
        span = spans[idx]
        start = max(span.start, last_pos.get(idx, span.start))
        pos = _find_line(text, start, span.end, title)
        if pos is None:
            pos = _find_line(text, span.start, span.end, title)
        where = pos if pos is not None else span.start
        last_pos[idx] = where + 1 if pos is not None else last_pos.get(idx, span.start)
        out.append(OutlineEntry(where, level, title))
    out.sort(key=lambda e: e.start)
    return out


def _find_line(text: str, start: int, end: int, title: str) -> int | None:
    """Offset of the line that holds ``title`` (whitespace folded, case ignored)."""
    want = _fold(title)
    pos = start
    for line in text[start:end].split("\n"):
        if want and want in _fold(line):
            return pos
        pos += len(line) + 1
    return None
