"""The chat page (gradio): cited answers beside their sources, the corpus, a small evaluation.

``build_app(settings, assistant)`` builds the page; ``serve(settings)`` checks the binding,
indexes the bundled corpus on a first run, loads the model and index in the background and
starts the server. Document text reaches the page only through :mod:`assistant.render` (safe
Markdown) or ``html.escape``; references are written by :mod:`assistant.references`. gradio is
imported inside the functions.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, InputError
from assistant.prompts import OUTCOME_LABELS
from assistant.references import (
    answer_markdown,
    conversation_markdown,
    format_reference,
    short_title,
    write_docx,
)
from assistant.render import render_passage
from assistant.safety import redact
from assistant.storage import append_jsonl
from assistant.types import COUNTRIES, DOC_TYPES, Answer, Citation, Passage
from assistant.ui_check import build_check_tab

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer import Assistant
    from assistant.index import Index

log = logging.getLogger("assistant.ui")

EXAMPLES = [
    "How many scientific institutions took part in the Armenian survey?",
    "When was the Georgian questionnaire available?",
    "What challenges did institutions in both countries report?",
]
UPLOAD_TYPES = [".pdf", ".md", ".txt", ".html", ".htm"]
CORPUS_HEADERS = ["Document", "Title", "Country", "Type", "State"]
EVAL_HEADERS = ["id", "question", "answerable", "abstained", "correct", "hit_rank", "ms"]
EVAL_WIDTHS: list[str | int] = ["9%", "49%", "9%", "9%", "8%", "8%", "8%"]
NOT_AN_ANSWER = "Not an answer"
GENERIC_ERROR = "⚠ Something went wrong on the server (details in its log). Please try again."
LOADING = "⏳ Loading the embedding model and the index… Ask becomes available when ready."
PANEL_EARLIER = 4  # earlier answers whose sources the panel keeps (older: in their message)
_FEEDBACK_LOCK = threading.Lock()
_MARKERS = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")

CSS = """
.sources { font-size: 0.95rem; }
.src { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--block-background-fill);
  transition: box-shadow .3s, border-color .3s; }
.src.flash { border-color: #f59e0b; box-shadow: 0 0 0 3px #fcd34d; }
.src-head { font-weight: 600; margin-bottom: 2px; }
.src-n { color: var(--color-accent); margin-right: 4px; }
.src-ref, .src-meta { color: var(--body-text-color-subdued); font-size: 0.85rem;
  margin-bottom: 6px; overflow-wrap: anywhere; white-space: normal; }
.src-text { line-height: 1.45; overflow-wrap: anywhere; }
.src-text p { margin: 0 0 .5em 0; }
.src-text h1, .src-text h2, .src-text h3, .src-text h4, .src-text h5, .src-text h6 {
  font-size: 1em; margin: .3em 0; }
.src-text table { font-size: .85rem; border-collapse: collapse; }
.src-text td, .src-text th { border: 1px solid var(--border-color-primary); padding: 2px 4px; }
.src mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.src blockquote.unverified { border-left: 3px solid #b45309; margin: 0 0 6px 0;
  padding-left: 8px; }
.src .open-doc { margin-top: 4px; font-size: .85rem; }
.sources .not-answer { color: #b45309; margin-top: 0; }
.sources .empty { color: var(--body-text-color-subdued); }
.sources .warn, .warn { color: #b45309; }
.sources details.turn > summary { cursor: pointer; color: var(--body-text-color-subdued);
  margin: 6px 0; }
.msg-sources { display: none; margin-top: 8px; }
.msg-sources > summary { cursor: pointer; font-weight: 600; }
.msg-sources.force { display: block; }
.filters-missing { color: var(--body-text-color-subdued); font-size: .85rem; }
.filters-missing li { opacity: .75; }
#status { min-height: 1.5em; }
#doc-sidebar:not(.open) > .toggle-button { display: none; }
table.corpus { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
table.corpus th, table.corpus td { text-align: left; vertical-align: top; padding: 6px 8px;
  border: 0; border-bottom: 1px solid var(--border-color-primary); overflow-wrap: anywhere; }
table.corpus td:first-child { font-family: var(--font-mono); min-width: 9em; }
table.corpus td:nth-child(3), table.corpus td:nth-child(4) { white-space: nowrap;
  overflow-wrap: normal; }
table.corpus td:nth-child(2) { min-width: 14em; }
table.corpus tr.missing td:last-child { color: #b45309; }
table.corpus tr.ok td:last-child { color: #15803d; }
#doc-view { font-size: .95rem; }
#doc-view .doc-passage { background: #fef9c3; outline: 2px solid #f59e0b; border-radius: 4px; }
@media (max-width: 700px) {
  #sources-col { display: none !important; }
  .msg-sources { display: block; }
  #chatbot { height: auto !important; max-height: none !important; }
}
"""

# Clicks on [n] scroll to the quote and flash its card; fold optional parts on small screens.
HEAD_JS = """
<script>
(function () {
  function openDetails(el) {
    let d = el.closest('details');
    while (d) {
      d.open = true;
      d = d.parentElement && d.parentElement.closest('details');
    }
  }
  document.addEventListener('click', function (ev) {
    const a = ev.target.closest ? ev.target.closest('a[href^="#src-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const id = a.getAttribute('href').slice(1);
    let el = document.getElementById(id);
    const col = document.getElementById('sources-col');
    if (!el || (col && getComputedStyle(col).display === 'none')) {
      // Small screens, or an answer too old for the panel: the answer's own sources.
      el = document.querySelector('.m' + id);
      const fold = el && el.closest('details.msg-sources');
      if (fold) fold.classList.add('force');
    }
    if (!el) return;
    openDetails(el);
    const card = el.closest('.src') || el;
    const n = id.split('-').pop();
    const mark = card.querySelector('mark.q' + n) || card.querySelector('mark') || card;
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    setTimeout(function () { card.classList.remove('flash'); }, 2000);
    mark.scrollIntoView({block: 'center', behavior: 'instant'});
  }, true);
  document.addEventListener('click', function (ev) {
    const b = ev.target.closest ? ev.target.closest('button.open-doc') : null;
    if (!b) return;
    const box = document.querySelector('#open-doc-id textarea, #open-doc-id input');
    if (!box) return;
    box.value = b.getAttribute('data-passage');
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { document.querySelector('#open-doc-btn').click(); }, 50);
  }, true);
  // On small screens, fold examples and feedback once the page has rendered them.
  let tries = 0;
  const fold = setInterval(function () {
    tries += 1;
    if (window.innerWidth >= 700 || tries > 40) { clearInterval(fold); return; }
    const open = document.querySelectorAll('.fold-mobile button.label-wrap.open');
    if (open.length) { open.forEach(function (b) { b.click(); }); clearInterval(fold); }
  }, 250);
})();
</script>
"""

DOC_VIEW_JS = """
() => { setTimeout(() => {
  const el = document.querySelector('#doc-view .doc-passage');
  if (el) el.scrollIntoView({block: 'start', behavior: 'instant'});
}, 300); }
"""

COPY_JS = """
async (text) => {
  try { await navigator.clipboard.writeText(text); }
  catch (e) { console.warn('clipboard unavailable: select the text below and copy it'); }
  return text;
}
"""


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
    body, found = render_passage(p.text, [(c.n, c.quote) for c in citations])
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
    opener = ("" if in_message else
              f'<button class="open-doc" data-passage="{html.escape(p.id)}" type="button" '
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
        return (f'<h4 class="not-answer outcome-evidence">'
                f"{html.escape(OUTCOME_LABELS['evidence'])}: the closest passage first, its "
                f"best sentences highlighted</h4>{cards}")
    if answer.abstained:
        cards = "".join(_card_html(sp.passage, [], turn, in_message) for sp in answer.passages)
        return (f'<h4 class="not-answer outcome-none">{NOT_AN_ANSWER}: the closest passages</h4>'
                f"{cards or '<p class=empty>No passage came close.</p>'}")
    if not answer.citations:  # an llm answer still streaming
        return '<p class="empty">Checking the citations…</p>'
    parts = [_card_html(card.passage, card.citations, turn, in_message)
             for card in group_citations(answer.citations)]
    unsupported = [s.sentence for s in answer.support if not s.supported]
    if unsupported:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in unsupported)
        parts.append(f'<div class="warn">Not supported by the passages:<ul>{items}</ul></div>')
    return "".join(parts)


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


def linked_text(text: str, turn: int) -> str:
    """Answer text as chat Markdown: literal text, each [n] a link to its source card."""
    out: list[str] = []
    pos = 0
    for m in _MARKERS.finditer(text):
        out.append(_md_escape(text[pos : m.start()]))
        nums = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        out.append(" ".join(f"[\\[{n}\\]](#{anchor(turn, n)})" for n in nums))
        pos = m.end()
    out.append(_md_escape(text[pos:]))
    return "".join(out)


def chat_text(answer: Answer, turn: int = 1) -> str:
    """The answer as a chat message: linked [n], and its own sources for small screens."""
    text = f"**{OUTCOME_LABELS[answer.outcome]}**\n\n" + linked_text(answer.text, turn)
    if answer.outcome == "evidence":
        text += ("\n\n*The closest passage is shown with the sources, its best sentences "
                 "highlighted.*")
    elif answer.abstained:
        text += f"\n\n*The closest passages are shown with the sources, marked “{NOT_AN_ANSWER}”.*"
    count = len(group_citations(answer.citations)) if not answer.abstained else len(
        answer.passages)
    if count:
        label = "Sources" if not answer.abstained else "Closest passages"
        cards = re.sub(r"\n\s*\n", "\n", answer_cards(answer, turn, in_message=True))
        text += (f'\n\n<details class="msg-sources"><summary>{label} ({count})</summary>'
                 f"{cards}</details>")
    return text


# --------------------------------------------------------------------------------------------
# Honest controls: what is indexed, what is configured, which filter excluded everything
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexedDoc:
    id: str
    label: str
    country: str


def llm_unavailable(settings: Settings) -> str:
    """Why the modes that need a language model cannot run here ("" when they can)."""
    from assistant.answer.modes import llm_configured

    return llm_configured(settings) or ""


def indexed_docs(settings: Settings, index: Index) -> tuple[list[IndexedDoc], list[str]]:
    """Indexed documents (label, country) and, for each missing one, how to add it."""
    from assistant.ingest import corpus_status

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
    from assistant.ingest import corpus_status

    rows = []
    for d in corpus_status(settings, index):
        info, state = d.entry.info, d.state
        if not d.entry.present:
            where = info.urls[0].url if info.urls else info.source or "its source"
            state = f"{state}; or download it from {where}"
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
    """The corpus rows as an HTML table (every cell escaped, addresses as links)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in CORPUS_HEADERS)
    body = "".join(
        f'<tr class="{"ok" if r[4].startswith("indexed") else "missing"}">'
        + "".join(f"<td>{_linked(str(c))}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f'<table class="corpus"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def record_feedback(settings: Settings, rating: str, comment: str, answer: Answer | None) -> str:
    """Append one feedback line to data/feedback.jsonl; the confirmation to show."""
    if answer is None:
        return "Ask a question first; feedback is about the last answer."
    too_long = feedback_too_long(settings, comment)
    if too_long:
        return too_long
    line = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": (comment or "").strip(),
        "audit": answer.audit,
    }
    with _FEEDBACK_LOCK:
        append_jsonl(settings.data_path / "feedback.jsonl", line)
    thumb = "👍" if rating == "up" else "👎"
    return f"{thumb} Thank you: your feedback on the last answer was saved."


def feedback_too_long(settings: Settings, comment: str | None) -> str:
    """The message for a comment over ``max_feedback_chars``, or "" when it fits."""
    n = len((comment or "").strip())
    if n <= settings.max_feedback_chars:
        return ""
    return (f"⚠ The comment is {n:,} characters; at most {settings.max_feedback_chars:,} are "
            "kept. Shorten it and press 👍 or 👎 again.")


def discard_upload(path: Path) -> None:
    """Delete the page's temporary copy of an upload (the library keeps its own copy)."""
    try:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError as exc:
        log.warning("could not delete the temporary upload %s (%s)", path, exc)


def upload_tmp_dir(settings: Settings) -> Path:
    """Gradio's upload folder for this page (emptied when the page starts)."""
    return settings.data_path / "page-uploads"


def empty_upload_tmp(settings: Settings) -> int:
    """Delete what earlier runs of the page left in its upload folder; how many entries went."""
    import shutil

    folder = upload_tmp_dir(settings)
    n = 0
    if folder.is_dir():
        for child in folder.iterdir():
            n += 1
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    return n


def safe_error(settings: Settings, exc: BaseException) -> str:
    """An error's text for the page, without credentials or keys."""
    return redact(str(exc), settings)


def page_uploader(request: Any) -> str:
    """Who uploaded through the page: the logged-in user, or "chat page"."""
    name = getattr(request, "username", None) if request is not None else None
    return f"{name} (chat page)" if name else "chat page"


def check_upload(path: Path, settings: Settings) -> None:
    """Refuse a file of the wrong type or over ``max_upload_mb`` before anything is ingested."""
    if path.suffix.lower() not in UPLOAD_TYPES:
        raise InputError(f"{path.name}: unsupported type; upload one of {', '.join(UPLOAD_TYPES)}")
    mb = path.stat().st_size / 1_000_000
    if mb > settings.max_upload_mb:
        raise InputError(
            f"{path.name} is {mb:.1f} MB; the upload limit is {settings.max_upload_mb:g} MB "
            "(ASSISTANT_MAX_UPLOAD_MB). Split the file or raise the limit."
        )


def first_heading(path: Path, settings: Settings) -> str:
    """A title for an uploaded file: its first heading (or first line); DocumentError if bad."""
    from assistant.corpus import clean_title, find_headings, info_for_upload, load_document

    info = info_for_upload(path)
    doc = load_document(path, info, settings)
    heads = find_headings(doc.text, "markdown")
    if heads:
        return heads[0].title
    for line in doc.text.splitlines():
        t = clean_title(line, 120)
        if len(t) >= 3:
            return t
    return info.title


def upload_sidecar(settings: Settings, name: str) -> Path:
    """Where the title, country and type given for an uploaded file are kept."""
    return settings.uploads_path / f".{name}.json"


def uploaded_docs(settings: Settings) -> list[tuple[str, str]]:
    """(label, doc id) of the documents added through uploads (the ones that can be removed)."""
    from assistant.corpus import corpus_entries

    return [(f"{e.info.title} ({e.path.name})", e.info.id) for e in corpus_entries(settings)
            if not e.in_manifest]


def remove_upload(settings: Settings, index: Index, doc_id: str) -> str:
    """Delete an uploaded document: its chunks, its file and its details. The message to show."""
    from assistant.corpus import corpus_entries

    entry = next((e for e in corpus_entries(settings)
                  if e.info.id == doc_id and not e.in_manifest), None)
    if entry is None:
        raise InputError(f"{doc_id} is not an uploaded document; only uploads can be removed "
                         "here (manifest documents are managed in corpus/corpus.toml).")
    ids = sorted(index.doc_states().get(doc_id, {}).get("ids", set()))
    if ids:
        index.delete(ids)
    entry.path.unlink(missing_ok=True)
    upload_sidecar(settings, entry.path.name).unlink(missing_ok=True)
    return f"Removed {entry.info.title} ({entry.path.name}) and its {len(ids)} chunks."


# --------------------------------------------------------------------------------------------
# Evaluation: a stratified sample
# --------------------------------------------------------------------------------------------
def stratified_sample(items: Sequence[Any], n: int) -> list[Any]:
    """``n`` items spread evenly over the set, answerable and unanswerable in proportion.

    Each group keeps at least one item when ``n`` allows, so a sample always tests
    abstention; the items keep the set's order. Deterministic: the same n, the same items.
    """
    n = max(1, min(n, len(items)))
    groups = [[it for it in items if it.answerable], [it for it in items if not it.answerable]]
    groups = [g for g in groups if g]
    if len(groups) == 1 or n < 2:
        quotas = [n] if len(groups) == 1 else [n, 0]
    else:
        share = round(n * len(groups[1]) / len(items))
        unans = min(len(groups[1]), max(1, share))
        quotas = [n - unans, unans]
    chosen: list[Any] = []
    for g, q in zip(groups, quotas, strict=False):
        step = len(g) / q if q else 0
        chosen += [g[int(i * step)] for i in range(q)]
    order = {id(it): i for i, it in enumerate(items)}
    return sorted(chosen, key=lambda it: order[id(it)])


def known_set_path(settings: Settings) -> Path:
    p = settings.corpus_path / "eval" / "known_qa.jsonl"
    return p if p.is_file() else settings.home / "corpus" / "eval" / "known_qa.jsonl"


def count_items(path: Path) -> int:
    """How many non-empty lines a JSONL question set has (0 if unreadable)."""
    try:
        return sum(1 for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip())
    except (OSError, UnicodeDecodeError):
        return 0


# --------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """127.x, ::1 and localhost are loopback; anything else is reachable from outside."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(settings: Settings) -> tuple[str, str] | None:
    """The auth pair gradio needs, or None on loopback; ConfigError when credentials lack."""
    if is_loopback(settings.host):
        return None
    password = settings.password.get_secret_value() if settings.password else ""
    if not settings.username or not password:
        raise ConfigError(
            f"Refusing to serve on {settings.host} without a login: anyone who can reach this "
            "machine could use the page. Set ASSISTANT_USERNAME and ASSISTANT_PASSWORD, or bind "
            "to 127.0.0.1 (the default)."
        )
    return settings.username, password


# --------------------------------------------------------------------------------------------
# Document view ("Open document")
# --------------------------------------------------------------------------------------------
def document_view(index: Index, passage_id: str) -> str:
    """The whole document a passage is from, rendered, with that passage marked.

    A PDF shows the page the passage is on (and the pages around it are one scroll away).
    """
    got = index.collection.get(ids=[passage_id], include=["metadatas"])
    if not got["ids"]:
        return '<p class="warn">That passage is no longer indexed.</p>'
    doc_id = str((got["metadatas"][0] or {}).get("doc_id", ""))
    passages = index.passages(where={"doc_id": doc_id})
    if not passages:
        return '<p class="warn">That document is no longer indexed.</p>'
    target = next(p for p in passages if p.id == passage_id)
    first = passages[0]
    parts = [f"<h3>{html.escape(first.title)}</h3>"]
    if target.page is not None:
        parts.append(f'<p class="src-ref">{html.escape(format_reference(target))}</p>')
    pos = 0
    page: int | None = None
    for p in passages:
        text = p.text[max(0, pos - p.start):] if p.start < pos else p.text
        if p.end <= pos:
            continue
        if p.page is not None and p.page != page:
            page = p.page
            parts.append(f"<hr><p class='src-meta'>Page {html.escape(p.page_label or str(page))}"
                         "</p>")
        rendered = render_passage(text)[0]
        cls = ' class="doc-passage"' if p.id == passage_id else ""
        parts.append(f"<div{cls}>{rendered}</div>")
        pos = p.end
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------
def _theme() -> Any:
    import gradio as gr

    # System fonts only: the page must not fetch anything from outside.
    return gr.themes.Default(
        primary_hue="blue",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def _new_state() -> dict[str, Any]:
    return {"messages": [], "pairs": [], "last": None, "answers": []}


def export_files(answers: Sequence[Answer], folder: Path) -> tuple[Path, Path, Path, Path]:
    """The last answer and the whole conversation as Markdown and Word files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    turn = len(answers)
    md = folder / f"answer-{turn}.md"
    md.write_text(answer_markdown(answers[-1]), encoding="utf-8")
    docx = write_docx(answers[-1:], folder / f"answer-{turn}.docx")
    conv_md = folder / f"conversation-{turn}.md"
    conv_md.write_text(conversation_markdown(answers), encoding="utf-8")
    conv_docx = write_docx(answers, folder / f"conversation-{turn}.docx", title="Conversation")
    return md, docx, conv_md, conv_docx


def build_app(settings: Settings, assistant: Assistant | None = None,
              ready: threading.Event | None = None) -> gr.Blocks:
    """The chat page: chat with sources, filters, copy and downloads, corpus and evaluation.

    ``ready`` is set once the model and index are loaded (see :func:`serve`); until then the
    page says it is loading. Without it the page is ready at once.
    """
    import gradio as gr

    from assistant.answer import Assistant as _Assistant

    bot = assistant or _Assistant(settings)
    index = bot.index
    if ready is None:
        ready = threading.Event()
        ready.set()
    llm_reason = llm_unavailable(settings)
    exports_dir = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
    docs_known, missing_known = indexed_docs(settings, index)
    catalog: dict[str, Any] = {"docs": docs_known, "missing": missing_known}

    def refresh_catalog() -> None:
        catalog["docs"], catalog["missing"] = indexed_docs(settings, index)

    def ask(
        question: str, countries: list[str] | None, docs: list[str] | None, mode: str,
        state: dict[str, Any] | None,
    ) -> Iterator[tuple[Any, ...]]:
        state = state or _new_state()
        messages = list(state["messages"])
        pairs = list(state["pairs"])
        answers = list(state.get("answers", []))
        shown_q = html.escape(question or "", quote=False) or "*(empty question)*"
        filters = {"country": list(countries or []), "doc_id": list(docs or [])}
        panel = sources_html(state["last"], answers[:-1])

        def refuse(text: str) -> tuple[Any, ...]:
            msgs = [*messages, {"role": "user", "content": shown_q},
                    {"role": "assistant", "content": f"⚠ {html.escape(text, quote=False)}"}]
            return msgs, panel, {**state, "messages": msgs}, question

        if mode != "extractive" and llm_reason:
            yield refuse(f"The {mode} mode is not available: {llm_reason}.")
            return
        problem = filter_problem(filters["country"], filters["doc_id"], catalog["docs"])
        if problem and (question or "").strip():
            yield refuse(problem)
            return
        ready.wait(timeout=600)
        turn = len(answers) + 1
        answer: Answer | None = None
        msgs = messages

        def shown(a: Answer) -> list[dict[str, str]]:
            return [*messages, {"role": "user", "content": shown_q},
                    {"role": "assistant", "content": chat_text(a, turn)}]

        try:
            # A partial answer is shown when the next one arrives: the final one is sent once.
            for partial in bot.ask_stream(question, history=pairs, filters=filters, mode=mode):
                if answer is not None:
                    msgs = shown(answer)
                    yield msgs, sources_html(answer, answers), {**state, "messages": msgs}, ""
                answer = partial
        except AssistantError as exc:
            text = safe_error(settings, exc)
            gr.Warning(text)
            yield refuse(text)
            return
        except Exception:
            log.exception("answering %r failed", question)
            msgs = [*messages, {"role": "user", "content": shown_q},
                    {"role": "assistant", "content": GENERIC_ERROR}]
            yield msgs, panel, {**state, "messages": msgs}, question
            return
        if answer is not None:
            msgs = shown(answer)
            pairs.append((answer.question, answer.text))
            final = {"messages": msgs, "pairs": pairs, "last": answer,
                     "answers": [*answers, answer]}
            yield msgs, sources_html(answer, answers), final, ""

    def exports(state: dict[str, Any] | None) -> tuple[Any, ...]:
        """Copy box and downloads, always from the answer now on screen."""
        answers = (state or {}).get("answers") or []
        if not answers:
            hidden = gr.update(value=None, visible=False)
            return (gr.update(value="", label="Answer with references"),
                    hidden, hidden, hidden, hidden)
        last = answers[-1]
        folder = exports_dir / f"{id(state):x}-{len(answers)}"
        md, docx, conv_md, conv_docx = export_files(answers, folder)
        label = f"Answer {len(answers)} with references (“{last.question[:80]}”)"
        return (gr.update(value=answer_markdown(last), label=label),
                gr.update(value=str(md), visible=True), gr.update(value=str(docx), visible=True),
                gr.update(value=str(conv_md), visible=True),
                gr.update(value=str(conv_docx), visible=True))

    def clear() -> tuple[Any, ...]:
        return [], sources_html(None), _new_state(), "", ""

    def copy_refs(state: dict[str, Any] | None) -> str:
        last = (state or {}).get("last")
        if last is None:
            return "Ask a question first: this box then holds the answer with its references."
        return answer_markdown(last)

    def feedback(rating: str, comment: str, state: dict[str, Any] | None) -> tuple[str, str]:
        try:
            msg = record_feedback(settings, rating, comment, (state or {}).get("last"))
        except AssistantError as exc:  # a full disk, in one line
            return f"⚠ The feedback could not be saved: {exc}", comment
        except OSError as exc:
            log.exception("writing feedback failed")
            return f"⚠ The feedback could not be saved ({exc}).", comment
        return msg, comment  # kept: a 👎 right after a 👍 keeps its comment

    def wait_ready() -> tuple[Any, ...]:
        ready.wait(timeout=600)
        if not ready.is_set():
            return "⚠ The model is still loading; reload the page in a minute.", gr.update()
        docs = catalog["docs"]
        return (f"Ready: {len(docs)} document{'s' if len(docs) != 1 else ''} indexed.",
                gr.update(interactive=True))

    # -- corpus tab handlers (kept apart to ease merging with upload provenance) ------------
    def controls() -> tuple[Any, ...]:
        refresh_catalog()
        docs = catalog["docs"]
        return (gr.update(choices=country_choices(docs)),
                gr.update(choices=[(d.label, d.id) for d in docs]),
                missing_html(catalog["missing"]),
                gr.update(choices=uploaded_docs(settings), value=None))

    def prefill(file: str | None) -> tuple[str, str]:
        if not file:
            return "", ""
        path = Path(file)
        try:
            check_upload(path, settings)
            return first_heading(path, settings), f"Check the title, country and type of "\
                f"**{path.name}**, then press “Add to the library”."
        except AssistantError as exc:
            return "", f"⚠ {path.name} was not added: {getattr(exc, 'reason', exc)}"

    def upload(
        file: str | None, title: str | None = None, country: str | None = None,
        doc_type: str | None = None, request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        from assistant.ingest import ingest

        def table() -> tuple[Any, Any]:
            rows = corpus_html(corpus_rows(settings, index))
            refresh_catalog()
            return rows, gr.update(choices=[(d.label, d.id) for d in catalog["docs"]])

        if not file:
            return "Choose a file to add.", *table()
        path = Path(file)
        sidecar = upload_sidecar(settings, path.name)
        try:
            check_upload(path, settings)
            meta = {k: v for k, v in {"title": (title or "").strip(), "country": country,
                                       "doc_type": doc_type}.items() if v}
            if meta:
                sidecar.parent.mkdir(parents=True, exist_ok=True)
                if not (settings.uploads_path / path.name).exists():
                    sidecar.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

            def step(done: int, total: int, label: str) -> None:
                progress((done, total), desc=f"Embedding {label}", unit="chunks")

            progress(0, desc=f"Reading {path.name}")
            report = ingest(settings, paths=[path], index=index, progress=step,
                            uploader=page_uploader(request))
            bot.retriever.refresh()
        except AssistantError as exc:
            return f"⚠ {safe_error(settings, exc)}", *table()
        except Exception:
            log.exception("ingesting %s failed", path)
            return GENERIC_ERROR, *table()
        finally:
            discard_upload(path)
        if report.failed and not (settings.uploads_path / path.name).exists():
            sidecar.unlink(missing_ok=True)
        lines = [f"**{path.name}**: {report.summary()}", *(f"- {n}" for n in report.notes)]
        for failed, reason in report.failed.items():
            lines.append(f"- ⚠ {Path(failed).name} was not added: {reason}")
        return "\n".join(lines), *table()

    # gradio finds the request by its annotation; ours is a string (postponed annotations).
    upload.__annotations__["request"] = gr.Request | None

    def remove(doc_id: str | None) -> tuple[str, str]:
        if not doc_id:
            return "Choose an uploaded document to remove.", corpus_html(
                corpus_rows(settings, index))
        try:
            msg = remove_upload(settings, index, doc_id)
            bot.retriever.refresh()
        except AssistantError as exc:
            msg = f"⚠ {exc}"
        return msg, corpus_html(corpus_rows(settings, index))

    def open_document(passage_id: str) -> tuple[Any, str]:
        try:
            view = document_view(index, (passage_id or "").strip())
        except Exception:
            log.exception("opening the document of %r failed", passage_id)
            view = GENERIC_ERROR
        return gr.update(open=True), view

    def run_eval(
        file: str | None, limit: float, mode: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, list[list[Any]]]:
        def bar(it: Iterable[Any]) -> Iterable[Any]:
            return progress.tqdm(it, desc="Evaluating", unit="questions")

        if mode != "extractive" and llm_reason:
            return f"⚠ The {mode} mode is not available: {llm_reason}.", []
        try:
            summary, rows = evaluation(settings, bot, Path(file) if file else None, int(limit),
                                       mode, progress=bar)
        except AssistantError as exc:
            return f"⚠ {exc}", []
        except (ImportError, AttributeError, TypeError) as exc:
            log.exception("evaluation is not available")
            return f"⚠ The evaluation module is not available in this build ({exc}).", []
        except Exception:
            log.exception("evaluation failed")
            return GENERIC_ERROR, []
        return summary, rows

    def eval_size(file: str | None) -> Any:
        n = count_items(Path(file)) if file else count_items(known_set_path(settings))
        n = max(n, 1)
        return gr.update(maximum=n, value=min(20, n), label=f"Questions to run (of {n})")

    known_n = max(count_items(known_set_path(settings)), 1)
    from assistant.answer.modes import MODES, unavailable_reason

    mode_choices = [(f"{m.name}: {m.label}", m.name) for m in MODES.values()
                    if not unavailable_reason(m.name, settings)]
    mode_info = ("Which way answers are written." if not llm_reason else
                 f"Only extractive is available: verify and llm are off ({llm_reason}).")

    with gr.Blocks(title="Micro-GEAR policy assistant", analytics_enabled=False) as app:
        state = gr.State(_new_state())
        gr.Markdown(
            "## Micro-GEAR policy assistant\n"
            "Answers on micro-credential policy in Armenia and Georgia, quoted from the documents "
            "with numbered references: click a [n] to see its passage. When the documents do not "
            "answer, it says so."
        )
        status = gr.Markdown(LOADING if not ready.is_set() else "Ready.", elem_id="status")
        with gr.Sidebar(label="Document", open=False, position="right", width="46%",
                        elem_id="doc-sidebar") as doc_sidebar:
            doc_view = gr.HTML("", elem_id="doc-view", js_on_load=None)
            open_doc_id = gr.Textbox(visible="hidden", elem_id="open-doc-id",
                                     label="Passage to open")
            open_doc_btn = gr.Button("Open", visible="hidden", elem_id="open-doc-btn")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="chat-row"):
                with gr.Column(scale=3, min_width=320, elem_id="chat-col"):
                    chatbot = gr.Chatbot(
                        label="Conversation", show_label=False, height=520,
                        feedback_options=None, elem_id="chatbot", buttons=[],
                        placeholder="Ask a question, or pick an example below.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            label="Question", show_label=False, scale=5, lines=1,
                            max_lines=4, elem_id="question", submit_btn=False,
                            placeholder="Ask about micro-credential policy…",
                        )
                        ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                            interactive=ready.is_set(), elem_id="ask")
                    with gr.Accordion("Examples", open=True, elem_classes=["fold-mobile"]):
                        gr.Examples(EXAMPLES, inputs=[question], label="Examples")
                    with gr.Accordion("Filters and answer mode", open=False,
                                      elem_classes=["fold-mobile"]):
                        countries = gr.CheckboxGroup(
                            country_choices(docs_known), elem_id="countries",
                            label="Countries (none ticked = all)",
                            info="Only countries with an indexed document are offered.",
                        )
                        docs = gr.Dropdown(
                            choices=[(d.label, d.id) for d in docs_known], multiselect=True,
                            label="Documents (none = all)", elem_id="docs",
                        )
                        missing_box = gr.HTML(missing_html(missing_known),
                                              elem_id="filters-missing", js_on_load=None)
                        mode = gr.Radio(mode_choices, value="extractive",
                                        label="Answer mode", info=mode_info,
                                        interactive=not llm_reason, elem_id="mode")
                    with gr.Row():
                        copy_btn = gr.Button("Copy answer with references", size="sm",
                                             elem_id="copy")
                        clear_btn = gr.Button("New conversation", size="sm")
                    with gr.Row():
                        dl_md = gr.DownloadButton("Answer (.md)", size="sm", visible=False,
                                                  elem_id="dl-md")
                        dl_docx = gr.DownloadButton("Answer (.docx)", size="sm",
                                                    visible=False, elem_id="dl-docx")
                        conv_md = gr.DownloadButton("Conversation (.md)", size="sm",
                                                    visible=False, elem_id="conv-md")
                        conv_docx = gr.DownloadButton("Conversation (.docx)", size="sm",
                                                      visible=False, elem_id="conv-docx")
                    refs = gr.Textbox(label="Answer with references", lines=4,
                                      buttons=["copy"], interactive=False, elem_id="refs",
                                      placeholder="The answer on screen, with its "
                                                  "references, shows here after a question.")
                    with gr.Accordion("Feedback on the last answer", open=True,
                                      elem_classes=["fold-mobile"]):
                        with gr.Group(), gr.Row(equal_height=True):
                            up_btn = gr.Button("👍", size="sm", scale=0, min_width=56,
                                               elem_id="thumbs-up")
                            down_btn = gr.Button("👎", size="sm", scale=0, min_width=56,
                                                 elem_id="thumbs-down")
                            comment = gr.Textbox(
                                label="Comment", show_label=False, lines=1, scale=5,
                                container=False, elem_id="comment",
                                placeholder="Optional comment on the last answer, then 👍 "
                                            "or 👎",
                            )
                        feedback_msg = gr.Markdown(elem_id="feedback-msg")
                with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html(None), elem_id="sources",
                                      js_on_load=None)
            with gr.Tab("Corpus", id="corpus"):
                gr.Markdown("Every document the assistant knows of, and whether it is indexed. "
                            f"Add a file ({', '.join(UPLOAD_TYPES)}, at most "
                            f"{settings.max_upload_mb:g} MB): it is checked, copied to the "
                            "library and indexed.")
                corpus_table = gr.HTML(corpus_html(corpus_rows(settings, index)),
                                       elem_id="corpus-table", js_on_load=None)
                with gr.Row():
                    upload_file = gr.File(label="Add a document", file_types=UPLOAD_TYPES,
                                          file_count="single", elem_id="upload", scale=2)
                    with gr.Column(scale=3):
                        up_title = gr.Textbox(label="Title (from its first heading)",
                                              elem_id="upload-title")
                        with gr.Row():
                            up_country = gr.Dropdown(
                                [(v, k) for k, v in COUNTRIES.items()], value="XX",
                                label="Country", elem_id="upload-country")
                            up_type = gr.Dropdown(list(DOC_TYPES), value="other",
                                                  label="Document type", elem_id="upload-type")
                        up_btn_add = gr.Button("Add to the library", variant="primary",
                                               elem_id="upload-add")
                upload_msg = gr.Markdown(elem_id="upload-msg")
                with gr.Row():
                    remove_choice = gr.Dropdown(uploaded_docs(settings),
                                                label="Uploaded document to remove",
                                                elem_id="remove-choice", scale=3)
                    remove_btn = gr.Button("Remove it and its chunks", variant="stop", scale=1,
                                           elem_id="remove")
                remove_msg = gr.Markdown(elem_id="remove-msg")
            with gr.Tab("Evaluation", id="evaluation"):
                gr.Markdown("Runs a sample of the known question set (or an uploaded JSONL) "
                            "through the assistant, in the answer mode chosen on the Chat tab. "
                            "The sample is spread over the set, answerable and unanswerable "
                            "questions in proportion, so abstention is always tested.")
                with gr.Row():
                    eval_file = gr.File(label="Question set (JSONL, optional)",
                                        file_types=[".jsonl"], file_count="single")
                    eval_limit = gr.Slider(1, known_n, value=min(20, known_n), step=1,
                                           label=f"Questions to run (of {known_n})",
                                           elem_id="eval-limit")
                eval_btn = gr.Button("Run evaluation", variant="primary")
                eval_summary = gr.Markdown(elem_id="eval-summary")
                eval_table = gr.Dataframe(headers=EVAL_HEADERS, interactive=False, wrap=True,
                                          column_widths=EVAL_WIDTHS, elem_id="eval-table",
                                          label="Results per question")
            # -- EXTRA TABS: further tabs are built here, inside this `with gr.Tabs():` block.
            build_check_tab(bot, settings)

        app.load(wait_ready, outputs=[status, ask_btn], api_visibility="private",
                 concurrency_limit=None)
        gr.on(
            [ask_btn.click, question.submit], ask,
            inputs=[question, countries, docs, mode, state],
            outputs=[chatbot, sources, state, question],
            api_name="ask", concurrency_limit=4, concurrency_id="ask",
        ).then(exports, inputs=[state], outputs=[refs, dl_md, dl_docx, conv_md, conv_docx],
               api_visibility="private", concurrency_limit=None)
        clear_btn.click(clear, outputs=[chatbot, sources, state, refs, feedback_msg],
                        api_name="clear").then(
            exports, inputs=[state], outputs=[refs, dl_md, dl_docx, conv_md, conv_docx],
            api_visibility="private")
        copy_btn.click(copy_refs, inputs=[state], outputs=[refs], api_name="references").then(
            None, inputs=[refs], outputs=[refs], js=COPY_JS)
        up_btn.click(lambda c, s: feedback("up", c, s), inputs=[comment, state],
                     outputs=[feedback_msg, comment], api_name="feedback_up")
        down_btn.click(lambda c, s: feedback("down", c, s), inputs=[comment, state],
                       outputs=[feedback_msg, comment], api_name="feedback_down")
        upload_file.upload(prefill, inputs=[upload_file], outputs=[up_title, upload_msg],
                           api_name="upload_title")
        up_btn_add.click(upload, inputs=[upload_file, up_title, up_country, up_type],
                         outputs=[upload_msg, corpus_table, docs], api_name="upload",
                         concurrency_limit=1, concurrency_id="ingest").then(
            controls, outputs=[countries, docs, missing_box, remove_choice],
            api_visibility="private")
        remove_btn.click(remove, inputs=[remove_choice], outputs=[remove_msg, corpus_table],
                         api_name="remove_upload", concurrency_limit=1,
                         concurrency_id="ingest").then(
            controls, outputs=[countries, docs, missing_box, remove_choice],
            api_visibility="private")
        open_doc_btn.click(open_document, inputs=[open_doc_id], outputs=[doc_sidebar, doc_view],
                           api_name="open_document").then(None, js=DOC_VIEW_JS)
        eval_file.change(eval_size, inputs=[eval_file], outputs=[eval_limit],
                         api_visibility="private")
        eval_btn.click(run_eval, inputs=[eval_file, eval_limit, mode],
                       outputs=[eval_summary, eval_table], api_name="evaluate",
                       concurrency_limit=1, concurrency_id="ingest")
    return app


# --------------------------------------------------------------------------------------------
# Evaluation tab
# --------------------------------------------------------------------------------------------
def evaluation(
    settings: Settings, bot: Assistant, path: Path | None, limit: int, mode: str | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> tuple[str, list[list[Any]]]:
    """Run a stratified sample of the known set (or ``path``); the summary and per-item rows."""
    from assistant import evaluate as ev

    qa_path = path or known_set_path(settings)
    items = stratified_sample(ev.load_qa(qa_path, settings), max(1, limit))
    mode = mode or settings.mode
    results = ev.run_items(items, bot, mode, settings.k, progress=progress)
    meta = {"qa_file": str(qa_path), "n_items": len(items), "mode": mode, "k": settings.k}
    report = ev.build_report(results, meta)
    return format_report(report, ev.format_summary(report))


def format_report(report: dict[str, Any], summary: str) -> tuple[str, list[list[Any]]]:
    """The plain-text summary as a code block, and one table row per item."""
    rows = [[_fmt(it.get(h, "")) for h in EVAL_HEADERS]
            for it in report.get("items", []) if isinstance(it, dict)]
    return f"```\n{summary}\n```", rows


def _fmt(v: Any) -> Any:
    return round(v, 3) if isinstance(v, float) else v


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------
def ensure_index(settings: Settings, index: Index) -> None:
    """On a first run (empty index), index the bundled corpus, printing progress."""
    if index.count() > 0:
        return
    from assistant.ingest import ingest

    print("The index is empty: indexing the bundled corpus (once)…", file=sys.stderr, flush=True)
    last = [-1]

    def step(done: int, total: int, label: str) -> None:
        pct = 100 * done // max(total, 1)
        if pct >= last[0] + 10 or done >= total:
            last[0] = pct
            print(f"  {done}/{total} chunks ({pct}%) {label}", file=sys.stderr, flush=True)

    report = ingest(settings, index=index, progress=step)
    for path, reason in report.failed.items():
        print(f"  skipped {path}: {reason}", file=sys.stderr)
    print(f"Indexed: {report.summary()}", file=sys.stderr, flush=True)


def warm_up(bot: Assistant, ready: threading.Event) -> None:
    """Load the embedding model, the index and the lexicon with one question; then ``ready``."""
    try:
        bot.ask(EXAMPLES[0])
    except Exception:
        log.exception("warming up failed; the first question will load the model")
    finally:
        ready.set()


class LoginLimiter:
    """ASGI middleware: at most ``per_minute`` login attempts per client address a minute.

    Gradio's login form posts to ``…/login``; further attempts within the minute get
    HTTP 429 with a one-line reason, whatever the password.
    """

    def __init__(self, app: Any, per_minute: int = 10) -> None:
        self.app = app
        self.per_minute = per_minute
        self.attempts: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str, now: float) -> bool:
        with self.lock:
            recent = [t for t in self.attempts.get(client, []) if now - t < 60.0]
            ok = len(recent) < self.per_minute
            if ok:
                recent.append(now)
            self.attempts[client] = recent
            if len(self.attempts) > 10_000:  # forget idle clients
                self.attempts = {c: v for c, v in self.attempts.items() if v}
            return ok

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import time

        if (scope.get("type") == "http" and scope.get("method") == "POST"
                and str(scope.get("path", "")).rstrip("/").endswith("/login")):
            client = (scope.get("client") or ("?", 0))[0]
            if not self.allow(str(client), time.monotonic()):
                body = (b"Too many login attempts from this address; wait a minute and try "
                        b"again.")
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"retry-after", b"60")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def login_limit_kwargs(settings: Settings) -> dict[str, Any]:
    """FastAPI arguments that put ``LoginLimiter`` in front of gradio's login route."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(LoginLimiter,
                                      per_minute=settings.login_attempts_per_minute)]}


def serve(settings: Settings, block: bool = True) -> gr.Blocks:
    """Check the binding, index a fresh clone's corpus, and start the page (loading at start)."""
    import os

    auth = check_binding(settings)
    from assistant.answer import Assistant
    from assistant.index import Index
    from assistant.safety import install_log_redaction

    install_log_redaction(settings)
    # Gradio keeps uploads in its own folder: ours, emptied on every start.
    tmp = upload_tmp_dir(settings)
    os.environ["GRADIO_TEMP_DIR"] = str(tmp)
    removed = empty_upload_tmp(settings)
    if removed:
        log.info("emptied the page's upload folder %s (%d entries)", tmp, removed)

    index = Index(settings)
    ensure_index(settings, index)
    bot = Assistant(settings, index=index)
    ready = threading.Event()
    threading.Thread(target=warm_up, args=(bot, ready), daemon=True, name="warm-up").start()
    app = build_app(settings, bot, ready=ready)
    app.queue(default_concurrency_limit=2)
    try:
        app.launch(
            server_name=settings.host,
            server_port=settings.port,
            share=False,
            auth=auth,
            theme=_theme(),
            css=CSS,
            head=HEAD_JS,
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            show_error=False,
            footer_links=["api", "settings"],
            max_file_size=f"{int(settings.max_upload_mb * 2) + 1}mb",
            prevent_thread_lock=True,
            quiet=True,
            app_kwargs=login_limit_kwargs(settings) if auth else None,
        )
    except OSError as exc:
        raise ConfigError(
            f"Cannot serve on {settings.host}:{settings.port} ({exc}). Stop the program using "
            "that port, or choose another with --port N (ASSISTANT_PORT)."
        ) from exc
    print(f"The chat page is on http://{settings.host}:{settings.port} (Ctrl+C stops it)",
          file=sys.stderr, flush=True)
    if block:
        app.block_thread()
    return app
