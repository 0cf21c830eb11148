"""The "Check a draft" tab: paste or upload a draft, see the report, download the annotated draft.

``build_check_tab(page)`` is called inside the page's ``gr.Tabs()``; its country boxes follow
what is indexed (``check_countries``, ``eu_note``), refreshed with the page's other filters.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer import Assistant
    from assistant.web.catalog import IndexedDoc
    from assistant.web.common import Page

log = logging.getLogger(__name__)

DRAFT_TYPES = [".md", ".txt", ".docx", ".pdf"]
COUNTRY_CHOICES = [("Armenia", "AM"), ("Georgia", "GE"), ("EU", "EU")]
# Said where the EU box would be while no EU document is indexed (a trial was offered the box
# with nothing behind it: ticked alone, every sentence of a draft would be "not found").
EU_MISSING = ('<p class="filters-missing">No EU box: the EU Recommendation (Council '
              "Recommendation of 16 June 2022 on micro-credentials) is not indexed, so a draft "
              "cannot be checked against it. To add it, run <code>assistant corpus fetch</code> "
              "(where a network allows), then <code>assistant ingest</code>.</p>")
EMPTY = "<p>Paste a draft or upload a file, then press <b>Check draft</b>.</p>"
FAILED = "⚠ The check failed unexpectedly; the error is in the server log."


@dataclass
class CheckTab:
    """The Check tab's components that follow the corpus."""

    countries: gr.CheckboxGroup
    eu_note: gr.HTML


def check_countries(docs: Sequence[IndexedDoc]) -> list[tuple[str, str]]:
    """The country boxes a draft can be checked against: those with an indexed document."""
    present = {d.country for d in docs}
    return [(name, code) for name, code in COUNTRY_CHOICES if code in present]


def eu_note(docs: Sequence[IndexedDoc]) -> str:
    """Why there is no EU box and how to add the Recommendation ("" when one is indexed)."""
    return "" if any(d.country == "EU" for d in docs) else EU_MISSING


def check_for_page(
    assistant: Assistant, text: str, file: str | None, countries: list[str] | None,
    progress: Any = None,
) -> tuple[str, str, list[str]]:
    """(message, report HTML, files to download) for the page; never raises."""
    import html

    from assistant.check.draft import check_draft
    from assistant.check.reading import read_draft
    from assistant.check.report import report_fragment
    from assistant.store.files import disk_full_error
    from assistant.web.common import safe_error

    out: Path | None = None
    try:
        source = "pasted text"
        if file:
            path = Path(file)
            text = read_draft(path, assistant.settings.max_upload_mb)
            source = path.name
        filters = {"country": list(countries)} if countries else None
        report = check_draft(assistant, text, filters, progress=progress, source=source)
        out = Path(tempfile.mkdtemp(prefix="draft-check-"))
        stem = Path(source).stem if source != "pasted text" else "draft"
        md = out / f"{stem}.checked.md"
        md.write_text(report.to_markdown(), encoding="utf-8")
        page = out / f"{stem}.check.html"
        page.write_text(report.to_html(), encoding="utf-8")
    except AssistantError as exc:  # named by the file's own name, never its server path
        shown = safe_error(assistant.settings, exc, *([Path(file)] if file else []))
        return f"⚠ {html.escape(shown, quote=False)}", EMPTY, []
    except OSError as exc:
        full = disk_full_error(exc, out or Path(tempfile.gettempdir()), 0)
        if full is None:
            log.exception("checking a draft failed")
            return FAILED, EMPTY, []
        return f"⚠ {html.escape(safe_error(assistant.settings, full), quote=False)}", EMPTY, []
    except Exception:
        log.exception("checking a draft failed")
        return FAILED, EMPTY, []
    finally:
        if file:
            forget_draft(Path(file))
    # The summary is the message above the report; the report itself does not repeat it.
    return (html.escape(report.summary(), quote=False), report_fragment(report, summary=False),
            [str(md), str(page)])


def forget_draft(path: Path) -> None:
    """Delete the page's copy of an uploaded draft once it is checked: a draft is not kept, and
    no one can fetch it later by its path. The folder goes too when it is left empty."""
    try:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError as exc:
        log.warning("could not delete the checked draft %s (%s)", path, exc)


def build_check_tab(page: Page) -> CheckTab:
    """Add the "Check a draft" tab to the page being built (inside ``gr.Tabs()``)."""
    import gradio as gr

    assistant, docs = page.bot, page.catalog["docs"]
    with gr.Tab("Check a draft", id="check"):
        gr.Markdown("Paste a draft (or upload .md, .txt, .docx, .pdf). Every sentence is checked "
                    "against the indexed documents: supported (with a verbatim quote), "
                    "contradicted (both values shown), partly supported, or not found. "
                    "References in the draft are checked too. The draft is not indexed.")
        with gr.Row():
            draft = gr.Textbox(label="Draft", lines=10, max_lines=30, elem_id="draft-text",
                               scale=3)
            with gr.Column(scale=1):
                draft_file = gr.File(label="…or upload a draft", file_types=DRAFT_TYPES,
                                     file_count="single", elem_id="draft-file")
                countries = gr.CheckboxGroup(check_countries(docs),
                                             label="Countries (none ticked = all)",
                                             elem_id="check-countries")
                note = gr.HTML(eu_note(docs), elem_id="check-eu-note", js_on_load=None)
                check_btn = gr.Button("Check draft", variant="primary", elem_id="check-btn")
        message = gr.Markdown(elem_id="check-msg")
        report = gr.HTML(EMPTY, elem_id="check-report", js_on_load=None)
        downloads = gr.File(label="Annotated draft and HTML report", file_count="multiple",
                            interactive=False, elem_id="check-downloads")

        def run(text: str, file: str | None, ctry: list[str] | None,
                progress: gr.Progress = gr.Progress()) -> tuple[str, str, list[str]]:  # noqa: B008
            def step(done: int, total: int, label: str) -> None:
                progress(done / max(total, 1), desc=label)

            return check_for_page(assistant, text, file, ctry, step)

        check_btn.click(run, inputs=[draft, draft_file, countries],
                        outputs=[message, report, downloads], api_name="check_draft",
                        concurrency_limit=2, concurrency_id="check")
    return CheckTab(countries, note)
