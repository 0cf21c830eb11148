"""The chat page (gradio), assembled from one builder per tab.

``build_app(settings, assistant)`` builds the page: a header, the status line, the document
side panel, and the Chat, Corpus, Evaluation, Check and Compare tabs, each from its own
module (``chat_tab``, ``corpus_tab``, ``eval_tab``, ``check_tab``, ``compare_tab``).
``serve`` (in ``server``) starts it. Document text reaches the page only through
:mod:`assistant.web.render` (safe Markdown) or ``html.escape``; references are written in the
one style of :mod:`assistant.types`. gradio is imported inside the functions.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.web.catalog import ready_line
from assistant.web.chat_tab import build_chat_tab, wire_chat_tab
from assistant.web.check_tab import build_check_tab, check_countries, eu_note
from assistant.web.common import LOADING, Page, llm_unavailable, new_state
from assistant.web.compare_tab import build_compare_tab
from assistant.web.corpus_tab import build_corpus_tab, wire_corpus_tab
from assistant.web.document_view import build_document_panel, wire_document_panel
from assistant.web.eval_tab import build_eval_tab, wire_eval_tab

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer import Assistant


def theme() -> Any:
    """The page's theme: system fonts only, so the page fetches nothing from outside."""
    import gradio as gr

    return gr.themes.Default(
        primary_hue="blue",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def make_wait_ready(page: Page) -> Callable[[], tuple[Any, ...]]:
    """The handler run on page load: says "Ready" and enables Ask once the model is loaded."""
    import gradio as gr

    def wait_ready() -> tuple[Any, ...]:
        page.ready.wait(timeout=600)
        if not page.ready.is_set():
            return "⚠ The model is still loading; reload the page in a minute.", gr.update()
        return ready_line(len(page.catalog["docs"]), len(page.catalog["missing"])), \
            gr.update(interactive=True)

    return wait_ready


CORPUS_SYNC_S = 5.0  # how often a page looks for corpus changes made elsewhere
SYNCED = 9  # the outputs of sync_corpus


def make_sync_corpus(page: Page) -> Callable[[str | None], tuple[Any, ...]]:
    """After any corpus change (this page, another page session, the CLI): the filters, the
    "N documents indexed" line, the corpus table, the removal list and the draft check's
    country boxes are read again. Called when the page loads and on a timer; nothing is sent
    while nothing changed."""
    import gradio as gr

    from assistant.web.catalog import corpus_html, corpus_rows, country_choices, missing_html
    from assistant.web.uploads import uploaded_docs

    def sync_corpus(seen: str | None) -> tuple[Any, ...]:
        if not page.ready.is_set():
            return tuple(gr.skip() for _ in range(SYNCED))
        generation = repr(page.index.generation())
        if generation == seen:
            return tuple(gr.skip() for _ in range(SYNCED))
        page.refresh_catalog()
        docs = page.catalog["docs"]
        return (generation,
                ready_line(len(docs), len(page.catalog["missing"])),
                gr.update(choices=country_choices(docs)),
                gr.update(choices=[(d.label, d.id) for d in docs]),
                missing_html(page.catalog["missing"]),
                gr.update(choices=uploaded_docs(page.settings)),
                corpus_html(corpus_rows(page.settings, page.index)),
                gr.update(choices=check_countries(docs)), eu_note(docs))

    return sync_corpus


def build_app(settings: Settings, assistant: Assistant | None = None,
              ready: threading.Event | None = None) -> gr.Blocks:
    """The chat page: chat with sources, filters, copy and downloads, corpus and evaluation.

    ``ready`` is set once the model and index are loaded (see ``server.serve``); until then the
    page says it is loading. Without it the page is ready at once.
    """
    import gradio as gr

    from assistant.answer import Assistant as _Assistant

    bot = assistant or _Assistant(settings)
    if ready is None:
        ready = threading.Event()
        ready.set()
    page = Page(settings, bot, ready, llm_unavailable(settings),
                Path(tempfile.mkdtemp(prefix="assistant-exports-")))
    page.refresh_catalog()

    with gr.Blocks(title="Micro-GEAR policy assistant", analytics_enabled=False) as app:
        state = gr.State(new_state())
        gr.Markdown(
            "## Micro-GEAR policy assistant\n"
            "Answers on micro-credential policy in Armenia and Georgia, quoted from the documents "
            "with numbered references: click a [n] to see its passage. When the documents do not "
            "answer, it says so."
        )
        status = gr.Markdown(LOADING if not ready.is_set() else "Ready.", elem_id="status")
        panel = build_document_panel()
        with gr.Tabs():
            chat = build_chat_tab(page, state)
            corpus = build_corpus_tab(page)
            evaluation = build_eval_tab(page)
            # -- EXTRA TABS: further tabs are built here, inside this `with gr.Tabs():` block.
            check = build_check_tab(page)
            build_compare_tab(page)

        app.load(make_wait_ready(page), outputs=[status, chat.ask_btn],
                 api_visibility="private", concurrency_limit=None)
        corpus_seen = gr.State(None)
        synced = [corpus_seen, status, chat.countries, chat.docs, chat.missing_box,
                  corpus.remove_choice, corpus.corpus_table, check.countries, check.eu_note]
        sync_corpus = make_sync_corpus(page)
        app.load(sync_corpus, inputs=[corpus_seen], outputs=synced, api_visibility="private",
                 concurrency_limit=None)
        gr.Timer(CORPUS_SYNC_S).tick(sync_corpus, inputs=[corpus_seen], outputs=synced,
                                     api_visibility="private", concurrency_limit=None,
                                     show_progress="hidden")
        wire_chat_tab(page, chat)
        wire_corpus_tab(page, corpus, chat)
        wire_document_panel(page, panel)
        wire_eval_tab(page, evaluation, chat.mode)
    return app
