"""Answer candidates: spans of a retrieved passage, each kept raw (verified) and shown clean.

A span is one of:

- ``sentence``  one sentence-like unit of the passage;
- ``list``      a lead-in (a unit ending in ":" or followed by list items or table rows) with
                the items or rows under it;
- ``adjacent``  two or three neighbouring units of one paragraph.

A unit of the document's apparatus (``apparatus``: a reference-list entry, a URL alone on its
line, a contents line, a heading, the questionnaire's form) is never an answer nor evidence.

The raw span is the stored text between two offsets, so its quote is verbatim by construction
and is verified against the stored passage like every quote. The display form drops list
letters ("a)", "m."), bullets and check marks, heading marks ("###"), footnote marks set as
superscripts ("colleges<sup>1</sup>") and an autolink's brackets ("<https://x>" shows
"https://x"); it is for the reader only. Digits glued to a word in plain text stay ("globs2"
is a name; "colleges1" from a PDF cannot be told from one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import (
    display,
    ends_a_word_half,
    sentence_spans,
    without_autolink_marks,
    without_heading_marks,
)
from assistant.types import ScoredPassage

SPAN_KINDS = ("sentence", "list", "adjacent")
MAX_LIST_CHARS = 900  # a lead-in with its items is cut after the item that passes this length
MAX_ADJACENT_CHARS = 600  # two or three sentences longer than this are no short quote
MAX_ADJACENT = 3

# A list item or table row at the start of a line: "-", "*", "•", "✓", "1.", "a)", "m.", "|".
_ITEM_LINE = re.compile(r"^[ \t]*(?:[-*•✓☐▪◦]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\)|\|)")
_BULLET = re.compile(r"^(?:[-*•✓☐▪◦]\s*)+")
_ENUMERATOR = re.compile(r"^\W*(?:\d{1,3}|[a-zA-Z])[.)]\s+")
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
# "Diagram 3.", "Diagram N4." (the reports number with "N"), "Question N2." (a survey heading)
_CAPTION = re.compile(
    r"^\W*(Diagram|Table|Figure|Chart|Graph|Annex|Appendix|Question)\s*(?:N\s*)?\d", re.I)
_OPTION = re.compile(r"^\s*(?:[-*•✓☐▪◦]|\[[ xX]?\])")
# A footnote mark: a number set as a superscript ("colleges<sup>1</sup>"). A digit glued to a
# word in plain text is left alone: nothing tells "colleges1" (a footnote lost in extraction)
# from "globs2" or "base64" (names), and dropping it changed what a quote says.
_SUP_MARK = re.compile(r"<sup>\s*\d{1,3}\s*</sup>", re.I)
_TABLE_RULE = re.compile(r"^\|?[\s|:-]+\|?$")
LABEL_MAX_WORDS = 16  # fewer words than this, no figure, no closing punctuation: a label

# -- the document's apparatus: what a report prints around its findings ------------------------
# The questionnaire printed in a report's appendix: the form the respondents filled in.
QUESTIONNAIRE = re.compile(r"\b(?:appendix|annex)\b.*\bquestionnaire\b", re.I)
DOT_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}")  # a contents line: "Diagram 2. … ..... 14"
# A unit addressed to respondents: "Please indicate…", "If yes, …", "(You may select more…)".
INSTRUCTION = re.compile(r"^\W*(?:please\b|if (?:yes|no|so|other)\b|\(?you may (?:select|"
                         r"choose|tick)\b)", re.I)
_APPENDIX = re.compile(r"^\W*(?:appendix|annex)\b", re.I)
_TO_RESPONDENT = re.compile(r"\b(?:you|your)\b|^\W*in this section\b", re.I)
# A reference list by its heading: "References", "VI. Bibliography", "Sources", "Literature".
_REFERENCES = re.compile(r"^\W*(?:[IVX\d.]+\s+)?(?:references?|bibliography|sources|"
                         r"literature(?: cited)?|works cited|reference list|further reading)\W*$",
                         re.I)
# The shape of a citation, on the unit's line: an author and a year first ("Smith, J. (2021).",
# "Council of the European Union. (2022, May 25).") …
_AUTHOR_YEAR = re.compile(
    r"^\W*[A-Z][^()\n]{1,150}?\(\s*(?:19|20)\d{2}[a-z]?(?:,[^)\n]{0,30})?\)\s*[.:]")
# … or, on a line no longer than an entry, a date of retrieval, a DOI, a page range, a
# publisher after its place ("Brussels: Publications Office"). A paragraph that cites a page
# in passing ("(Smith, 2020, pp. 12-15)") is longer: its sentences still say something.
ENTRY_MAX_CHARS = 300
_CITATION = re.compile(
    r"(?i:\bretrie?ved\b(?: on)? [a-z]+ \d{1,2}, (?:19|20)\d{2})"
    r"|(?i:\bdoi\s*:?\s*10\.\d{4,}/|\bdoi\.org/)"
    r"|\bpp\.\s*\d+\s*[-–]\s*\d+"
    r"|\b[A-Z][a-z]+(?: [A-Z][a-z]+)?: [A-Z][\w&' -]{1,60}?\b(?:Press|Publishing|Publishers?|"
    r"Publications Office|Verlag)\b")
_URL = r"(?:<?(?:https?://|www\.)[^\s>]+>?|\[[^\]]*\]\([^)\s]+\))"
_URL_LINE = re.compile(rf"\W*{_URL}(?:\W+{_URL})*\W*")
_CONTENTS_LINE = re.compile(rf"(?:{DOT_LEADER.pattern})\s*\d{{0,4}}\s*$")  # and a page number
# A list of contents, diagrams, tables or figures by its heading; there a line ending in a page
# number glued to its title ("…of micro-credentials23") is one of its lines too.
_CONTENTS = re.compile(r"^\W*(?:(?:table of )?contents|diagrams|figures|tables|"
                       r"list of (?:diagrams|figures|tables))\W*$", re.I)


def clean_item(text: str) -> str:
    """One unit as the reader sees it: heading marks, bullets, list letters and superscript
    footnote marks and an autolink's angle brackets gone."""
    text = without_autolink_marks(without_heading_marks(display(_SUP_MARK.sub("", text))))
    text = _BULLET.sub("", text)
    text = _ENUMERATOR.sub("", text)
    text = _BULLET.sub("", text)  # "- ✓ a. item": bullets on either side of the letter
    if text.startswith("|"):  # a table row: its cells, separated plainly
        text = " | ".join(c.strip() for c in text.strip("|").split("|") if c.strip())
    return text.strip()


@lru_cache(maxsize=32768)  # pure; every question reads the same passages' sentences again
def is_statement(raw: str) -> bool:
    """Does this unit say something? Headings, captions, questionnaire options, questions and
    fragments of a few words name a subject without saying anything about it.

    One input of the answer score (``statement``), never a filter by itself.
    """
    text = display(raw)
    stripped = raw.strip()
    if len(text) < 12 or text.endswith("?") or stripped.startswith("#"):
        return False
    if re.fullmatch(r"<?https?://\S+>?", text) or _CAPTION.match(text):
        return False
    body = _ENUMERATOR.sub("", _BULLET.sub("", text))
    n_words = len(body.split())
    has_digit = bool(re.search(r"\d", _LIST_NUMBER.sub(" ", body)))
    if re.fullmatch(r"\W*\*\*[^*]+\*\*\W*", stripped) and not (has_digit and n_words >= 3):
        return False
    if _OPTION.match(stripped) and n_words < 6 and not has_digit:
        return False
    if "?" in text or re.match(r"\W*(please|if (yes|no|so|other)\b)", body, re.I):
        return False
    # A contents line: a title with its page number glued on ("…micro-credentials23"); a list
    # introduction cut at its first item number ("…had two purposes: 1.").
    if re.search(r"[a-z]\d{1,3}$|(?:[:,;]|\band)\s*\(?\d{1,3}[.)]$", text):
        return False
    if n_words < LABEL_MAX_WORDS and not has_digit and not re.search(r"[.!:;)\]]\W*$", text):
        return False
    return n_words >= 4 or has_digit and n_words >= 2


def unit_lines(text: str, start: int, end: int) -> str:
    """The whole line(s) the unit ``text[start:end]`` sits on."""
    stop = text.find("\n", end)
    return text[_line_start(text, start) : len(text) if stop < 0 else stop]


def in_questionnaire(section: str) -> bool:
    """Is the section the questionnaire printed in an appendix (by name, or an appendix
    section that is one of its numbered questions, "Appendix 1 › … › 12. For what…?")?"""
    return bool(QUESTIONNAIRE.search(section)) or bool(_APPENDIX.match(section)) and any(
        "?" in p for p in section.split(" › "))


@lru_cache(maxsize=32768)
def apparatus(text: str, start: int, end: int, section: str) -> str | None:
    """What the unit ``text[start:end]`` of a passage in ``section`` is when it is the
    document's apparatus rather than what the document says, else None:

    - ``reference``      an entry of a reference list (by the list's heading, or its line has
                         the shape of a citation: author and year, retrieval date, DOI, pages,
                         publisher); the sentence splitter cuts an entry into fragments
                         ("Council of the European Union."), so its line is what is read;
    - ``url``            a line of links alone;
    - ``contents``       a contents line: dot leaders and a page number;
    - ``heading``        a heading line ("## Survey results");
    - ``questionnaire``  the form in an appendix: its options, questions and words to the
                         respondents ("In this section, we want to collect … in your country.").

    Structure only: the section path and the shape of the unit's line.
    """
    if any(_REFERENCES.match(part) for part in section.split(" › ")):
        return "reference"
    line = unit_lines(text, start, end)
    shown = display(line).strip()
    if _AUTHOR_YEAR.match(shown) or len(shown) <= ENTRY_MAX_CHARS and _CITATION.search(shown):
        return "reference"
    if _URL_LINE.fullmatch(shown):
        return "url"
    if _CONTENTS_LINE.search(line) or any(_CONTENTS.match(p) for p in section.split(" › ")) and (
            re.search(r"[^\W\d]\d{1,3}\s*$", line)):
        return "contents"
    raw = text[start:end]
    if raw.lstrip().startswith("#"):
        return "heading"
    if _APPENDIX.match(section):
        unit = display(raw)
        if ("?" in unit or _TO_RESPONDENT.search(unit) or INSTRUCTION.match(unit)
                or in_questionnaire(section) and _is_item(text, start)):
            return "questionnaire"
    return None


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``passage.text[start:end]`` and the units it is made of."""

    sp: ScoredPassage
    start: int
    end: int
    kind: str  # sentence | list | adjacent
    units: tuple[tuple[int, int], ...]  # the units' offsets within the passage
    sims: tuple[float, ...]  # each unit's cosine to the question (0.0 when unknown)

    @property
    def raw(self) -> str:
        """The stored text of the span, exactly."""
        return self.sp.passage.text[self.start : self.end]

    @property
    def quote(self) -> str:
        """The verified form: the stored text with markup dropped, whitespace folded and a
        leading bullet dropped (still found verbatim in the passage by ``verify_quote``)."""
        return _BULLET.sub("", display(self.raw))

    @property
    def shown(self) -> str:
        """The display form: each unit cleaned; a list's items joined after its lead-in."""
        text = self.sp.passage.text
        parts = [clean_item(text[s:e]) for s, e in self.units]
        parts = [p for p in parts if p and not _TABLE_RULE.fullmatch(p)]
        if self.kind != "list" or len(parts) < 2:
            return " ".join(parts)
        lead, items = parts[0], parts[1:]
        items = [i.rstrip(";,.") for i in items]
        return f"{lead} {'; '.join(items)}."

    @property
    def country(self) -> str:
        return self.sp.passage.country

    @property
    def apparatus(self) -> str | None:
        """The kind of apparatus (``apparatus``) of the first of its units that is one, or
        None when every unit is what the document says."""
        p = self.sp.passage
        return next((k for s, e in self.units if (k := apparatus(p.text, s, e, p.section))),
                    None)

    def contains(self, other: Span) -> bool:
        return (self.sp.passage.id == other.sp.passage.id and self.start <= other.start
                and other.end <= self.end)


def _units(sp: ScoredPassage) -> list[tuple[int, int, float]]:
    p = sp.passage
    if sp.sentences:
        return [u for u in sp.sentences if p.text[u[0] : u[1]].strip()]
    return [(s, e, 0.0) for s, e in sentence_spans(p.text)]


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _is_item(text: str, s: int) -> bool:
    """Does the unit at ``s`` start a line as a list item or table row?"""
    ls = _line_start(text, s)
    return not text[ls:s].strip() and bool(_ITEM_LINE.match(text[ls : ls + 12]))


def _same_paragraph(text: str, end: int, start: int) -> bool:
    return "\n\n" not in re.sub(r"[ \t]+", "", text[end:start])


def build_spans(sp: ScoredPassage) -> Iterator[Span]:
    """Every candidate span of one passage: sentences, lead-ins with their lists, and runs of
    two or three adjacent sentences of one paragraph."""
    units = _units(sp)
    plan = _span_plan(sp.passage.text, tuple((s, e) for s, e, _ in units))
    for start, end, kind, chosen in plan:
        yield Span(sp, start, end, kind, tuple((units[j][0], units[j][1]) for j in chosen),
                   tuple(units[j][2] for j in chosen))


PlannedSpan = tuple[int, int, str, tuple[int, ...]]  # start, end, kind, the units it is made of


@lru_cache(maxsize=8192)
def _span_plan(text: str, units: tuple[tuple[int, int], ...]) -> tuple[PlannedSpan, ...]:
    """The spans of a passage from its units' offsets (cached: they do not depend on the
    question, and every question reads the same passages again). None ends inside a word: a
    passage cut after "… other micro-" (or an index made before such units were joined) loses
    that fragment, not the sentences before it."""
    return tuple(p for p in _plan(text, units) if not ends_a_word_half(text[p[0] : p[1]]))


def _plan(text: str, units: tuple[tuple[int, int], ...]) -> Iterator[PlannedSpan]:
    starts = [_is_item(text, s) for s, _ in units]
    # A unit belongs to a list when it starts an item, or continues one on the same line.
    items: list[bool] = []
    for j, (s, _) in enumerate(units):
        same_line = j > 0 and "\n" not in text[units[j - 1][1] : s]
        items.append(starts[j] or (same_line and items[j - 1]))
    for i, (s, e) in enumerate(units):
        yield s, e, "sentence", (i,)
        # A lead-in (a unit ending in ":", or one that a table follows) with its items or rows.
        nxt = i + 1
        if nxt < len(units) and items[nxt]:
            lead_in = display(text[s:e]).endswith(":")
            if lead_in or text[units[nxt][0]] == "|":
                run = []
                for j in range(nxt, len(units)):
                    if not items[j] or starts[j] and not _gap_ok(text, units[j - 1][1],
                                                                 units[j][0]):
                        break
                    run.append(j)
                    if units[j][1] - s > MAX_LIST_CHARS:
                        break
                yield s, units[run[-1]][1], "list", (i, *run)
        # Two or three neighbouring sentences of one paragraph (none of them a list item).
        if items[i]:
            continue
        for n in range(2, MAX_ADJACENT + 1):
            last = i + n - 1
            if last >= len(units) or items[last]:
                break
            if not _same_paragraph(text, units[last - 1][1], units[last][0]):
                break
            if units[last][1] - s > MAX_ADJACENT_CHARS:
                break
            yield s, units[last][1], "adjacent", tuple(range(i, last + 1))


def _gap_ok(text: str, end: int, start: int) -> bool:
    """List items follow each other with at most blank lines (and markup) between them."""
    gap = text[end:start]
    return not re.sub(r"[\s*_]", "", gap)
