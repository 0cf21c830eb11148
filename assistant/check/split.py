"""A draft split into claims (sentences, bullet items) and the references written in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.check.facts import content_tokens
from assistant.check.report import RefCheck
from assistant.prompts import OUTCOME_LABELS
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


_CLOSERS = re.compile(r"\s*[\"'\u201d\u2019)\]]*\s*(?:\[\^?[\w,\s\u2013-]{1,20}\]\s*)*[.;]?\s*")
BULLET = re.compile(r"^\s*(?:[-*\u2022\u2713\u2610\u25aa\u25e6]|\d{1,3}[.)])\s+")

# A line that states nothing: a title or a bibliography entry has no finite verb. Without a
# part-of-speech tagger, a verb is recognised by its closed-class forms (auxiliaries, modals,
# copulas, "n't") and by a past tense in -ed that no article or preposition introduces.
VERB_CUE = re.compile(
    r"\b(?:is|are|was|were|be|been|am|has|have|had|do|does|did|can|cannot|could|will|would|"
    r"shall|should|may|might|must)\b|n't\b"
    r"|(?<!\ba )(?<!\ban )(?<!\bthe )(?<!\bof )(?<!\bfor )(?<!\bits )(?<!\band )"
    r"\b[a-z]{3,}ed\b")
_END_PUNCT = re.compile(r"[.!?\u2026][\"')\]\u201d\u2019*_]*$")
_OPEN_END = frozenset({"a", "an", "the", "of", "and", "or", "in", "to", "for", "with", "on",
                       "by", "from", "at", "as"})
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# a count ("12 universities"), not a year and not a label's digits ("D1.1")
_COUNT = re.compile(r"(?<![\w.])\d[\d,.]*(?![\w.])")
_MAX_HEADING_WORDS = 20


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

    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
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
        entry = _REF_ENTRY.match(line)
        if entry and entry.group(1):
            # "[1] Micro-GEAR D1.1 Armenia (2024), …": a reference-list entry, with or without
            # a "References" heading above it (a claim never starts with its own marker)
            flush(start)
            refs[entry.group(1)] = entry.group(3)
            ref_spans.append((start, end))
            continue
        kind = _line_kind(line, lines[i - 1] if i and block_start is not None else "",
                          lines[i + 1] if i + 1 < len(lines) else "")
        if kind:
            flush(start)
            s = start + len(line) - len(line.lstrip())
            units.append(_Unit(s, start + len(line.rstrip()), kind))
            continue
        if block_start is None:
            block_start = start
    flush(len(text))
    _classify(text, units, ref_spans)
    return units, refs, ref_spans


def _line_kind(line: str, prev: str, nxt: str) -> str:
    """"heading" for a title line, "reference" for a bibliography-like line, "" for text.

    The line must stand on its own: not a bullet, not the continuation of a sentence wrapped
    from the line before, nor wrapped onto the next one. A title has no full stop and no verb
    ("Micro-credentials in Armenia: a short brief"); a reference has no verb, a year and parts
    separated by commas ("Micro-GEAR D1.1 Status quo report, Armenia, 2024."), full stop or not.
    """
    body = line.strip()
    if body in OUTCOME_LABELS.values():
        return "heading"  # the label a copied answer starts with ("Evidence: may not …")
    if (BULLET.match(line) or not body or not (body[0].isupper() or body[0].isdigit())
            or len(body.split()) > _MAX_HEADING_WORDS or VERB_CUE.search(body.lower())):
        return ""
    if prev.strip() and not _END_PUNCT.search(prev.strip()):
        return ""  # the rest of a sentence that began on the line before
    nxt = nxt.strip()
    last = re.sub(r"\W+$", "", body).rsplit(None, 1)[-1].lower() if body else ""
    if (nxt and not (nxt[0].isupper() or nxt[0] in "[#*-\u2022")) or last in _OPEN_END:
        return ""  # a sentence wrapped onto the next line
    if _YEAR.search(body) and body.count(",") >= 2:
        return "reference"
    if any(not _YEAR.fullmatch(m.group(0)) for m in _COUNT.finditer(body)):
        return ""  # a figure is checked: the verb list misses "offers" (a title rarely counts)
    return "" if _END_PUNCT.search(body) or body.endswith("?") else "heading"


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sentence_spans(text[start:end]):
        s, e = s + start, e + start
        if out and _CLOSERS.fullmatch(text[s:e]):
            # a closing quotation mark or a marker after the full stop ("…total.” [1]")
            # belongs to the sentence it closes
            out[-1] = (out[-1][0], e)
            continue
        # A marker written after the full stop ("…institutions.[1] Next") ends the sentence.
        cut = s
        for m in _SPLIT_AFTER_MARKER.finditer(text, s, e):
            out.append((cut, m.end(1)))
            cut = m.end()
        out.append((cut, e))
    return out


def _classify(text: str, units: list[_Unit], ref_spans: list[tuple[int, int]]) -> None:
    # The reference list quotes the documents, not the draft: a claim that quotes what its own
    # reference quotes ("Answer with references") is not the draft quoting itself.
    body_text = _without(text, ref_spans)
    whole = normalize(body_text).lower()
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


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for s, e in sorted(spans):
        out.append(text[pos:s])
        pos = max(pos, e)
    out.append(text[pos:])
    return "\n".join(out)


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
