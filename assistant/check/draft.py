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

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.check.evidence import (
    SIM_SHARE,
    TOPIC_CONTRADICT,
    TOPIC_SUPPORT,
    K,
    batched_retriever,
    candidates,
    clauses,
    judge,
    retrieve_evidence,
)
from assistant.check.facts import DEMONYM, compare, facts
from assistant.check.references import check_reference, document_catalog, resolve
from assistant.check.report import (
    CONTRADICTED,
    NOT_A_CLAIM,
    NOT_FOUND,
    PARTLY,
    SUPPORTED,
    ClaimResult,
    DraftReport,
    Evidence,
    RefCheck,
)
from assistant.check.split import BULLET, find_refs, not_english, split_draft, strip_refs
from assistant.errors import InputError
from assistant.retrieve.filters import Filters
from assistant.text import words

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.check.evidence import _Cand

Progress = Callable[[int, int, str], None]


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
    catalog = document_catalog(assistant)
    country = draft_country(text)
    claims: list[ClaimResult] = []
    refs: list[RefCheck] = []
    timings: dict[str, float] = {"retrieve_ms": 0.0}
    total = len(units)
    t = time.perf_counter()
    retriever = batched_retriever(assistant, [_claim_text(text[u.start:u.end]) for u in units
                                               if u.kind == "claim"])
    timings["embed_batch_ms"] = (time.perf_counter() - t) * 1000
    for i, u in enumerate(units, 1):
        t = time.perf_counter()
        raw = text[u.start:u.end]
        c = ClaimResult(n=i, text=raw, start=u.start, end=u.end,
                        status=NOT_A_CLAIM if u.kind != "claim" else NOT_FOUND, kind=u.kind)
        if u.kind == "reference":
            c.resolves_to, c.resolution = _resolve_line(raw, catalog)
        if u.kind == "claim":
            _check_claim(assistant, c, f, timings, retriever, country)
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


def _claim_text(raw: str) -> str:
    """A draft sentence as it is matched against the documents: no bullet, no references."""
    return BULLET.sub("", strip_refs(raw)).strip()


def _countries(text: str) -> set[str]:
    return {DEMONYM[w] for w in words(text) if w in DEMONYM}


def draft_country(text: str) -> str:
    """The one country a draft is about ("AM", "GE"), or "" when it is about none or several.

    Named by its title and heading lines; else by its references (reference lines, the
    reference list, references in brackets); else the only country the draft names at all.
    The first of these that names any country decides (two countries: the draft compares).
    """
    units, ref_list, _ = split_draft(text)
    kinds = [(u.kind, text[u.start:u.end]) for u in units]
    refs = [*(t for k, t in kinds if k == "reference"), *ref_list.values(),
            *(r.text for k, t in kinds if k == "claim" for r in find_refs(t, {}) if r.text)]
    for place in ([t for k, t in kinds if k == "heading"], refs, [text]):
        named = set().union(*map(_countries, place)) if place else set()
        if named:
            return named.pop() if len(named) == 1 else ""
    return ""


def _resolve_line(line: str, catalog: Any) -> tuple[tuple[str, ...], str]:
    """The documents a reference line of the draft names, and a line saying which."""
    docs, note = resolve(line, catalog)
    if not docs:
        return (), f"refers to no indexed document ({note})"
    names = "; ".join(f"{d.title} ({d.id})" + ("" if d.indexed else ", not in the index")
                      for d in docs)
    return tuple(d.id for d in docs), ("refers to " if len(docs) == 1
                                       else "refers to one of ") + names


def _check_claim(assistant: Assistant, c: ClaimResult, f: Filters,
                 timings: dict[str, float] | None = None, retriever: Any = None,
                 country: str = "") -> None:
    claim = _claim_text(c.text)
    passages = retrieve_evidence(assistant, claim, f, timings=timings, retriever=retriever)
    c.passages = [sp.passage.id for sp in passages]
    named = _countries(claim)
    prefer = _preferred(claim, country)
    if f.country and named and not named & set(f.country):
        # The claim is about a country the filters leave out: its documents were not read, so
        # nothing can support or contradict it (another country's report says nothing of it).
        c.status, c.outside_filter = NOT_FOUND, True
        return
    cands = candidates(assistant, claim, passages)
    whole = judge(claim, cands, prefer=prefer)
    parts = clauses(claim)
    results = [whole]
    # A claim of several clauses is supported only when each clause is: a sentence that covers
    # most of the words must not lend its quote to a clause it does not state.
    if len(parts) > 1:
        whole_facts = facts(claim)
        known = frozenset([*(v for v, _ in whole_facts.figures), *whole_facts.years])
        results = [judge(p, candidates(assistant, p, passages), known,
                         prefer=_preferred(p, prefer)) for p in parts]
        statuses = {r.status for r in results}
        if statuses == {SUPPORTED}:
            c.status = SUPPORTED
        elif CONTRADICTED in statuses:
            c.status = CONTRADICTED
        elif statuses & {SUPPORTED, PARTLY}:
            c.status = PARTLY
            c.missing = [m for p, r in zip(parts, results, strict=True)
                         for m in ([p] if r.status == NOT_FOUND else
                                   [f"{p} ({x})" for x in r.missing])]
        else:
            c.status, results = whole.status, [whole]
    else:
        c.status, c.missing = whole.status, list(whole.missing)
    # Contradicting sentences first: the annotated draft names the first one; a claim about
    # both countries quotes each country's support.
    for wanted in (CONTRADICTED, SUPPORTED):
        for r in results:
            if r.best is not None and (r.status == wanted or
                                       (wanted == SUPPORTED and r.status == PARTLY)):
                c.evidence.extend(x.evidence() for x in (r.best, *r.also))
                c.comparisons.extend(r.comparisons)
    if c.status in {NOT_FOUND, PARTLY}:
        c.closest = closest_passages(cands)


def closest_passages(cands: Sequence[_Cand], n: int = 3) -> list[Evidence]:
    """The ``n`` closest sentences shown as not support, each once: one per passage, and not a
    sentence of a document already shown from another passage, the same words or the same
    place (chunks overlap, so a trial saw one sentence listed twice under one claim)."""
    out: list[Evidence] = []
    places: list[tuple[str, int, int]] = []  # (document, start, end) of each sentence shown
    for cand in cands:
        p, ev = cand.sp.passage, cand.evidence()
        place = (p.doc_id, p.start + cand.start, p.start + cand.end) if p.end > p.start else (
            p.id, cand.start, cand.end)  # offsets in the document unknown: the passage's
        if any(e.passage.id == p.id or e.passage.doc_id == p.doc_id and e.quote == ev.quote
               for e in out) or any(d == place[0] and s < place[2] and place[1] < e
                                    for d, s, e in places):
            continue
        out.append(ev)
        places.append(place)
        if len(out) == n:
            break
    return out


def _preferred(clause: str, prefer: str) -> str:
    """Between the same sentence in two reports: the clause's own country, else the draft's."""
    named = _countries(clause)
    return next(iter(named)) if len(named) == 1 else prefer


def _support_in(assistant: Assistant, c: ClaimResult, timings: dict[str, float] | None = None,
                retriever: Any = None) -> Callable[[tuple[str, ...]], list[Evidence]]:
    """A function: sentences of the given documents that state the claim (or contradict it,
    when the claim is contradicted: the reference may point at the right place)."""
    claim = _claim_text(c.text)

    def find(doc_ids: tuple[str, ...]) -> list[Evidence]:
        passages = retrieve_evidence(assistant, claim, Filters(doc_id=doc_ids), timings=timings,
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
    """One whole line per check (``append_jsonl``: a full disk leaves no partial line)."""
    from assistant.store.files import append_jsonl

    append_jsonl(audit_path(assistant), record)
