"""Check a draft: every claim and every reference in a text, against the indexed documents.

``check_draft(assistant, text) -> DraftReport``. The draft is split into claims (sentences; each
bullet item its own claim). Headings, questions, quotations of the draft's own text and
sentences that state nothing checkable are "not a claim": counted and shown, never flagged.
Each claim gets one status:

- ``supported``: a sentence of a passage covers the claim's subject and agrees on every fact
  (figures, years, countries, acronyms of names, polarity); its verbatim quote is shown.
- ``contradicted``: the best passage sentence on the same subject states a different value;
  both values are shown side by side.
- ``partly supported``: the claim has several clauses; some are supported, others not found.
- ``not found``: nothing in the index states it; the closest passages are shown as not support.

References written in the draft ("[1]" with a reference list, footnotes, "(D1.1 Armenia, p. 12)",
"(Micro-GEAR, 2024)") are resolved to documents and marked ``right``, ``wrong document``,
``wrong page or section`` or ``cannot resolve``, with the reference that would be right.
The draft itself is never added to the index. Each check appends an audit record.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from assistant.errors import DocumentError, InputError
from assistant.retrieve import Filters
from assistant.text import display, normalize, plain, sentence_spans, tokens, words
from assistant.types import COUNTRIES, Passage, ScoredPassage

if TYPE_CHECKING:
    from assistant.answer import Assistant

Progress = Callable[[int, int, str], None]

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
PARTLY = "partly supported"
NOT_FOUND = "not found"
NOT_A_CLAIM = "not a claim"
STATUSES = (SUPPORTED, CONTRADICTED, PARTLY, NOT_FOUND, NOT_A_CLAIM)

REF_RIGHT = "right"
REF_WRONG_DOC = "wrong document"
REF_WRONG_PLACE = "wrong page or section"
REF_UNRESOLVED = "cannot resolve"
REF_STATUSES = (REF_RIGHT, REF_WRONG_DOC, REF_WRONG_PLACE, REF_UNRESOLVED)

# Constants chosen on the tuning part of corpus/eval/drafts only (never on the test part).
K = 8  # passages retrieved per claim
TOPIC_SUPPORT = 0.44  # topic score a sentence needs to support a claim
TOPIC_CONTRADICT = 0.5  # topic score at which a sentence with other values contradicts it
CONTRADICT_MARGIN = 0.05  # a contradiction must be this much closer than the best support
SIM_SHARE = 0.4  # share of the topic score that is sentence-embedding cosine (rest: coverage)
FUZZY = 0.6  # credit for a word that shares only its first five letters ("defined"/"definition")
PAIR_PENALTY = 0.03  # two adjacent sentences quoted together score a little lower
MIN_CLAIM_TOKENS = 3  # fewer content words than this: nothing checkable

_DEMONYM = {"armenia": "AM", "armenian": "AM", "armenians": "AM",
            "georgia": "GE", "georgian": "GE", "georgians": "GE"}
_COUNTRY_NAME = {"AM": "Armenia", "GE": "Georgia"}
_REPORT_LABEL = {"AM": "Armenian report", "GE": "Georgian report", "EU": "EU document"}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}
_UNITS = frozenset({"to", "year", "years", "month", "months", "week", "weeks", "day", "days",
                    "hour", "hours", "credit", "credits", "ects", "out", "respondent",
                    "institution", "university", "college", "programme", "program", "course"})
_NEGATIONS = frozenset({"not", "no", "never", "none", "neither", "nor", "cannot", "without",
                        "lack", "lacks", "lacking", "absence", "absent", "nobody", "nothing"})
_COMMON_ACRONYMS = frozenset({"ECTS", "EU", "HEI", "HEIS", "NQF", "VET", "QA", "RA", "EHEA",
                              "COVID", "LLC", "LTD", "JSC", "LEPL", "NGO", "NGOS", "IT", "AM",
                              "GE", "WP1", "QF", "LLL", "II", "III", "IV", "VI", "UNESCO"})
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s*(?:%|per ?cent\b))?", re.I)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9-]{2,}\b")

# References written in the draft.
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*)\](?!\()")
_FOOTNOTE = re.compile(r"\[\^([\w-]{1,20})\](?!:)")
_PAREN_REF = re.compile(
    r"\(([^()\n]{0,120}?(?:\b(?:19|20)\d\d\b|\bpp?\.\s*\d|\bsection\b|\bsec\.|§|\bD\s?1\.1\b)"
    r"[^()\n]{0,80})\)", re.I)
_REF_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*)?(references|sources|bibliography|works cited|notes|footnotes)"
    r"(?:\*\*)?\s*:?\s*$", re.I)
_REF_ENTRY = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})[.)])\s+(.+?)\s*$")
_FOOTNOTE_DEF = re.compile(r"^\s*\[\^([\w-]{1,20})\]:\s*(.+?)\s*$")
_PAGE = re.compile(r"\bpp?\.\s*(\d{1,4})", re.I)
_SECTION = re.compile(r"(?:\bsection|\bsec\.|§|\bchapter|\bpart)\s*([\w.]+(?:[ \t]+[A-Z][\w&-]*)*)",
                      re.I)

# Sentences that are not claims.
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s+.*|\*\*[^*]{1,200}\*\*:?|__[^_]{1,200}__)\s*$")
_META = re.compile(
    r"^\W*(?:this|the present|the following|the next)\s+(?:section|brief|note|paper|chapter|"
    r"document|draft|part|annex|summary|report)\s+(?:\w+\s+){0,2}?(?:describes?|presents?|"
    r"outlines?|summari[sz]es?|sets out|discusses|reviews?|introduces?|explains?|is|was|"
    r"contains?|gives?|provides?|looks at|turns to|concludes)\b"
    r"|^\W*(?:in this|the following)\s+(?:section|brief|note|paper|chapter)\b"
    r"|^\W*(?:we|i)\s+(?:now\s+)?(?:turn|describe|present|outline|summari[sz]e|discuss|"
    r"recommend|propose|suggest|conclude|thank)\b"
    r"|^\W*(?:see|for (?:details|more)|note:|table \d|figure \d)"
    r"|^\W*(?:it is|it would be)\s+(?:recommended|advisable|suggested)\b",
    re.I,
)
_QUOTED = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{20,})[\"\u201d]")
_SPLIT_AFTER_MARKER = re.compile(
    r"(?<=[.!?])((?:\[\^?[\w,\s\u2013-]{1,20}\])+)\s+(?=[\"\u201c(]?[A-Z0-9])")
_CLAUSE = re.compile(
    r";\s+|,\s+(?:and|but|while|whereas|although|though)\s+|\s+(?:while|whereas)\s+")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2713\u2610\u25aa\u25e6]|\d{1,3}[.)])\s+")


# --------------------------------------------------------------------------------------------
# Data objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """One value the draft and a document state differently (or the same)."""

    kind: str  # figure | year | country | name | polarity
    draft: str
    document: str
    where: str  # e.g. "Armenian report"

    def text(self) -> str:
        return f"draft: {self.draft}; {self.where}: {self.document}"


@dataclass
class Evidence:
    """A quoted sentence (or two) of one passage, with its reference."""

    passage: Passage
    quote: str
    verified: bool
    topic: float

    def reference(self) -> str:
        return reference_text(self.passage)

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        return {"quote": self.quote, "verified": self.verified, "topic": round(self.topic, 3),
                "reference": self.reference(), "doc_id": p.doc_id, "title": p.title,
                "country": p.country, "section": p.section, "page": p.page,
                "page_label": p.page_label, "passage_id": p.id}


@dataclass
class RefCheck:
    """One reference written in the draft, and whether it points at the right place."""

    marker: str  # as written: "[1]", "[^2]", "(D1.1 Armenia, p. 12)"
    text: str  # the reference text (list entry, footnote or the parenthesis)
    status: str = REF_UNRESOLVED
    docs: tuple[str, ...] = ()  # documents the reference resolves to
    page: str | None = None
    section: str | None = None
    right: str = ""  # the reference that would be right
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ClaimResult:
    """One sentence (or bullet item) of the draft and what the documents say about it."""

    n: int
    text: str  # as written in the draft
    start: int  # offsets in the draft
    end: int
    status: str
    kind: str = "claim"  # claim | heading | question | self-quotation | not checkable
    evidence: list[Evidence] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # clauses not found (partly supported)
    closest: list[Evidence] = field(default_factory=list)  # shown as "not support"
    references: list[RefCheck] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)  # passage ids used (audit)
    ms: float = 0.0
    outside_filter: bool = False  # about a country the chosen filters leave out

    def comment(self) -> str:
        """The one-line remark the annotated draft carries after this claim."""
        if self.status == SUPPORTED and self.evidence:
            return "\u2713 " + "; ".join(dict.fromkeys(e.reference() for e in self.evidence))
        if self.status == CONTRADICTED and self.comparisons:
            c = self.comparisons[0]
            return f"\u2717 {c.where} says {c.document}, not {c.draft}"
        if self.status == PARTLY:
            found = "; ".join(dict.fromkeys(e.reference() for e in self.evidence))
            miss = "; ".join(f"\u201c{m}\u201d" for m in self.missing)
            return f"\u25d0 partly supported ({found}); not found: {miss}"
        if self.status == NOT_FOUND:
            where = "selected" if self.outside_filter else "indexed"
            return f"\u26a0 not found in the {where} documents"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "text": self.text, "start": self.start, "end": self.end,
            "status": self.status, "kind": self.kind,
            "evidence": [e.to_dict() for e in self.evidence],
            "compared": [asdict(c) for c in self.comparisons],
            "missing": self.missing,
            "closest_not_support": [e.to_dict() for e in self.closest],
            "references": [r.to_dict() for r in self.references],
            "comment": self.comment(), "ms": round(self.ms, 1),
        }


@dataclass
class DraftReport:
    """The result of checking one draft: claims, references, counts, timings, audit."""

    text: str
    claims: list[ClaimResult]
    references: list[RefCheck]
    timings_ms: dict[str, float] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for c in self.claims:
            out[c.status] += 1
        return out

    def ref_counts(self) -> dict[str, int]:
        out = {s: 0 for s in REF_STATUSES}
        for r in self.references:
            out[r.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "counts": self.counts(), "reference_counts": self.ref_counts(),
            "notes": self.notes,
            "claims": [c.to_dict() for c in self.claims],
            "references": [r.to_dict() for r in self.references],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "audit": self.audit,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[s]} {s}" for s in STATUSES if c[s]]
        refs = self.ref_counts()
        if self.references:
            parts.append("references: " + ", ".join(f"{refs[s]} {s}" for s in REF_STATUSES
                                                     if refs[s]))
        total = self.timings_ms.get("total_ms", 0.0) / 1000
        out = f"{len(self.claims)} sentences: " + "; ".join(parts) + f" ({total:.1f} s)"
        return " ".join([out, *self.notes])

    def to_markdown(self) -> str:
        """The draft as written, each claim followed by its reference or a marked comment."""
        out: list[str] = []
        pos = 0
        for c in self.claims:
            notes = [c.comment()] if c.comment() else []
            notes += [ref_comment(r) for r in c.references if r.status != REF_RIGHT]
            if not notes:
                continue
            out.append(self.text[pos:c.end])
            out.append(" " + " ".join(f"[{n}]" for n in notes))
            pos = c.end
        out.append(self.text[pos:])
        return "".join(out)

    def to_html(self) -> str:
        """A standalone page: the draft with each claim coloured, evidence on expand."""
        return render_html(self)


def reference_text(p: Passage) -> str:
    """A short, human reference: document label, section, page."""
    parts = [short_title(p)]
    if p.section:
        parts.append(p.section)
    if p.page is not None:
        parts.append(f"p. {p.page_label or p.page}")
    return ", ".join(parts)


def short_title(p: Passage) -> str:
    m = re.match(r"(.{0,40}?D\d\.\d)\b", p.title)
    if m and p.country in _COUNTRY_NAME:
        return f"{m.group(1).split(':')[0].strip()} {_COUNTRY_NAME[p.country]}"
    return p.title if len(p.title) <= 70 else p.title[:69].rstrip() + "\u2026"


def doc_label(p: Passage) -> str:
    if p.doc_type == "report" and p.country in _REPORT_LABEL:
        return _REPORT_LABEL[p.country]
    return short_title(p)


def ref_comment(r: RefCheck) -> str:
    if r.status == REF_WRONG_DOC:
        return f"\u2717 reference {r.marker} points to the wrong document; right: {r.right}"
    if r.status == REF_WRONG_PLACE:
        return f"\u2717 reference {r.marker}: wrong page or section; right: {r.right}"
    if r.status == REF_UNRESOLVED:
        return f"\u26a0 reference {r.marker} cannot be resolved{': ' + r.note if r.note else ''}"
    return ""


# --------------------------------------------------------------------------------------------
# Splitting the draft
# --------------------------------------------------------------------------------------------
@dataclass
class _Unit:
    start: int
    end: int
    kind: str  # claim | heading | question | self-quotation | not checkable


def split_draft(text: str) -> tuple[list[_Unit], dict[str, str], list[tuple[int, int]]]:
    """Sentence units of the draft, its reference list / footnotes, and their line spans."""
    units: list[_Unit] = []
    refs: dict[str, str] = {}
    ref_spans: list[tuple[int, int]] = []
    in_refs = False
    block_start: int | None = None
    pos = 0

    def flush(end: int) -> None:
        nonlocal block_start
        if block_start is not None:
            for s, e in _sentences(text, block_start, end):
                units.append(_Unit(s, e, "claim"))
        block_start = None

    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        stripped = line.strip()
        fdef = _FOOTNOTE_DEF.match(line)
        if fdef:
            flush(start)
            refs["^" + fdef.group(1)] = fdef.group(2)
            ref_spans.append((start, end))
            continue
        if _REF_HEADING.match(line):
            flush(start)
            in_refs = True
            units.append(_Unit(start, start + len(line.rstrip()), "heading"))
            continue
        if _HEADING_LINE.match(line):
            flush(start)
            in_refs = False
            s = start + len(line) - len(line.lstrip())
            units.append(_Unit(s, start + len(line.rstrip()), "heading"))
            continue
        if in_refs:
            entry = _REF_ENTRY.match(line)
            if entry:
                refs[entry.group(1) or entry.group(2)] = entry.group(3)
                ref_spans.append((start, end))
            continue
        if not stripped:
            flush(start)
            continue
        if block_start is None:
            block_start = start
    flush(len(text))
    _classify(text, units)
    return units, refs, ref_spans


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sentence_spans(text[start:end]):
        s, e = s + start, e + start
        # A marker written after the full stop ("…institutions.[1] Next") ends the sentence.
        cut = s
        for m in _SPLIT_AFTER_MARKER.finditer(text, s, e):
            out.append((cut, m.end(1)))
            cut = m.end()
        out.append((cut, e))
    return out


def _classify(text: str, units: list[_Unit]) -> None:
    whole = normalize(text).lower()
    for u in units:
        if u.kind != "claim":
            continue
        raw = text[u.start:u.end]
        body = _BULLET.sub("", strip_refs(raw)).strip()
        if body.endswith("?"):
            u.kind = "question"
        elif _META.search(body) or len(_toks(body)) < MIN_CLAIM_TOKENS and not not_english(body):
            u.kind = "not checkable"
        else:
            for m in _QUOTED.finditer(body):
                q = normalize(m.group(1)).lower()
                if whole.count(q) >= 2:  # the draft quotes itself
                    u.kind = "self-quotation"
                    break


def strip_refs(text: str) -> str:
    """A claim without its reference markers (for matching against the documents)."""
    text = _MARKER.sub("", text)
    text = _FOOTNOTE.sub("", text)
    text = _PAREN_REF.sub("", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]+", " ", text)).strip()


def find_refs(text: str, ref_list: dict[str, str]) -> list[RefCheck]:
    """The references written in one claim."""
    out: list[RefCheck] = []
    for m in _MARKER.finditer(text):
        for n in _expand(m.group(1)):
            out.append(RefCheck(marker=f"[{n}]", text=ref_list.get(n, "")))
    for m in _FOOTNOTE.finditer(text):
        out.append(RefCheck(marker=m.group(0), text=ref_list.get("^" + m.group(1), "")))
    for m in _PAREN_REF.finditer(text):
        out.append(RefCheck(marker=m.group(0), text=m.group(1)))
    return out


def _expand(group: str) -> list[str]:
    nums: list[str] = []
    for part in re.split(r"\s*,\s*", group):
        bits = re.split(r"\s*[\u2013-]\s*", part)
        if len(bits) == 2 and bits[0].isdigit() and bits[1].isdigit():
            a, b = int(bits[0]), int(bits[1])
            nums.extend(str(i) for i in range(a, min(b, a + 20) + 1))
        else:
            nums.append(part.strip())
    return nums


# --------------------------------------------------------------------------------------------
# Facts: figures, years, countries, acronyms, polarity
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    figures: tuple[tuple[str, str], ...]  # (value, the word after it)
    years: tuple[str, ...]
    countries: frozenset[str]
    acronyms: frozenset[str]
    negated: bool


_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]
_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)\b")


def _dates_in_words(text: str) -> str:
    """16.06.2022 becomes 16 June 2022, so that both ways of writing a date compare."""
    def sub(m: re.Match[str]) -> str:
        month = int(m.group(2))
        if not 1 <= month <= 12:
            return m.group(0)
        return f"{int(m.group(1))} {_MONTH_NAMES[month - 1]} {m.group(3)}"

    return _DATE.sub(sub, text)


@lru_cache(maxsize=50_000)
def _toks(text: str) -> tuple[str, ...]:
    """Content tokens, cached: the same passage sentences are scored for many claims."""
    return tuple(tokens(text))


_CALL = re.compile(r"\b[A-Za-z_][\w.]*\([^()\n]{0,40}\)")  # alert(1), f(2, 3): code, not figures
_SKIP_AFTER = frozenset({"of", "the", "a", "an", "in", "out"})


@lru_cache(maxsize=20_000)
def facts(text: str) -> Facts:
    if "<" in text:
        text = plain(text)  # a figure inside markup (a script's alert(1)) is not the claim's
    body = _LIST_NUMBER.sub(" ", _dates_in_words(display(text)))
    body = _CALL.sub(" ", body)
    figures: list[tuple[str, str]] = []
    years: list[str] = []
    for m in _NUM.finditer(body):
        raw = m.group(1).replace(",", "")
        after = words(body[m.end():m.end() + 40])
        # the kind of quantity: the first word after the figure ("12 out of 27 respondents":
        # respondents), other figures and small words skipped
        nxt = next((w for w in after if w not in _SKIP_AFTER and not w.isdigit()), "")
        if re.fullmatch(r"(19|20)\d\d", raw) and not m.group(2):
            years.append(raw)
            continue
        if re.fullmatch(r"\d+\.\d+", raw) and not m.group(2):
            continue  # section numbers (2.2), D1.1
        value = raw + ("%" if m.group(2) else "")
        figures.append((value, "%" if m.group(2) else nxt))
    ws = words(body)
    for i, w in enumerate(ws):
        if w in _NUMBER_WORDS and (i == 0 or ws[i - 1] not in {"the", "only"}):
            nxt = ws[i + 1] if i + 1 < len(ws) else ""
            # "one" is a figure only before a unit or in a range ("one year", "one to six").
            if w == "one" and nxt not in _UNITS:
                continue
            figures.append((str(_NUMBER_WORDS[w]), nxt))
    countries = frozenset(_DEMONYM[w] for w in ws if w in _DEMONYM)
    acr = frozenset(a for a in _ACRONYM.findall(display(text)) if a not in _COMMON_ACRONYMS
                    and not re.fullmatch(r"[IVX]+", a))
    return Facts(tuple(figures), tuple(years), countries, acr, negated(ws))


def negated(ws: Sequence[str]) -> bool:
    n = sum(1 for w in ws if w in _NEGATIONS or w.endswith("n't"))
    return n % 2 == 1


def _scopes(text: str) -> tuple[dict[str, str], set[str]]:
    """Content tokens within three words after a negation (with that phrase), and the rest."""
    ws = words(text)
    neg: dict[str, str] = {}
    for i, w in enumerate(ws):
        if w in _NEGATIONS or w.endswith("n't"):
            # The next three content words (stopwords skipped) are what is negated.
            scope: list[str] = []
            j = i + 1
            while j < len(ws) and len(scope) < 3 and ws[j] not in _NEGATIONS:
                scope.extend(_toks(ws[j]))
                j += 1
            phrase = " ".join(ws[i:j])
            for t in scope:
                neg.setdefault(t, phrase)
    pos = set(_toks(text)) - set(neg)
    return neg, pos


_CLAUSE_SPLIT = re.compile(r"[,;:()]\s*|\s+(?:and|while|but|whereas|however)\s+")


def polarity_clash(claim: str, unit: str) -> tuple[str, str] | None:
    """A content word one text negates and the other states plainly: (draft, document).

    Each clause of the claim is compared with the clause of the unit that shares most of its
    words (figures included), so that "19 supported both …, and none supported external …"
    does not clash with a claim about the 19.
    """
    u_clauses = [c for c in _CLAUSE_SPLIT.split(unit) if c and c.strip()]
    u_toks = [set(_toks(c)) for c in u_clauses]
    for cl in (c for c in _CLAUSE_SPLIT.split(claim) if c and c.strip()):
        ct = set(_toks(cl))
        if not ct or not u_clauses:
            continue
        i = max(range(len(u_clauses)), key=lambda j: len(ct & u_toks[j]))
        if len(ct & u_toks[i]) < 2 or negated(words(cl)) == negated(words(u_clauses[i])):
            continue
        c_neg, c_pos = _scopes(cl)
        u_neg, u_pos = _scopes(u_clauses[i])
        for t in sorted(set(c_neg) & u_pos):
            return c_neg[t], f"{t} (stated, not negated)"
        for t in sorted(set(u_neg) & c_pos):
            return f"{t} (stated, not negated)", u_neg[t]
    return None


@dataclass
class _Verdict:
    agrees: bool
    mismatches: list[Comparison]


def compare(claim: str, unit: str, passage: Passage, known: frozenset[str] = frozenset()
            ) -> _Verdict:
    """Do the claim's facts agree with one passage sentence (pair)?

    ``known``: figures the whole draft sentence states (when ``claim`` is one of its clauses);
    they are not offered as the document's differing value.
    """
    cf, uf = facts(claim), facts(unit)
    where = doc_label(passage)
    mism: list[Comparison] = []
    missing = False
    u_values = {v for v, _ in uf.figures}
    c_values = {v for v, _ in cf.figures} | known
    p_facts: Facts | None = None

    def in_passage(value: str, years: bool = False) -> bool:
        nonlocal p_facts
        p_facts = p_facts or facts(passage.text)
        return value in (p_facts.years if years else {v for v, _ in p_facts.figures})

    derived = derived_figures(cf.figures, u_values | {v for v, _ in facts(passage.text).figures})
    for value, nxt in cf.figures:
        if value in u_values or value in derived:
            continue
        other = [(v, w) for v, w in uf.figures if v not in c_values
                 and v.endswith("%") == value.endswith("%")]
        # A contradiction needs the same kind of quantity: "27 respondents" is not contradicted
        # by "7 years". A document figure whose kind is unknown (no word after it) may be one.
        same = [(v, w) for v, w in other if not w or not nxt or w == nxt or stem_eq(w, nxt)
                or value.endswith("%")]
        if same:
            pick = next((v for v, w in same if w and w == nxt), None)
            pick = pick or next((v for v, w in same if w and stem_eq(w, nxt)), None)
            doc_v = pick or same[0][0]
            mism.append(Comparison("figure", f"{value} {nxt}".strip() if not value.endswith("%")
                                   else value, doc_v, where))
        elif value.endswith("%") and (share := stated_share(cf.figures, u_values)):
            # a share of two figures the document states, computed wrongly
            mism.append(Comparison("figure", value, share, where))
        elif not (in_passage(value) or len(c_values & u_values) >= 2):
            missing = True  # unless it is context: in the passage, or beside two matched ones
    for y in cf.years:
        if y in uf.years:
            continue
        others = [v for v in uf.years if v not in cf.years]
        if others:
            mism.append(Comparison("year", y, others[0], where))
        elif not in_passage(y, years=True):
            missing = True
    u_countries = uf.countries or (
        frozenset({passage.country}) if passage.country in _COUNTRY_NAME else frozenset())
    for c in sorted(cf.countries):
        if c in u_countries:
            continue
        if u_countries:
            alt = sorted(u_countries - cf.countries) or sorted(u_countries)
            mism.append(Comparison("country", _COUNTRY_NAME[c], _COUNTRY_NAME[alt[0]], where))
        else:
            missing = True
    unit_acr = uf.acronyms | facts(passage.text).acronyms if cf.acronyms else frozenset()
    for a in sorted(cf.acronyms - unit_acr):
        extra = sorted(uf.acronyms - cf.acronyms)
        if extra:
            mism.append(Comparison("name", a, extra[0], where))
        else:
            missing = True
    clash = polarity_clash(display(claim), display(unit))
    if clash:
        mism.append(Comparison("polarity", clash[0], clash[1], where))
    return _Verdict(not mism and not missing, mism)


def derived_figures(figures: Sequence[tuple[str, str]], stated: set[str]) -> set[str]:
    """Figures of a claim that follow from two others the document states: a conversion
    ("3 ECTS credits for 90 hours, that is, 30 hours per credit") or a share ("16 of 27, about
    59%"). They are arithmetic on the document's figures, not figures to look for in it."""
    def num(v: str) -> float | None:
        try:
            return float(v.rstrip("%"))
        except ValueError:
            return None

    base = [(v, num(v)) for v, _ in figures if v in stated and not v.endswith("%")]
    base = [(v, x) for v, x in base if x]
    out: set[str] = set()
    for v, _ in figures:
        x = num(v)
        if x is None or v in stated:
            continue
        for a, xa in base:
            for b, xb in base:
                if a == b or xa is None or xb is None:
                    continue
                ratio = xa / xb
                if v.endswith("%"):
                    if abs(ratio * 100 - x) <= 0.6:
                        out.add(v)
                elif abs(ratio - x) <= 0.01 * max(x, 1.0) or abs(xa * xb - x) < 1e-9:
                    out.add(v)
    return out


def stated_share(figures: Sequence[tuple[str, str]], stated: set[str]) -> str | None:
    """"16 of 27" as a percentage ("59%"), when the claim gives a part and a whole the document
    states (the smaller first); None otherwise."""
    nums = [float(v) for v, _ in figures if v in stated and not v.endswith("%")
            and re.fullmatch(r"\d+(?:\.\d+)?", v)]
    pairs = [(a, b) for a in nums for b in nums if 0 < a < b]
    return f"{pairs[0][0] / pairs[0][1] * 100:.0f}%" if pairs else None


def stem_eq(a: str, b: str) -> bool:
    ta, tb = _toks(a), _toks(b)
    return bool(ta and tb and ta[0] == tb[0])


# --------------------------------------------------------------------------------------------
# Scoring passage sentences against a claim
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cand:
    sp: ScoredPassage
    start: int
    end: int
    topic: float

    @property
    def text(self) -> str:
        return self.sp.passage.text[self.start:self.end]

    def evidence(self) -> Evidence:
        from assistant.answer import verify_quote

        quote = _BULLET.sub("", display(self.text)).strip()
        return Evidence(self.sp.passage, quote, verify_quote(quote, self.sp.passage), self.topic)


class _PrecomputedEmbeddings:
    """Query vectors computed in one batch for the whole draft; other texts embedded as usual."""

    def __init__(self, inner: Any, vectors: dict[str, list[float]]) -> None:
        self.inner, self.vectors = inner, vectors

    def embed_query(self, text: str) -> list[float]:
        vec = self.vectors.get(text)
        return vec if vec is not None else self.inner.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)


class _IndexView:
    """The assistant's index, seen through precomputed query vectors (nothing else changes)."""

    def __init__(self, index: Any, embeddings: _PrecomputedEmbeddings) -> None:
        self._index, self.embeddings = index, embeddings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def _batched_retriever(assistant: Assistant, texts: list[str]) -> Any:
    """The assistant's retriever with every sentence of the draft embedded in one batch.

    One forward pass for all sentences instead of one per sentence; the retriever is a shallow
    copy (same lexicon), so concurrent checks and questions are not affected.
    """
    import copy

    texts = list(dict.fromkeys(texts))
    if len(texts) < 2:
        return assistant.retriever
    vectors = assistant.index.embeddings.embed_documents(texts)
    view = _IndexView(assistant.index, _PrecomputedEmbeddings(
        assistant.index.embeddings, dict(zip(texts, vectors, strict=True))))
    retriever = copy.copy(assistant.retriever)
    retriever.index = cast(Any, view)
    return retriever


def _evidence(assistant: Assistant, claim: str, filters: Filters, k: int = K,
              timings: dict[str, float] | None = None, retriever: Any = None
              ) -> list[ScoredPassage]:
    """The one call into retrieval (adapt here when retrieve() returns a result object)."""
    t = time.perf_counter()
    got: Any = (retriever or assistant.retriever).retrieve(claim, filters, k=k)
    if timings is not None:
        timings["retrieve_ms"] = timings.get("retrieve_ms", 0.0) + (time.perf_counter() - t) * 1e3
    return list(getattr(got, "passages", got))


def _topic_tokens(claim: str) -> list[str]:
    drop = set(_DEMONYM.values()) | {"armenia", "georgia"}
    return [t for t in dict.fromkeys(_toks(claim))
            if not t.isdigit() and t not in drop and t not in _NUMBER_WORDS
            and not re.fullmatch(r"\d+(?:[.,]\d+)*%?", t)]


_FORM = re.compile(r"\b(?:appendix|annex)\b.*\bquestionnaire\b", re.I)
_LEAD_IN = re.compile(r"^[^\n]{10,400}[?:](?:\*\*)?[ \t]*$", re.M)


_LABEL = re.compile(r"^(?:Question\s+N?\s?\d+|[A-Z]?\d{1,3}|[a-zA-Z])[.)]\s+")


@lru_cache(maxsize=50_000)
def _lead_in(text: str, end: int) -> str:
    """The last question or lead-in line ("…answered:") before ``end``, if any."""
    found = _LEAD_IN.findall(text, 0, end)
    return found[-1] if found else ""


@lru_cache(maxsize=50_000)
def _states(unit: str) -> bool:
    """Does a passage sentence state something (not a question, not a blank form option)?"""
    t = _LABEL.sub("", display(unit).lstrip("-*\u2022 "))
    if t.startswith("\u2610"):
        return False
    q, stop = t.find("?"), t.find(". ")
    return q < 0 or (0 <= stop < q)


def _covered(t: str, st: set[str], prefixes: set[str]) -> float:
    """1 when the unit has the token, FUZZY when it has a word of the same 5-letter stem."""
    if t in st:
        return 1.0
    return FUZZY if len(t) >= 5 and t[:5] in prefixes else 0.0


def candidates(assistant: Assistant, claim: str, passages: Sequence[ScoredPassage]
               ) -> list[_Cand]:
    """Sentences (and adjacent pairs) of the passages, by how well they cover the claim."""
    bm = assistant.retriever.lexicon().bm25
    topic = _topic_tokens(claim)
    weights = {t: bm.weight(t) for t in topic}
    total = sum(weights.values()) or 1.0
    out: list[_Cand] = []
    for sp in passages:
        p = sp.passage
        if _FORM.search(p.section):
            continue  # a questionnaire asks and offers options; it states nothing
        base_ctx = set(_toks(f"{p.title} {p.section}"))
        ctx = base_ctx
        units = list(sp.sentences or tuple((s, e, 0.0) for s, e in sentence_spans(p.text)))

        def score(s: int, e: int, sim: float, ctx: set[str], p: Passage = p) -> float:
            st = set(_toks(p.text[s:e]))
            prefixes = {t[:5] for t in st if len(t) >= 5}
            cov = sum(w * max(_covered(t, st, prefixes), 0.5 if t in ctx else 0.0)
                      for t, w in weights.items())
            return (1 - SIM_SHARE) * cov / total + SIM_SHARE * max(sim, 0.0)

        for i, (s, e, sim) in enumerate(units):
            if e - s < 15 or not _states(p.text[s:e]):
                continue
            # A list item is read with the question or lead-in line it answers.
            lead = _lead_in(p.text, s)
            ctx = base_ctx | set(_toks(lead)) if lead else base_ctx
            out.append(_Cand(sp, s, e, score(s, e, sim, ctx)))
            if i + 1 < len(units) and p.text[e:units[i + 1][0]].count("\n") <= 2:
                s2, e2, sim2 = units[i + 1]
                if e2 - s <= 600 and _states(p.text[s:e2]):
                    out.append(_Cand(sp, s, e2, score(s, e2, max(sim, sim2), ctx) - PAIR_PENALTY))
    return sorted(out, key=lambda c: -c.topic)


@dataclass
class _ClauseResult:
    status: str
    best: _Cand | None
    comparisons: list[Comparison]


def judge(claim: str, cands: Sequence[_Cand], known: frozenset[str] = frozenset()
          ) -> _ClauseResult:
    """Supported, contradicted or not found, from scored candidate sentences.

    The best agreeing sentence supports the claim unless a sentence with other values speaks
    of the subject clearly more closely (by CONTRADICT_MARGIN): then the claim is contradicted.
    """
    agree: _Cand | None = None
    contra: tuple[_Cand, list[Comparison]] | None = None
    for c in cands:
        if c.topic < min(TOPIC_SUPPORT, TOPIC_CONTRADICT) or (agree and contra):
            break
        v = compare(claim, c.text, c.sp.passage, known)
        if v.agrees and agree is None and c.topic >= TOPIC_SUPPORT:
            agree = c
        elif v.mismatches and contra is None and c.topic >= TOPIC_CONTRADICT:
            contra = (c, v.mismatches)
    if contra and (agree is None or contra[0].topic > agree.topic + CONTRADICT_MARGIN):
        return _ClauseResult(CONTRADICTED, contra[0], contra[1])
    if agree:
        return _ClauseResult(SUPPORTED, agree, [])
    return _ClauseResult(NOT_FOUND, cands[0] if cands else None, [])


def clauses(claim: str) -> list[str]:
    """Independent clauses of a claim, when each has enough content to check on its own."""
    parts = [p.strip(" ,.") for p in _CLAUSE.split(claim)]
    parts = [p for p in parts if p]
    if len(parts) < 2 or any(len(_topic_tokens(p)) < MIN_CLAIM_TOKENS for p in parts):
        return [claim]
    # A clause without a country of its own takes the claim's ("In Armenia, X, while Y").
    countries = [w for w in words(parts[0]) if w in _DEMONYM]
    if countries:
        parts = [p if any(w in _DEMONYM for w in words(p)) else f"{p} ({countries[0]})"
                 for p in parts]
    return parts


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Doc:
    id: str
    title: str
    country: str
    year: int | None
    keys: frozenset[str]  # tokens that name it
    indexed: bool


def _catalog(assistant: Assistant) -> list[_Doc]:
    docs: dict[str, _Doc] = {}
    seen: dict[str, Passage] = {}
    for p in assistant.retriever.lexicon().passages:
        seen.setdefault(p.doc_id, p)
    infos: dict[str, Any] = {}
    try:
        from assistant.corpus import corpus_entries

        infos = {e.info.id: e.info for e in corpus_entries(assistant.settings)}
    except Exception:  # noqa: BLE001 - a missing manifest only loses the not-indexed names
        infos = {}
    ids = list(dict.fromkeys([*seen, *infos]))
    for did in ids:
        info, seen_p = infos.get(did), seen.get(did)
        src: Any = seen_p or info
        title, country, year = src.title, src.country, src.year
        extra = " ".join([did.replace("-", " "), *(info.aliases if info else ()),
                          info.issuer if info else "", info.source if info else "",
                          COUNTRIES.get(country, "")])
        keys = frozenset(_toks(f"{title} {extra}"))
        docs[did] = _Doc(did, title, country, year, keys, did in seen)
    return list(docs.values())


def resolve(text: str, catalog: Sequence[_Doc]) -> tuple[list[_Doc], str]:
    """The documents a reference text names (several when it is ambiguous), and a note."""
    if not text.strip():
        return [], "the reference list has no such entry"
    toks = set(_toks(text))
    n = len(catalog) or 1
    df: dict[str, int] = {}
    for d in catalog:
        for t in d.keys:
            df[t] = df.get(t, 0) + 1
    years = {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", text)}
    wanted = {c for w, c in _DEMONYM.items() if w in words(text)}
    scored: list[tuple[float, _Doc]] = []
    for d in catalog:
        if wanted and d.country not in wanted:
            continue
        s = sum(1.0 - (df[t] - 1) / n for t in toks & d.keys if not t.isdigit())
        if years and d.year is not None and d.year not in years:
            s -= 1.0
        if s >= 0.5:
            scored.append((s, d))
    if not scored:
        return [], "no indexed or listed document matches it"
    best = max(s for s, _ in scored)
    return [d for s, d in scored if s >= best - 1e-9], ""


def _section_ok(label: str, section: str) -> bool:
    lab = label.strip(" .").lower()
    sec = section.lower()
    num = re.match(r"(\d+(?:\.\d+)*)", lab)
    if num:
        return bool(re.search(rf"(?:^|[\s›]){re.escape(num.group(1))}\.?(?:\s|$)", sec))
    lt = set(_toks(lab))
    return bool(lt) and lt <= set(_toks(sec))


def _place_ok(ref: RefCheck, p: Passage) -> bool:
    if ref.page is not None and p.page is not None and ref.page not in {
            str(p.page), str(p.page_label)}:
        return False
    return ref.section is None or _section_ok(ref.section, p.section)


def check_reference(ref: RefCheck, claim: ClaimResult, catalog: Sequence[_Doc],
                    support_in: Callable[[tuple[str, ...]], list[Evidence]]) -> None:
    """Mark one reference right / wrong document / wrong page or section / cannot resolve."""
    docs, note = resolve(ref.text, catalog)
    pm = _PAGE.search(ref.text)
    sm = _SECTION.search(ref.text)
    ref.page = pm.group(1) if pm else None
    ref.section = sm.group(1).strip() if sm else None
    ref.docs = tuple(d.id for d in docs)
    best = claim.evidence[0] if claim.evidence else None
    if not docs:
        ref.status, ref.note = REF_UNRESOLVED, note
        if best:
            ref.right = best.reference()
        return
    if claim.status not in {SUPPORTED, CONTRADICTED, PARTLY} or best is None:
        ref.status = REF_UNRESOLVED
        ref.note = "the claim is not found in the indexed documents"
        return
    if not any(d.indexed for d in docs):
        ref.status = REF_UNRESOLVED
        ref.note = f"{docs[0].id} is not in the index"
        ref.right = best.reference()
        return
    found = [e for e in claim.evidence if e.passage.doc_id in ref.docs]
    ok = [e for e in found if _place_ok(ref, e.passage)]
    if not ok:  # look further in the cited documents only when needed
        found += support_in(ref.docs)
        ok = [e for e in found if _place_ok(ref, e.passage)]
    if not found:
        ref.status, ref.right = REF_WRONG_DOC, best.reference()
        return
    if not ok:
        ref.status, ref.right = REF_WRONG_PLACE, found[0].reference()
        return
    ref.status, ref.right = REF_RIGHT, ok[0].reference()
    if ref.page is not None and ok[0].passage.page is None:
        ref.note = "page not checked: the indexed text has no page numbers"


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------
def check_text(text: Any, max_chars: int) -> str:
    """The draft, or InputError with one line saying why it cannot be checked."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("The draft is empty; paste or upload the text to check.")
    if "\x00" in text:
        raise InputError("The draft contains binary data; save it as .md, .txt, .docx or .pdf.")
    if len(text) > max_chars:
        raise InputError(
            f"The draft is {len(text):,} characters long; the limit is {max_chars:,} "
            "(ASSISTANT_MAX_DRAFT_CHARS). Check it in parts.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_draft(
    assistant: Assistant,
    text: str,
    filters: Filters | dict[str, Any] | None = None,
    progress: Progress | None = None,
    source: str = "",
) -> DraftReport:
    """Check every claim and every reference of ``text`` against the indexed documents."""
    t0 = time.perf_counter()
    settings = assistant.settings
    text = check_text(text, getattr(settings, "max_draft_chars", MAX_DRAFT_CHARS))
    f = Filters.of(filters)
    units, ref_list, _ = split_draft(text)
    if not any(u.kind == "claim" for u in units):
        raise InputError("The draft has no sentence that states something to check "
                         "(only headings, questions or references).")
    catalog = _catalog(assistant)
    claims: list[ClaimResult] = []
    refs: list[RefCheck] = []
    timings: dict[str, float] = {"retrieve_ms": 0.0}
    total = len(units)
    t = time.perf_counter()
    retriever = _batched_retriever(assistant, [_claim_text(text[u.start:u.end]) for u in units
                                               if u.kind == "claim"])
    timings["embed_batch_ms"] = (time.perf_counter() - t) * 1000
    for i, u in enumerate(units, 1):
        t = time.perf_counter()
        raw = text[u.start:u.end]
        c = ClaimResult(n=i, text=raw, start=u.start, end=u.end,
                        status=NOT_A_CLAIM if u.kind != "claim" else NOT_FOUND, kind=u.kind)
        if u.kind == "claim":
            _check_claim(assistant, c, f, timings, retriever)
            c.references = find_refs(raw, ref_list)
            for r in c.references:
                check_reference(r, c, catalog, _support_in(assistant, c, timings, retriever))
            refs.extend(c.references)
        c.ms = (time.perf_counter() - t) * 1000
        claims.append(c)
        if progress:
            progress(i, total, f"sentence {i}/{total}")
    report = DraftReport(text=text, claims=claims, references=refs, source=source,
                         timings_ms=timings)
    foreign = sum(1 for c in claims if c.kind == "claim" and not_english(c.text))
    if foreign:
        report.notes.append(
            f"{foreign} sentence(s) are not in English: the embedding model is English-only and "
            "no cross-language retrieval exists yet, so they are likely reported as not found.")
    report.timings_ms["total_ms"] = (time.perf_counter() - t0) * 1000
    report.audit = _audit(assistant, report, f)
    _write_audit(assistant, report.audit)
    return report


MAX_DRAFT_CHARS = 200_000


def not_english(text: str) -> bool:
    """Mostly letters outside the Latin script (Armenian, Georgian, Cyrillic, ...)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(1 for ch in letters if ord(ch) > 0x24F) > len(letters) / 2


def _claim_text(raw: str) -> str:
    """A draft sentence as it is matched against the documents: no bullet, no references."""
    return _BULLET.sub("", strip_refs(raw)).strip()


def _check_claim(assistant: Assistant, c: ClaimResult, f: Filters,
                 timings: dict[str, float] | None = None, retriever: Any = None) -> None:
    claim = _claim_text(c.text)
    passages = _evidence(assistant, claim, f, timings=timings, retriever=retriever)
    c.passages = [sp.passage.id for sp in passages]
    named = {_DEMONYM[w] for w in words(claim) if w in _DEMONYM}
    if f.country and named and not named & set(f.country):
        # The claim is about a country the filters leave out: its documents were not read, so
        # nothing can support or contradict it (another country's report says nothing of it).
        c.status, c.outside_filter = NOT_FOUND, True
        return
    cands = candidates(assistant, claim, passages)
    whole = judge(claim, cands)
    parts = clauses(claim)
    results = [whole]
    # A claim of several clauses is supported only when each clause is: a sentence that covers
    # most of the words must not lend its quote to a clause it does not state.
    if len(parts) > 1:
        known = frozenset(v for v, _ in facts(claim).figures)
        results = [judge(p, candidates(assistant, p, passages), known) for p in parts]
        statuses = {r.status for r in results}
        if statuses == {SUPPORTED}:
            c.status = SUPPORTED
        elif CONTRADICTED in statuses:
            c.status = CONTRADICTED
        elif SUPPORTED in statuses:
            c.status = PARTLY
            c.missing = [p for p, r in zip(parts, results, strict=True) if r.status == NOT_FOUND]
        else:
            c.status, results = whole.status, [whole]
    else:
        c.status = whole.status
    # Contradicting sentences first: the annotated draft names the first one.
    for wanted in (CONTRADICTED, SUPPORTED):
        for r in results:
            if r.best is not None and r.status == wanted:
                c.evidence.append(r.best.evidence())
                c.comparisons.extend(r.comparisons)
    if c.status in {NOT_FOUND, PARTLY}:
        seen: set[str] = set()
        for cand in cands:
            if cand.sp.passage.id in seen:
                continue
            seen.add(cand.sp.passage.id)
            c.closest.append(cand.evidence())
            if len(c.closest) == 3:
                break


def _support_in(assistant: Assistant, c: ClaimResult, timings: dict[str, float] | None = None,
                retriever: Any = None) -> Callable[[tuple[str, ...]], list[Evidence]]:
    """A function: sentences of the given documents that state the claim (or contradict it,
    when the claim is contradicted: the reference may point at the right place)."""
    claim = _claim_text(c.text)

    def find(doc_ids: tuple[str, ...]) -> list[Evidence]:
        passages = _evidence(assistant, claim, Filters(doc_id=doc_ids), timings=timings,
                             retriever=retriever)
        out: list[Evidence] = []
        for cand in candidates(assistant, claim, passages):
            if cand.topic < TOPIC_SUPPORT or len(out) >= 5:
                break
            v = compare(claim, cand.text, cand.sp.passage)
            if v.agrees or (c.status == CONTRADICTED and v.mismatches):
                out.append(cand.evidence())
        return out

    return find


def _audit(assistant: Assistant, report: DraftReport, f: Filters) -> dict[str, Any]:
    s = assistant.settings
    from assistant.answer.audit import settings_digest

    settings = settings_digest(s)
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": "draft-check",
        "source": report.source,
        "corpus_fingerprint": assistant.fingerprint(),
        "filters": f.to_dict(),
        "settings": {**settings, "check_k": K, "topic_support": TOPIC_SUPPORT,
                     "topic_contradict": TOPIC_CONTRADICT, "sim_share": SIM_SHARE},
        "counts": report.counts(),
        "claims": [{"n": c.n, "status": c.status, "kind": c.kind, "passages": c.passages,
                    "evidence": [e.passage.id for e in c.evidence]}
                   for c in report.claims],
        "timings_ms": {k: round(v, 1) for k, v in report.timings_ms.items()},
    }


def audit_path(assistant: Assistant) -> Path:
    return Path(assistant.settings.data_path) / "audit" / "draft-checks.jsonl"


def _write_audit(assistant: Assistant, record: dict[str, Any]) -> None:
    """One whole line per check (``storage.append_jsonl``: a full disk leaves no partial line)."""
    from assistant.storage import append_jsonl

    append_jsonl(audit_path(assistant), record)


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
        from assistant.extract import read_pdf

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


# --------------------------------------------------------------------------------------------
# HTML report
# --------------------------------------------------------------------------------------------
_COLOURS = {SUPPORTED: "#d9f2d9", CONTRADICTED: "#f8d0d0", PARTLY: "#fdeec8",
            NOT_FOUND: "#e8e8e8", NOT_A_CLAIM: "transparent"}


def _ev_html(e: Evidence, label: str) -> str:
    mark = "" if e.verified else " <b>(quote NOT verified)</b>"
    return (f"<div class='ev'><div class='where'>{html.escape(label)}: "
            f"{html.escape(e.reference())}{mark}</div>"
            f"<blockquote>{html.escape(e.quote)}</blockquote></div>")


def claim_details_html(c: ClaimResult) -> str:
    """The evidence of one claim, escaped, for the report and the page."""
    parts = [f"<div class='status'>{html.escape(c.status)}"
             f"{' (' + html.escape(c.kind) + ')' if c.status == NOT_A_CLAIM else ''}</div>"]
    if c.comparisons:
        rows = "".join(f"<tr><td>{html.escape(x.kind)}</td><td>{html.escape(x.draft)}</td>"
                       f"<td>{html.escape(x.where)}: {html.escape(x.document)}</td></tr>"
                       for x in c.comparisons)
        parts.append(f"<table class='cmp'><tr><th>value</th><th>draft</th><th>document</th>"
                     f"</tr>{rows}</table>")
    for e in c.evidence:
        parts.append(_ev_html(e, "contradicting passage" if c.status == CONTRADICTED
                              else "supported by"))
    if c.missing:
        parts.append("<div>Not found: " + "; ".join(html.escape(m) for m in c.missing)
                     + "</div>")
    for e in c.closest:
        parts.append(_ev_html(e, "closest passage (not support)"))
    for r in c.references:
        extra = (f" \u2014 right: {html.escape(r.right)}"
                 if r.right and r.status != REF_RIGHT else "")
        note = f" ({html.escape(r.note)})" if r.note else ""
        parts.append(f"<div class='ref'>reference {html.escape(r.marker)}: "
                     f"<b>{html.escape(r.status)}</b>{extra}{note}</div>")
    return "".join(parts)


_STYLE = """
.draft-check .draft { white-space: pre-wrap; line-height: 1.6; }
.draft-check details.claim { display: inline; border-radius: 3px; padding: 0 2px; }
.draft-check details.claim > summary { display: inline; cursor: pointer; list-style: none; }
.draft-check details.claim[open] > .detail { display: block; white-space: normal;
  background: #fff; color: #111; border: 1px solid #bbb; padding: .5rem; margin: .3rem 0; }
.draft-check .claim .txt { color: #111; }
.draft-check blockquote { margin: .3rem 1rem; color: #333; }
.draft-check .where { font-size: .9em; color: #555; }
.draft-check .chip { padding: 2px 6px; border-radius: 3px; border: 1px solid #ccc; color: #111; }
.draft-check table.cmp td, .draft-check table.cmp th { border: 1px solid #ccc; padding: 2px 6px; }
"""


def report_fragment(report: DraftReport) -> str:
    """The draft with each sentence coloured by status and its evidence on expand (escaped)."""
    counts = report.counts()
    legend = " ".join(
        f"<span class='chip' style='background:{_COLOURS[s]}'>{html.escape(s)}: {counts[s]}"
        "</span>" for s in STATUSES)
    body: list[str] = []
    pos = 0
    text = report.text
    for c in report.claims:
        body.append(html.escape(text[pos:c.start]))
        tag = "b" if c.kind == "heading" else "span"
        body.append(
            f"<details class='claim st-{c.status.replace(' ', '-')}' "
            f"style='background:{_COLOURS[c.status]}'>"
            f"<summary><{tag} class='txt'>{html.escape(text[c.start:c.end])}</{tag}></summary>"
            f"<div class='detail'>{claim_details_html(c)}</div></details>"
        )
        pos = c.end
    body.append(html.escape(text[pos:]))
    return (f"<div class='draft-check'><style>{_STYLE}</style>"
            f"<p>{html.escape(report.summary())}</p><p>{legend}</p>"
            f"<p>Click a sentence for its evidence.</p>"
            f"<div class='draft'>{''.join(body)}</div></div>")


def render_html(report: DraftReport) -> str:
    """A standalone page (no scripts; a Content-Security-Policy forbids any)."""
    title = html.escape(report.source or "draft")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Draft check: {title}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; }}</style>
</head><body>
<h1>Draft check: {title}</h1>
{report_fragment(report)}
</body></html>
"""


__all__ = [
    "REF_STATUSES", "STATUSES", "ClaimResult", "Comparison", "DraftReport", "Evidence",
    "RefCheck", "check_draft", "compare", "facts", "read_draft", "report_fragment", "split_draft",
]
