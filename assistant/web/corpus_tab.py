"""The Corpus tab: every document the assistant knows of, adding a file, removing an upload.

``build_corpus_tab(page)`` lays the tab out; ``wire_corpus_tab(page, tab, chat)`` connects it,
refreshing the Chat tab's filters after every change to the library.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.documents.manifest import file_sha256
from assistant.errors import AssistantError
from assistant.types import COUNTRIES, DOC_TYPES
from assistant.web.catalog import corpus_html, corpus_rows, country_choices, missing_html
from assistant.web.common import GENERIC_ERROR, Page, safe_error, without_server_paths
from assistant.web.upload_worker import UploadInterrupted, ingest_upload
from assistant.web.uploads import (
    UPLOAD_TYPES,
    added_lines,
    check_upload,
    discard_upload,
    first_heading,
    gone_message,
    page_uploader,
    release_memory,
    remove_upload,
    upload_sidecar,
    uploaded_docs,
)

if TYPE_CHECKING:
    import gradio as gr

    from assistant.web.chat_tab import ChatTab

log = logging.getLogger(__name__)


@dataclass
class CorpusTab:
    """The Corpus tab's components that handlers read or write."""

    corpus_table: gr.HTML
    upload_file: gr.File
    up_title: gr.Textbox
    up_country: gr.Dropdown
    up_type: gr.Dropdown
    up_btn_add: gr.Button
    upload_msg: gr.Markdown
    remove_choice: gr.Dropdown
    remove_btn: gr.Button
    remove_msg: gr.Markdown


# --------------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------------
def make_controls(page: Page) -> Callable[[], tuple[Any, ...]]:
    """The handler that refreshes the filters and the removal list after a change."""
    import gradio as gr

    def controls() -> tuple[Any, ...]:
        page.refresh_catalog()
        docs = page.catalog["docs"]
        return (gr.update(choices=country_choices(docs)),
                gr.update(choices=[(d.label, d.id) for d in docs]),
                missing_html(page.catalog["missing"]),
                gr.update(choices=uploaded_docs(page.settings), value=None))

    return controls


def make_prefill(page: Page) -> Callable[[str | None], tuple[str, str, Any]]:
    """The handler that proposes a title when a file is chosen, or says why it is refused and
    turns “Add to the library” off until another file is chosen (a trial pressed it again);
    the button is off while no file is chosen."""
    import gradio as gr

    def prefill(file: str | None) -> tuple[str, str, Any]:
        if not file:  # nothing to add (a trial pressed the button with no file)
            return "", "", gr.update(interactive=False)
        path = Path(file)
        try:
            check_upload(path, page.settings)
            return first_heading(path, page.settings), f"Check the title, country and type of "\
                f"**{path.name}**, then press “Add to the library”.", gr.update(interactive=True)
        except AssistantError as exc:
            why = without_server_paths(str(getattr(exc, "reason", exc)), page.settings, path)
            return ("", f"⚠ {path.name} was not added: {why}",
                    gr.update(interactive=False))

    return prefill


def make_upload(page: Page) -> Callable[..., tuple[Any, ...]]:
    """The handler of “Add to the library”: the file checked, then copied and indexed by a
    child process (``upload_worker``) while the page keeps answering; its progress shown."""
    import gradio as gr

    settings, index, bot = page.settings, page.index, page.bot

    def upload(
        file: str | None, title: str | None = None, country: str | None = None,
        doc_type: str | None = None, request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        def table() -> tuple[Any, Any]:
            rows = corpus_html(corpus_rows(settings, index))
            page.refresh_catalog()
            return rows, gr.update(choices=[(d.label, d.id) for d in page.catalog["docs"]])

        if not file:
            return "Choose a file to add.", *table()
        path = Path(file)
        if not path.exists():  # added or refused already: its temporary copy is deleted
            return gone_message(path.name), *table()
        sidecar = upload_sidecar(settings, path.name)
        try:
            check_upload(path, settings)
            meta = {k: v for k, v in {"title": (title or "").strip(), "country": country,
                                       "doc_type": doc_type}.items() if v}
            stored = settings.uploads_path / path.name
            if meta and (not stored.exists() or file_sha256(stored) == file_sha256(path)):
                # New, or the same file chosen again with its title, country or type
                # corrected: the next ingest re-cuts it under what was given.
                sidecar.parent.mkdir(parents=True, exist_ok=True)
                sidecar.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            progress(0, desc=f"Starting to add {path.name}")
            report = ingest_upload(bot, [path], page_uploader(request),
                                   show_progress(progress, path.name))
        except UploadInterrupted as exc:
            if not (settings.uploads_path / path.name).exists():
                sidecar.unlink(missing_ok=True)
            return f"⚠ {safe_error(settings, exc, path)}", *table()
        except AssistantError as exc:
            return f"⚠ {safe_error(settings, exc, path)}", *table()
        except OSError as exc:
            from assistant.store.files import disk_full_error

            full = disk_full_error(exc, settings.data_path, path.stat().st_size
                                   if path.exists() else 0)
            if full is None:
                log.exception("ingesting %s failed", path)
                return GENERIC_ERROR, *table()
            return f"⚠ {path.name} was not added: {safe_error(settings, full, path)}", *table()
        except Exception:
            log.exception("ingesting %s failed", path)
            return GENERIC_ERROR, *table()
        finally:
            discard_upload(path)
            release_memory()
        if report.failed and not (settings.uploads_path / path.name).exists():
            sidecar.unlink(missing_ok=True)
        lines = [*added_lines(settings, index, report), *(f"- {n}" for n in report.notes)]
        for failed, reason in report.failed.items():
            lines.append(f"- ⚠ {Path(failed).name} was not added: "
                         f"{without_server_paths(reason, settings, path)}")
        lines = lines or [f"Nothing was added from {path.name}."]
        log.info("upload of %s: %s", path.name, report.summary())
        result = ("\n".join(lines), *table())
        release_memory()  # again: reading the corpus table and catalog allocates too
        return result

    # gradio finds the request by its annotation; ours is a string (postponed annotations).
    upload.__annotations__["request"] = gr.Request | None
    return upload


def settle_uploader(file: str | None) -> tuple[Any, Any]:
    """After “Add to the library”: a file whose temporary copy is gone (it was added or
    refused) leaves the uploader, and the button is off until another file is chosen (a trial
    pressed it again and read "Something went wrong")."""
    import gradio as gr

    if file and Path(file).exists():
        return gr.update(), gr.update()
    return gr.update(value=None), gr.update(interactive=False)


def show_progress(progress: Any, name: str) -> Callable[[dict[str, Any]], None]:
    """The upload's progress bar, moved by the events of its ingest process."""

    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "started":
            progress(0, desc=f"Reading {name}")
        elif kind == "waiting":
            progress(0, desc=str(event.get("text", "")))
        elif kind == "progress":
            progress((event["done"], event["total"]), desc=f"Embedding {event['label']}",
                     unit="chunks")
        elif kind == "preparing":
            progress(1.0, desc=f"Preparing {name} for questions")

    return on_event


def make_remove(page: Page) -> Callable[[str | None], tuple[str, str]]:
    """The handler that removes an uploaded document and its chunks."""

    def remove(doc_id: str | None) -> tuple[str, str]:
        settings, index = page.settings, page.index
        if not doc_id:
            return "Choose an uploaded document to remove.", corpus_html(
                corpus_rows(settings, index))
        try:
            msg = remove_upload(settings, index, doc_id)
            page.bot.retriever.refresh()
        except AssistantError as exc:
            msg = f"⚠ {exc}"
        return msg, corpus_html(corpus_rows(settings, index))

    return remove


# --------------------------------------------------------------------------------------------
# Layout and events
# --------------------------------------------------------------------------------------------
def build_corpus_tab(page: Page) -> CorpusTab:
    """The Corpus tab: the table of documents, the upload form, the removal of an upload."""
    import gradio as gr

    settings = page.settings
    with gr.Tab("Corpus", id="corpus"):
        gr.Markdown("Every document the assistant knows of, and whether it is indexed. "
                    f"Add a file ({', '.join(UPLOAD_TYPES)}, at most "
                    f"{settings.max_upload_mb:g} MB): it is checked, copied to the "
                    "library and indexed.")
        corpus_table = gr.HTML(corpus_html(corpus_rows(settings, page.index)),
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
                                       elem_id="upload-add", interactive=False)
        upload_msg = gr.Markdown(elem_id="upload-msg")
        with gr.Row():
            remove_choice = gr.Dropdown(uploaded_docs(settings),
                                        label="Uploaded document to remove",
                                        elem_id="remove-choice", scale=3)
            remove_btn = gr.Button("Remove it and its chunks", variant="stop", scale=1,
                                   elem_id="remove")
        remove_msg = gr.Markdown(elem_id="remove-msg")
    return CorpusTab(corpus_table, upload_file, up_title, up_country, up_type, up_btn_add,
                     upload_msg, remove_choice, remove_btn, remove_msg)


# Empties a message in the browser: an action's message replaces the other action's (a trial
# read "removed" under the form after a later upload had succeeded).
EMPTY_JS = "() => ''"


def wire_corpus_tab(page: Page, tab: CorpusTab, chat: ChatTab) -> None:
    """Prefill, add and remove; after a change the Chat tab's filters are refreshed."""
    import gradio as gr

    controls = make_controls(page)
    gr.on([tab.upload_file.upload, tab.up_btn_add.click], None, outputs=[tab.remove_msg],
          js=EMPTY_JS)
    tab.remove_btn.click(None, outputs=[tab.upload_msg], js=EMPTY_JS)
    refreshed = [chat.countries, chat.docs, chat.missing_box, tab.remove_choice]
    prefill = make_prefill(page)
    tab.upload_file.upload(prefill, inputs=[tab.upload_file],
                           outputs=[tab.up_title, tab.upload_msg, tab.up_btn_add],
                           api_name="upload_title")
    tab.upload_file.clear(lambda: prefill(None), outputs=[tab.up_title, tab.upload_msg,
                                                          tab.up_btn_add],
                          api_visibility="private")
    tab.up_btn_add.click(
        make_upload(page), inputs=[tab.upload_file, tab.up_title, tab.up_country, tab.up_type],
        outputs=[tab.upload_msg, tab.corpus_table, chat.docs], api_name="upload",
        concurrency_limit=1, concurrency_id="ingest").then(
        settle_uploader, inputs=[tab.upload_file], outputs=[tab.upload_file, tab.up_btn_add],
        api_visibility="private").then(controls, outputs=refreshed, api_visibility="private")
    tab.remove_btn.click(
        make_remove(page), inputs=[tab.remove_choice], outputs=[tab.remove_msg, tab.corpus_table],
        api_name="remove_upload", concurrency_limit=1, concurrency_id="ingest").then(
        controls, outputs=refreshed, api_visibility="private")
