"""References written in a draft resolved to indexed documents and checked."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.check.facts import DEMONYM, content_tokens
from assistant.check.report import (
    CONTRADICTED,
    PARTLY,
    REF_RIGHT,
    REF_UNRESOLVED,
    REF_WRONG_DOC,
    REF_WRONG_PLACE,
    SUPPORTED,
    ClaimResult,
    Evidence,
    RefCheck,
)
from assistant.text import words
from assistant.types import COUNTRIES, Passage

if TYPE_CHECKING:
    from assistant.answer import Assistant

_PAGE = re.compile(r"\bpp?\.\s*(\d{1,4})", re.I)
# "section 2.2", "section III (Survey results)": a number or name, and a title in brackets
_SECTION = re.compile(r"(?:\bsection|\bsec\.|§|\bchapter|\bpart)\s*([\w.]+(?:[ \t]+[A-Z][\w&-]*)*)"
                      r"(?:\s*\(([^()\n]{1,80})\))?", re.I)

# The product's own style (``assistant.types.format_reference`` / ``reference_line``), which
# "Answer with references" copies: "Micro-GEAR D1.1 Armenia (2024), II. Survey results ›
# Question N8, p. 14 (uploaded …): “quote”". The section path names no "section", so it is
# read from its place after the document's name.
_OWN_STYLE = re.compile(
    r"^(?P<doc>[^,\u201c]+?\((?:19|20)\d\d\))"
    r"(?:,\s+(?P<path>(?:(?!,\s+pp?\.\s)[^\u201c])+?))?"
    r"(?:,\s+(?P<page>pp?\.\s*[\w\u2013-]+))?"
    r"(?:\s+\([^()\u201c]*\))?"
    r"(?::\s+\u201c.*\u201d)?\s*$", re.S)


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


def document_catalog(assistant: Assistant) -> list[_Doc]:
    docs: dict[str, _Doc] = {}
    seen: dict[str, Passage] = {}
    for p in assistant.retriever.lexicon().passages:
        seen.setdefault(p.doc_id, p)
    infos: dict[str, Any] = {}
    try:
        from assistant.documents.manifest import corpus_entries

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
        keys = frozenset(content_tokens(f"{title} {extra}"))
        docs[did] = _Doc(did, title, country, year, keys, did in seen)
    return list(docs.values())


def resolve(text: str, catalog: Sequence[_Doc]) -> tuple[list[_Doc], str]:
    """The documents a reference text names (several when it is ambiguous), and a note."""
    if not text.strip():
        return [], "the reference list has no such entry"
    toks = set(content_tokens(text))
    n = len(catalog) or 1
    df: dict[str, int] = {}
    for d in catalog:
        for t in d.keys:
            df[t] = df.get(t, 0) + 1
    years = {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", text)}
    wanted = {c for w, c in DEMONYM.items() if w in words(text)}
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
    num = re.match(r"(\d+(?:\.\d+)*|[ivx]+\b)", lab)
    if num:
        return bool(re.search(rf"(?:^|[\s›*]){re.escape(num.group(1))}\.?(?:\s|$)", sec))
    lt = set(content_tokens(lab))
    return bool(lt) and lt <= set(content_tokens(sec))


def _place_ok(ref: RefCheck, p: Passage, places: Sequence[tuple[str, str]] = ()) -> bool:
    """Right page, and one of the places the reference names (by number or by its title)."""
    if ref.page is not None and p.page is not None and ref.page not in {
            str(p.page), str(p.page_label)}:
        return False
    if not places:
        return ref.section is None or _section_ok(ref.section, p.section)
    return any((num and _section_ok(num, p.section)) or (title and (
        _path_ok(title, p.section) if not num else _section_ok(title, p.section)))
               for num, title in places)


def _path_ok(path: str, section: str) -> bool:
    """A section path as the product writes it ("II. Survey results › Question N8") names the
    passage's section when each of its parts' words is in the passage's section path."""
    from assistant.text import display

    have = set(content_tokens(display(section)))
    parts = [set(content_tokens(x)) for x in re.split(r"\s*\u203a\s*", path)]
    return any(parts) and all(x <= have for x in parts)


def check_reference(ref: RefCheck, claim: ClaimResult, catalog: Sequence[_Doc],
                    support_in: Callable[[tuple[str, ...]], list[Evidence]]) -> None:
    """Mark one reference right / wrong document / wrong page or section / cannot resolve."""
    own = _OWN_STYLE.match(ref.text.strip())
    if own:  # the document's name, its section path and page; the quote is not the reference
        docs, note = resolve(own.group("doc"), catalog)
        pm = _PAGE.search(own.group("page") or "")
        path = (own.group("path") or "").strip()
        places = [("", path)] if path else []
    else:
        docs, note = resolve(ref.text, catalog)
        pm = _PAGE.search(ref.text)
        places = [(m.group(1).strip(), (m.group(2) or "").strip())
                  for m in _SECTION.finditer(ref.text)]
    ref.page = pm.group(1) if pm else None
    ref.section = "; ".join(n or t for n, t in places) or None
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
    ok = [e for e in found if _place_ok(ref, e.passage, places)]
    if not ok:  # look further in the cited documents only when needed
        found += support_in(ref.docs)
        ok = [e for e in found if _place_ok(ref, e.passage, places)]
    if not found:
        ref.status, ref.right = REF_WRONG_DOC, best.reference()
        return
    if not ok:
        ref.status, ref.right = REF_WRONG_PLACE, found[0].reference()
        return
    ref.status, ref.right = REF_RIGHT, ok[0].reference()
    if ref.page is not None and ok[0].passage.page is None:
        ref.note = "page not checked: the indexed text has no page numbers"
