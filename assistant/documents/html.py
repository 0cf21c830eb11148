"""HTML to text: the declared (or detected) charset, the main content, its headings."""

from __future__ import annotations

import codecs
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from assistant.errors import DocumentError

# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I
)
# Browsers read these labels as windows-1252 (WHATWG encoding standard).
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
              "cp819", "ibm819", "iso_8859-1", "windows-1252"}


def declared_charset(raw: bytes) -> str | None:
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii", "replace").lower() if m else None


def decode_html(raw: bytes, path: Path) -> str:
    """An HTML file's text: byte-order mark, then the declared charset, then UTF-8, then
    detection (charset-normalizer); refused only when none of them reads it."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw.decode("utf-8-sig", errors="replace")
    declared = declared_charset(raw)
    if declared:
        name = "cp1252" if declared in _AS_CP1252 else declared
        try:
            codecs.lookup(name)
            return raw.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise DocumentError(
            path, "the text encoding cannot be recognised (not UTF-8, no declared charset); "
                  "re-save it as UTF-8"
        )
    return str(best)


_SKIP_TAGS = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
              "button", "select", "svg", "iframe", "template", "title"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "br", "table", "li", "ul", "ol",
               "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dt", "dd", "caption"}
_NOISE = re.compile(r"(^|[-_ ])(nav|menu|breadcrumb|footer|header|cookie|sidebar|banner|toolbar)",
                    re.I)
# EUR-Lex puts the act in #document1 / .eli-container, matsne in #maindoc / .maindoc.
_MAIN_HINT = re.compile(r"^(document1|maindoc|textTabContent|TexteOnly|eli-container|content)$",
                        re.I)
# A table row whose first cell is only a point marker is a numbered point, not a data row:
# EUR-Lex sets "(a) | text" points as two-cell tables.
_POINT_CELL = re.compile(r"^(\(?[0-9]{1,3}[.)]?|\(?[a-z]{1,2}\)|\(?[ivx]{1,5}\)|[—–•-])$")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.out: list[str] = []
        self.main_out: list[str] = []
        self.main_depth: int | None = None
        self.rows: list[list[list[str]]] = []  # open table rows: cells of text pieces

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        marker = f"{a.get('id', '')} {a.get('class', '')} {a.get('role', '')}"
        skip = tag in _SKIP_TAGS or bool(_NOISE.search(marker)) or "navigation" in marker
        if tag in {"br", "img", "hr", "meta", "link", "input", "col", "wbr"}:
            if tag == "br":
                self._emit(" " if self.rows and self.rows[-1] else "\n")
            return
        self.stack.append((tag, skip))
        is_main = tag == "main" or any(_MAIN_HINT.match(t) for t in marker.split() if t)
        if self.main_depth is None and is_main and not self._skipping():
            self.main_depth = len(self.stack)
        if tag == "tr":
            self.rows.append([])
            return
        if tag in {"td", "th"} and self.rows:
            self.rows[-1].append([])
            return
        if self.rows and self.rows[-1]:
            self._emit(" ")  # a block inside a cell stays inside its row
            return
        if tag in _BLOCK_TAGS:
            self._emit("\n\n" if tag != "li" else "\n")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._emit("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._emit("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.rows:
            self._close_row()
        while self.stack:
            t, _ = self.stack.pop()
            if self.main_depth is not None and len(self.stack) < self.main_depth:
                self.main_depth = -1  # main content closed; keep what we have
            if t == tag:
                break
        if tag in _BLOCK_TAGS and not (self.rows and self.rows[-1]):
            self._emit("\n")

    def _close_row(self) -> None:
        cells = [re.sub(r"\s+", " ", "".join(c)).strip() for c in self.rows.pop()]
        cells = [c for c in cells if c]
        if not cells:
            return
        if len(cells) >= 2 and _POINT_CELL.match(cells[0]):
            line = f"{cells[0]} {' | '.join(cells[1:])}"
        else:
            line = " | ".join(cells)
        self._emit(f"\n{line}\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self._emit(re.sub(r"[ \t\r\n]+", " ", data))

    def _emit(self, s: str) -> None:
        if self._skipping():
            return
        if self.rows and self.rows[-1]:
            self.rows[-1][-1].append(s)
            return
        self.out.append(s)
        if self.main_depth is not None and self.main_depth > 0:
            self.main_out.append(s)


def html_to_text(html: str) -> str:
    """Main text of an HTML page (EUR-Lex, matsne, generic): no navigation, scripts or styles.

    Headings become Markdown headings; a table row becomes one "cell | cell" line.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    while parser.rows:
        parser._close_row()
    chosen = parser.main_out if "".join(parser.main_out).strip() else parser.out
    text = unicodedata.normalize("NFKC", "".join(chosen))
    lines = [ln.strip() for ln in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
