"""The document side panel: a passage shown in its document's text."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.types import format_reference
from assistant.web.common import GENERIC_ERROR, Page, static_text
from assistant.web.render import render_passage

if TYPE_CHECKING:
    import gradio as gr

    from assistant.store.index import Index

log = logging.getLogger(__name__)


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
        rendered = render_passage(text, plain=p.is_plain_text)[0]
        cls = ' class="doc-passage"' if p.id == passage_id else ""
        parts.append(f"<div{cls}>{rendered}</div>")
        pos = p.end
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# The side panel
# --------------------------------------------------------------------------------------------
# Closing is gradio's own chevron clicked, so the panel's state stays gradio's.
CLOSE_PANEL_JS = ("() => { const t = document.querySelector('#doc-sidebar.open .toggle-button');"
                  " if (t) t.click(); }")


@dataclass
class DocumentPanel:
    """The side panel and the hidden controls a click on a source card drives."""

    sidebar: gr.Sidebar
    view: gr.HTML
    passage_id: gr.Textbox
    open_btn: gr.Button


def build_document_panel() -> DocumentPanel:
    """The side panel (closed) that shows a passage in its document."""
    import gradio as gr

    with gr.Sidebar(label="Document", open=False, position="right", width="46%",
                    elem_id="doc-sidebar") as sidebar:
        # A plain "Close" beside gradio's small chevron (a trial found no other way out), in a
        # bar of its own above the document, which scrolls below it (page.css: a trial saw the
        # button and the chevron on top of the text). Escape closes it too (page.js).
        with gr.Row(elem_id="doc-bar"):
            close_btn = gr.Button("Close document ✕", size="sm", elem_id="close-doc-btn",
                                  elem_classes=["close-doc"], scale=0)
        view = gr.HTML("", elem_id="doc-view", js_on_load=None)
        passage_id = gr.Textbox(visible="hidden", elem_id="open-doc-id", label="Passage to open")
        open_btn = gr.Button("Open", visible="hidden", elem_id="open-doc-btn")
    close_btn.click(None, js=CLOSE_PANEL_JS)
    return DocumentPanel(sidebar, view, passage_id, open_btn)


def wire_document_panel(page: Page, panel: DocumentPanel) -> None:
    """Open the document of the passage whose id the page's script put in the hidden box."""
    import gradio as gr

    def open_document(passage_id: str) -> tuple[Any, str]:
        try:
            view = document_view(page.index, (passage_id or "").strip())
        except Exception:
            log.exception("opening the document of %r failed", passage_id)
            view = GENERIC_ERROR
        return gr.update(open=True), view

    panel.open_btn.click(open_document, inputs=[panel.passage_id],
                         outputs=[panel.sidebar, panel.view],
                         api_name="open_document").then(None, js=static_text("doc_view.js"))
