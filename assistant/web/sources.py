"""Source cards and chat messages: pure functions from answers to safe HTML/Markdown."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.prompts import OUTCOME_LABELS
from assistant.types import (
    COUNTRIES,
    Answer,
    Citation,
    Passage,
    format_reference,
    question_lines,
    short_title,
)
from assistant.web.render import render_passage

if TYPE_CHECKING:

    pass


NOT_AN_ANSWER = "Not an answer"


PANEL_EARLIER = 4  # earlier answers whose sources the panel keeps (older: in their message)


_MARKERS = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")
# A URL as the chat's Markdown would link it (scheme or "www."), up to a space, a bracket or a
# quote mark; its end is then trimmed by _url_end.
_URL = re.compile(r"(https?://|ftp://|www\.)[^\s<>\"\u201c\u201d\u2018\u2019\[\]{}|\\^`]+", re.I)
_URL_TRAILING = frozenset(".,;:!?'*_~")


# --------------------------------------------------------------------------------------------
# Sources panel and chat messages (pure functions: easy to test)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    """One passage and the citations that quote it (one card per passage)."""

    passage: Passage
    citations: tuple[Citation, ...]


def group_citations(citations: Sequence[Citation]) -> list[Card]:
    """One card per passage, in the order of each passage's first citation number."""
    cards: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        cards.setdefault(c.passage.id, []).append(c)
    return [Card(cs[0].passage, tuple(cs)) for cs in cards.values()]


def anchor(turn: int, n: int) -> str:
    """The element id a [n] of answer ``turn`` links to."""
    return f"src-{turn}-{n}"


def origin_badge(p: Passage) -> str:
    """" (uploaded document, not an official source)" as escaped HTML for an upload, else ""."""
    if p.official:
        return ""
    who = ", ".join(x for x in (p.uploaded_by, p.uploaded_at[:10]) if x)
    note = f"{p.origin_note()}; added by {who}" if who else p.origin_note()
    return f' <span class="warn origin">({html.escape(note)})</span>'


def _card_html(p: Passage, citations: Sequence[Citation], turn: int, in_message: bool) -> str:
    return _card(p, tuple(citations), turn, in_message)


@lru_cache(maxsize=1024)  # pure; every answer of a conversation is shown again with the next
def _card(p: Passage, citations: tuple[Citation, ...], turn: int, in_message: bool) -> str:
    body, found = render_passage(p.text, [(c.n, c.quote) for c in citations],
                                 plain=p.is_plain_text)
    # Anchors: an id in the panel; a class in a chat message (gradio's sanitiser drops ids).
    anchors = "".join(
        (f'<span class="anchor m{anchor(turn, c.n)}"></span>' if in_message
         else f'<span class="anchor" id="{anchor(turn, c.n)}"></span>')
        for c in citations
    )
    nums = " ".join(f"[{c.n}]" for c in citations)
    head = f'<span class="src-n">{nums}</span> ' if nums else ""
    missing = [c for c in citations if c.n not in found]
    extra = "".join(
        f'<blockquote class="unverified">[{c.n}] “{html.escape(c.quote)}” '
        f'<span class="warn">(quote not found in the passage)</span></blockquote>'
        for c in missing
    )
    flag = "" if all(c.verified for c in citations) else (
        ' <span class="warn">(quote not verified)</span>')
    meta = html.escape(f"{COUNTRIES.get(p.country, p.country)} · {p.title}")
    # In a message too: on a phone the answer's own cards are the only ones shown (on a
    # desktop they are hidden while the sources column shows the same cards). gradio's
    # sanitiser drops data-* and aria-* in a message, so the id is in a class ("pid-<id>",
    # page.js reads it) as well.
    opener = (f'<button class="open-doc pid-{html.escape(p.id)}" '
              f'data-passage="{html.escape(p.id)}" type="button" '
              f'aria-label="Open {html.escape(short_title(p))} at this passage">'
              "Open document</button>")
    return (
        f'<div class="src">{anchors}<div class="src-head">{head}'
        f"{html.escape(short_title(p))}{flag}{origin_badge(p)}</div>"
        f'<div class="src-ref">{html.escape(format_reference(p))}</div>'
        f'<div class="src-meta">{meta}</div>{extra}'
        f'<div class="src-text">{body}</div>{opener}</div>'
    )


def answer_cards(answer: Answer, turn: int, in_message: bool = False) -> str:
    """The cards of one answer: its cited passages, or the closest passages of an abstention."""
    if answer.outcome == "evidence":
        cards = "".join(
            _card_html(sp.passage, [h for h in answer.highlights
                                    if h.passage.id == sp.passage.id], turn, in_message)
            for sp in answer.passages)
        first = ("each country\u2019s closest passage first, its best sentence highlighted"
                 if len({h.passage.id for h in answer.highlights}) > 1 else
                 "the closest passage first, its best sentences highlighted")
        return (f'<h4 class="not-answer outcome-evidence">'
                f"{html.escape(OUTCOME_LABELS['evidence'])}: {first}</h4>{cards}")
    if answer.abstained:
        cards = "".join(_card_html(sp.passage, [], turn, in_message) for sp in answer.passages)
        return (f'<h4 class="not-answer outcome-none">{NOT_AN_ANSWER}: the closest passages</h4>'
                f"{cards or '<p class=empty>No passage came close.</p>'}")
    if not answer.citations:  # an llm answer still streaming
        return '<p class="empty">Checking the citations…</p>'
    parts = [_card_html(card.passage, card.citations, turn, in_message)
             for card in group_citations(answer.citations)]
    parts += _closest_cards(answer.highlights, turn, in_message)
    unsupported = [s.sentence for s in answer.support if not s.supported]
    if unsupported:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in unsupported)
        parts.append(f'<div class="warn">Not supported by the passages:<ul>{items}</ul></div>')
    return "".join(parts)


def _closest_cards(marked: Sequence[Citation], turn: int, in_message: bool) -> list[str]:
    """An answer to a comparison that answers one country only: the other country's closest
    passage, under a heading that says it is not an answer."""
    cards = group_citations(marked)
    if not cards:
        return []
    names = " and ".join(dict.fromkeys(COUNTRIES.get(c.passage.country, c.passage.country)
                                       for c in cards))
    head = (f'<h4 class="not-answer outcome-evidence">{NOT_AN_ANSWER}: the closest passage for '
            f"{html.escape(names)}, which may not answer the exact question</h4>")
    return [head, *(_card_html(c.passage, c.citations, turn, in_message) for c in cards)]


def sources_html(answer: Answer | None, earlier: Sequence[Answer] = ()) -> str:
    """The sources panel: the latest answer's cards, earlier answers' folded below."""
    if answer is None:
        return '<div class="sources"><p class="empty">Sources show up here.</p></div>'
    turn = len(earlier) + 1
    parts = [answer_cards(answer, turn)]
    for t in range(len(earlier), max(0, len(earlier) - PANEL_EARLIER), -1):
        a = earlier[t - 1]
        parts.append(f'<details class="turn"><summary>Sources of answer {t}: '
                     f"{html.escape(a.question)}</summary>{answer_cards(a, t)}</details>")
    return f'<div class="sources">{"".join(parts)}</div>'


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False).replace("&gt;", ">"))


def _url_end(text: str, start: int, end: int) -> int:
    """Where the URL found at ``text[start:end]`` really ends: closing punctuation, quotes and
    a ")" that closes no "(" of the URL are the sentence's, not the URL's."""
    while end > start:
        last = text[end - 1]
        if last in _URL_TRAILING or last == ")" and (
                text.count("(", start, end) < text.count(")", start, end)):
            end -= 1
        else:
            break
    return end


def _linked_urls(text: str) -> str:
    """Plain text as chat Markdown, each URL an explicit link to itself. The chat's Markdown
    would link a bare URL with what follows it ("…/1124273\\>).”"), so the URL is given its
    end here."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        end = _url_end(text, m.start(), m.end())
        url = text[m.start() : end]
        if end - m.start() <= len(m.group(1)):  # nothing but the scheme or "www."
            continue
        href = url if "://" in url else f"https://{url}"
        out += [_md_escape(text[pos : m.start()]), f"[{_md_escape(url)}](<{href}>)"]
        pos = end
    out.append(_md_escape(text[pos:]))
    return "".join(out)


def linked_text(text: str, turn: int) -> str:
    """Answer text as chat Markdown: literal text, each [n] a link to its source card, each
    URL a link to exactly itself."""
    out: list[str] = []
    pos = 0
    for m in _MARKERS.finditer(text):
        out.append(_linked_urls(text[pos : m.start()]))
        nums = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        out.append(" ".join(f"[\\[{n}\\]](#{anchor(turn, n)})" for n in nums))
        pos = m.end()
    out.append(_linked_urls(text[pos:]))
    return "".join(out)


def read_as_line(answer: Answer) -> str:
    """A follow-up's standalone form as a small line of its own ("Read as: …"), so that a
    reader sees how the question was read; "" when it was read as typed. Not part of the
    answer's text: its quotes and markers stay as they were."""
    lines = question_lines(answer, html.escape, asked=False)
    return "".join(f'<p class="read-as">{line}</p>\n\n' for line in lines)


def chat_text(answer: Answer, turn: int = 1) -> str:
    """The answer as a chat message: linked [n], and its own sources for small screens."""
    text = f"**{OUTCOME_LABELS[answer.outcome]}**\n\n" + read_as_line(answer) + linked_text(
        answer.text, turn)
    if answer.outcome == "evidence" and len({h.passage.id for h in answer.highlights}) > 1:
        text += ("\n\n*Each country\u2019s closest passage is shown with the sources, its best "
                 "sentence highlighted.*")
    elif answer.outcome == "evidence":
        text += ("\n\n*The closest passage is shown with the sources, its best sentences "
                 "highlighted.*")
    elif answer.abstained:
        text += f"\n\n*The closest passages are shown with the sources, marked “{NOT_AN_ANSWER}”.*"
    count = len(group_citations([*answer.citations, *answer.highlights])) if not (
        answer.abstained) else len(answer.passages)
    if count:
        label = "Sources" if not answer.abstained else "Closest passages"
        cards = re.sub(r"\n\s*\n", "\n", answer_cards(answer, turn, in_message=True))
        text += (f'\n\n<details class="msg-sources"><summary>{label} ({count})</summary>'
                 f"{cards}</details>")
    return text
