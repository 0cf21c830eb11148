"""What the index holds, for the page: documents for the filters and the corpus table."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.text import counted
from assistant.types import (
    COUNTRIES,
    Passage,
    short_title,
)

if TYPE_CHECKING:

    from assistant.store.index import Index


CORPUS_HEADERS = ["Document", "Title", "Country", "Type", "State"]


# --------------------------------------------------------------------------------------------
# Honest controls: what is indexed, what is configured, which filter excluded everything
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexedDoc:
    id: str
    label: str
    country: str


def indexed_docs(settings: Settings, index: Index) -> tuple[list[IndexedDoc], list[str]]:
    """Indexed documents (label, country) and, for each missing one, how to add it."""
    from assistant.store.ingest import corpus_status

    docs, missing = [], []
    for d in corpus_status(settings, index):
        info = d.entry.info
        if d.chunks:
            p = Passage(id="", doc_id=info.id, title=info.title, text="", country=info.country,
                        year=info.year)
            docs.append(IndexedDoc(info.id, short_title(p), info.country))
        elif d.entry.in_manifest:
            missing.append(f"{info.title} — {d.state}")
    # Two documents with the same short label get their ids to tell them apart.
    labels = [d.label for d in docs]
    docs = [IndexedDoc(d.id, f"{d.label} [{d.id}]" if labels.count(d.label) > 1 else d.label,
                       d.country) for d in docs]
    return docs, missing


def ready_line(indexed: int, not_indexed: int) -> str:
    """The page's status line once ready: the documents indexed and, briefly (it is two lines
    on a phone), how many listed in corpus.toml are not (a trial read "Ready: 2 documents
    indexed." and never learnt that the laws were missing; the Corpus tab says which and why)."""
    line = f"Ready: {counted(indexed, 'document')} indexed"
    if not not_indexed:
        return line + "."
    return f"{line}; {counted(not_indexed, 'listed document')} not indexed (see Corpus)."


def country_choices(docs: Sequence[IndexedDoc]) -> list[tuple[str, str]]:
    """Countries that at least one indexed document is from."""
    present = {d.country for d in docs}
    return [(COUNTRIES.get(c, c), c) for c in ("AM", "GE", "EU", "XX") if c in present]


def missing_html(missing: Sequence[str]) -> str:
    if not missing:
        return ""
    items = "".join(f"<li>{html.escape(m)}</li>" for m in missing)
    return (f'<div class="filters-missing">Not indexed, so not offered above:<ul>{items}</ul>'
            "Add one with <code>assistant corpus fetch</code> (where a network allows) or by "
            "saving its file under corpus/documents/ and running <code>assistant ingest</code>."
            "</div>")


def filter_problem(countries: Sequence[str], doc_ids: Sequence[str],
                   docs: Sequence[IndexedDoc]) -> str:
    """Which filter leaves no document to answer from ("" when some remain)."""
    by_id = {d.id: d for d in docs}
    unknown = [d for d in doc_ids if d not in by_id]
    if unknown:
        return (f"The documents filter names {', '.join(unknown)}, which is not indexed. "
                "Remove it from the filter.")
    names = ", ".join(COUNTRIES.get(c, c) for c in countries)
    if doc_ids and countries:
        if not [d for d in doc_ids if by_id[d].country in countries]:
            chosen = "; ".join(by_id[d].label for d in doc_ids)
            return (f"The filters exclude every document: the documents chosen ({chosen}) are "
                    f"not from the countries ticked ({names}). Untick a country or change the "
                    "documents.")
    elif countries and not [d for d in docs if d.country in countries]:
        return (f"The countries filter excludes every document: none from {names} is indexed. "
                "Untick it.")
    return ""


# --------------------------------------------------------------------------------------------
# Corpus table, feedback, uploads
# --------------------------------------------------------------------------------------------
def corpus_rows(settings: Settings, index: Index) -> list[list[str]]:
    """One row per known document: id, title, country, type and its state in the index."""
    from assistant.store.ingest import corpus_status

    rows = []
    for d in corpus_status(settings, index):
        info, state = d.entry.info, d.state
        if not d.entry.present and info.urls:
            state = f"{state}; or download it from {info.urls[0].url}"
        elif not d.entry.present and info.source:  # no address: its source says where to get
            state = f"missing. Source: {info.source}"  # it (a trial read two contradicting notes)
        rows.append([info.id, info.title, info.country, info.doc_type, state])
    return rows


_URL = re.compile(r"https?://[^\s<>\"']+")


def _linked(text: str) -> str:
    """Escaped text with its http(s) addresses as links."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        raw = m.group(0).rstrip(".,;")
        while raw.endswith(")") and raw.count(")") > raw.count("("):
            raw = raw[:-1]  # "(see https://x/y)" keeps its bracket outside the link
        out.append(html.escape(text[pos : m.start()]))
        url = html.escape(raw)
        out.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a>')
        pos = m.start() + len(raw)
    out.append(html.escape(text[pos:]))
    return "".join(out)


def corpus_html(rows: list[list[str]]) -> str:
    """The corpus rows as an HTML table (every cell escaped, addresses as links, countries by
    name: a trial read "XX" for an upload with no country)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in CORPUS_HEADERS)
    body = "".join(
        f'<tr class="{"ok" if r[4].startswith("indexed") else "missing"}">'
        + "".join(f'<td data-label="{html.escape(CORPUS_HEADERS[i])}">'
                  f"{_linked(str(COUNTRIES.get(c, c) if i == 2 else c))}</td>"
                  for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f'<table class="corpus"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
