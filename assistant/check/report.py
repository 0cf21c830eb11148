"""The result of a check (claims, references, statuses) and its renderings: JSON, Markdown, HTML."""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.text import counted, without_heading_marks
from assistant.types import Passage

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


COUNTRY_NAME = {"AM": "Armenia", "GE": "Georgia"}
_REPORT_LABEL = {"AM": "Armenian report", "GE": "Georgian report", "EU": "EU document"}


# --------------------------------------------------------------------------------------------
# Data objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """One value the draft and a document state differently (or the same)."""

    kind: str  # figure | year | date | country | name | polarity
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
    resolves_to: tuple[str, ...] | None = None  # a reference line: the documents it names
    resolution: str = ""  # a reference line: which indexed document it names, in words

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
        return f"\u21aa {self.resolution}" if self.resolution else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "text": self.text, "start": self.start, "end": self.end,
            "status": self.status, "kind": self.kind,
            "evidence": [e.to_dict() for e in self.evidence],
            "compared": [asdict(c) for c in self.comparisons],
            "missing": self.missing,
            "closest_not_support": [e.to_dict() for e in self.closest],
            "references": [r.to_dict() for r in self.references],
            **({"resolves_to": list(self.resolves_to)} if self.resolves_to is not None else {}),
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
        out = f"{counted(len(self.claims), 'sentence')}: " + "; ".join(parts) + f" ({total:.1f} s)"
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
    if m and p.country in COUNTRY_NAME:
        return f"{m.group(1).split(':')[0].strip()} {COUNTRY_NAME[p.country]}"
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
    if c.resolution:
        parts.append(f"<div class='ref'>{html.escape(c.resolution)}</div>")
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
.draft-check details.claim:not([open])::details-content { display: none; }
.draft-check details.claim[open] > .detail { display: block; white-space: normal;
  background: #fff; color: #111; border: 1px solid #bbb; padding: .5rem; margin: .3rem 0; }
.draft-check .claim .txt { color: #111; }
.draft-check blockquote { margin: .3rem 1rem; color: #333; }
.draft-check .where { font-size: .9em; color: #555; }
.draft-check .chip { padding: 2px 6px; border-radius: 3px; border: 1px solid #ccc; color: #111;
  display: inline-block; white-space: nowrap; margin: 2px 0; }
.draft-check table.cmp td, .draft-check table.cmp th { border: 1px solid #ccc; padding: 2px 6px; }
"""


def report_fragment(report: DraftReport, summary: bool = True) -> str:
    """The draft with each sentence coloured by status and its evidence on expand (escaped).
    ``summary=False`` leaves out the summary line (the page shows it above the report)."""
    counts = report.counts()
    legend = " ".join(
        f"<span class='chip' style='background:{_COLOURS[s]}'>{html.escape(s)}: {counts[s]}"
        "</span>" for s in STATUSES)
    body: list[str] = []
    pos = 0
    text = report.text
    for c in report.claims:
        body.append(html.escape(without_heading_marks(text[pos:c.start])))
        tag = "b" if c.kind == "heading" else "span"
        shown = text[c.start:c.end]
        shown = without_heading_marks(shown) if c.kind == "heading" else shown
        body.append(
            f"<details class='claim st-{c.status.replace(' ', '-')}' "
            f"style='background:{_COLOURS[c.status]}'>"
            f"<summary><{tag} class='txt'>{html.escape(shown)}</{tag}></summary>"
            f"<div class='detail'>{claim_details_html(c)}</div></details>"
        )
        pos = c.end
    body.append(html.escape(without_heading_marks(text[pos:])))
    return (f"<div class='draft-check'><style>{_STYLE}</style>"
            f"{f'<p>{html.escape(report.summary())}</p>' if summary else ''}<p>{legend}</p>"
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
