"""Document text as safe HTML: Markdown rendered, a short list of tags allowed, quotes marked.

Passages are Markdown (the bundled reports) or plain text (PDF, HTML extraction). They are
shown rendered, so a reader sees bold text and superscripts, not ``**`` and ``<sup>``.
Safety comes in two layers:

1. Before rendering, every ``<`` that does not open or close one of :data:`INLINE_TAGS`
   (bare, without attributes) is escaped, so ``<script>`` is shown as text.
2. After rendering (markdown-it-py), the HTML goes through nh3 (the Rust ``ammonia``
   sanitiser) with an allow-list of tags and no attributes.

Quotes are marked by placing private-use sentinels at their offsets in the source, which
survive both steps and become ``<mark class="q qN">`` (N: the citation number), closed and
reopened around any tag so that a quote spanning two paragraphs or list items stays
well-formed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from assistant.text import quote_span, without_autolink_marks

INLINE_TAGS = ("sup", "sub", "br", "b", "i", "em", "strong", "u", "s", "small")
BLOCK_TAGS = ("p", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
              "table", "thead", "tbody", "tr", "th", "td", "hr", "pre", "code", "del")
ALLOWED_TAGS = frozenset(INLINE_TAGS + BLOCK_TAGS + ("mark",))
_RAW_TAG = re.compile(r"</?(?:{})\s*/?>".format("|".join(INLINE_TAGS)), re.I)
_LT = re.compile(r"<")
_START = 0xE000  # start sentinel of quote i: chr(_START + i)
_END = 0xE100  # end sentinel of quote i
_STRAY_EMPHASIS = re.compile(r"(?<![\\*])\*\*+|(?<![\\_\w])__+(?![\w])")
_SENTINEL_OR_TAG = re.compile(r"[\ue000-\ue1ff]|<[^>]*>")
_LINE_MARKS = re.compile(r"[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)+")


@lru_cache(maxsize=1)
def _md() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
        "table").disable(["image", "link", "autolink"])


def escape_markup(text: str) -> str:
    """Escape every ``<`` except those of bare allow-listed inline tags (``<sup>``, ``</b>``)."""
    out: list[str] = []
    pos = 0
    for m in _RAW_TAG.finditer(text):
        out.append(_LT.sub("&lt;", text[pos : m.start()]))
        out.append(m.group(0).lower().replace(" ", ""))
        pos = m.end()
    out.append(_LT.sub("&lt;", text[pos:]))
    return "".join(out)


def sanitize(fragment: str) -> str:
    """Allow-listed tags only, without attributes."""
    import nh3

    return str(nh3.clean(fragment, tags=set(ALLOWED_TAGS), attributes={},
                         url_schemes=set(), link_rel=None, strip_comments=True))


def _spans(text: str, quotes: Sequence[tuple[int, str]]) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, end, the n of every quote inside) of each quote found in ``text``, overlapping
    ones merged into one mark that carries all their numbers (a quote inside another one is
    found, and its marker finds the mark)."""
    found = sorted((s, e, n) for n, q in quotes if (sp := quote_span(text, q))
                   for s, e in [sp])
    merged: list[tuple[int, int, tuple[int, ...]]] = []
    for s, e, n in found:
        if merged and s < merged[-1][1]:
            ps, pe, pns = merged[-1]
            merged[-1] = (ps, max(pe, e), pns if n in pns else (*pns, n))
        else:
            merged.append((s, e, (n,)))
    return merged


def render_passage(text: str, quotes: Sequence[tuple[int, str]] = (),
                   plain: bool = False) -> tuple[str, list[int]]:
    """The passage as safe HTML with each (n, quote) found marked; and the n found.

    ``plain``: the text is not Markdown (a PDF's or a .txt file's): every character is shown as
    stored, lines kept, so "/* … */" or "a * b" is not read as emphasis (a trial saw a card
    drop the asterisks of C comments and turn text to italics). A quote that is not in the text
    is not marked: the caller shows it apart, as unverified.
    """
    html_out, found = _render(text, tuple(quotes), plain)
    return html_out, list(found)


def _plain_html(src: str) -> str:
    """Text as HTML paragraphs, every character escaped, single line breaks kept."""
    paras = [p.strip("\n") for p in re.split(r"\n\s*\n", src)]
    return "".join(f"<p>{html.escape(p, quote=False).replace(chr(10), '<br>')}</p>"
                   for p in paras if p.strip())


def _past_line_marks(text: str, s: int, e: int) -> int:
    """A quote's start moved past the block marks that open its line ("### ", "- ", "1. ",
    "> "): a mark placed before them would hide the heading or list item from the renderer,
    which would then show "###" inside the highlight."""
    if s and text[s - 1] != "\n":
        return s
    m = _LINE_MARKS.match(text, s, e)
    return m.end() if m and m.end() < e else s


@lru_cache(maxsize=4096)
def _render(text: str, quotes: tuple[tuple[int, str], ...],
            plain: bool = False) -> tuple[str, tuple[int, ...]]:
    spans = _spans(text, quotes)
    src: list[str] = []
    pos = 0
    for i, (s, e, _) in enumerate(spans):
        s = s if plain else _past_line_marks(text, s, e)
        src += [text[pos:s], chr(_START + i), text[s:e], chr(_END + i)]
        pos = e
    src.append(text[pos:])
    if plain:
        rendered = _plain_html("".join(src))
    else:
        # Emphasis markers left over by the renderer are unbalanced (a chunk cut mid-bold).
        md_src = escape_markup(without_autolink_marks("".join(src)))
        rendered = _STRAY_EMPHASIS.sub("", sanitize(_md().render(md_src)))
    return (_marks(rendered, [" ".join(f"q{n}" for n in ns) for _, _, ns in spans]),
            tuple(n for _, _, ns in spans for n in ns))


def _marks(rendered: str, classes: list[str]) -> str:
    """Turn sentinels into ``<mark>``, closing and reopening the mark around every tag."""
    out: list[str] = []
    pos = 0
    current: str | None = None
    for m in _SENTINEL_OR_TAG.finditer(rendered):
        out.append(rendered[pos : m.start()])
        tok = m.group(0)
        if len(tok) == 1:
            code = ord(tok)
            if _START <= code < _END and code - _START < len(classes):
                current = classes[code - _START]
                out.append(f'<mark class="q {current}">')
            elif current is not None:
                out.append("</mark>")
                current = None
        elif current is not None:
            out.append(f'</mark>{tok}<mark class="q {current}">')
        else:
            out.append(tok)
        pos = m.end()
    out.append(rendered[pos:])
    html_out = "".join(out)
    return re.sub(r'<mark class="q (?:q\d+ ?)+">(\s*)</mark>', r"\1", html_out)


def render_text(text: str) -> str:
    """Document text as safe HTML, nothing marked."""
    return render_passage(text)[0]


def plain(text: str) -> str:
    """Escaped text, for places that show no markup at all."""
    return html.escape(text)

