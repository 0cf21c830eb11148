"""A draft split into claims (sentences, bullet items) and the references written in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.check.facts import content_tokens
from assistant.check.report import RefCheck
from assistant.text import normalize, sentence_spans

MIN_CLAIM_TOKENS = 3  # fewer content words than this: nothing checkable


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


# Sentences that are not claims.
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s+.*|\*\*[^*]{1,200}\*\*:?|__[^_]{1,200}__)\s*$")
_META = re.compile(
    r"^\W*(?:this|the present|the following|the next)\s+(?:section|brief|note|paper|chapter|"
    r"document|draft|part|annex|summary|report)\s+(?:\w+\s+){0,2}?(?:describes?|presents?|"
    r"outlines?|summari[sz]es?|sets out|discusses|reviews?|introduces?|explains?|is|was|"
    r"contains?|gives?|provides?|looks at|turns to|concludes|draws on|builds on|"
    r"relies on|is based on|sets|compares|brings|uses)\b"
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


BULLET = re.compile(r"^\s*(?:[-*\u2022\u2713\u2610\u25aa\u25e6]|\d{1,3}[.)])\s+")


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
        body = BULLET.sub("", strip_refs(raw)).strip()
        if body.endswith("?"):
            u.kind = "question"
        elif (_META.search(body)
              or len(content_tokens(body)) < MIN_CLAIM_TOKENS and not not_english(body)):
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


def not_english(text: str) -> bool:
    """Mostly letters outside the Latin script (Armenian, Georgian, Cyrillic, ...)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(1 for ch in letters if ord(ch) > 0x24F) > len(letters) / 2
