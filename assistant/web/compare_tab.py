"""The "Compare" tab: countries side by side, one cited cell per topic, with its downloads.

``build_compare_tab(page)`` is called inside the page's ``gr.Tabs()``. Every text reaches the
page through ``html.escape`` (topics, quotes, references) or the chat's own source cards
(:func:`assistant.web.sources._card_html`, rendered by :mod:`assistant.web.render`). A marker
``[n]`` links to ``#src-0-n``: the chat's script (``static/page.js``) scrolls to that card,
flashes it and marks the quote, and the card's "Open document" opens the document at the
passage. The Markdown and Word downloads are written from the same matrix as the table. Its
CSS is ``static/compare.css``.
"""

from __future__ import annotations

import html
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.compare import ADDRESSED, Matrix, cell_parts
from assistant.compare.export import country_name
from assistant.errors import AssistantError
from assistant.text import counted
from assistant.types import Citation, Passage

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.web.common import Page

log = logging.getLogger(__name__)

TURN = 0  # the chat's answers are turns 1, 2, …: the matrix's anchors are src-0-n
EMPTY = ("<p class='empty'>Pick countries and topics (or add your own), then press "
         "<b>Compare</b>.</p>")
FAILED = "⚠ The comparison failed unexpectedly; the error is in the server log."
CardRenderer = Callable[[Passage, Sequence[Citation], int, bool], str]



# --------------------------------------------------------------------------------------------
# The table and its source cards (pure functions)
# --------------------------------------------------------------------------------------------
def _marker(n: int) -> str:
    return f'<a class="cmp-n" id="cmp-m-{n}" href="#src-{TURN}-{n}">[{n}]</a>'


def _cell_html(matrix: Matrix, row: int, country: str) -> str:
    cell = matrix.rows[row].cells[country]
    parts = cell_parts(cell)
    out = [f'<div class="status">{html.escape(parts[0].text)}</div>']
    for p in parts[1:]:
        if p.n is None:
            out.append(f'<div class="closest">{html.escape(p.text)}</div>')
        else:
            cls = "" if cell.status == ADDRESSED else ' class="closest"'
            out.append(f"<blockquote{cls}>\u201c{html.escape(p.text)}\u201d {_marker(p.n)}"
                       "</blockquote>")
    cls = "addressed" if cell.status == ADDRESSED else "not-addressed"
    name = html.escape(country_name(country))
    return f'<td class="{cls}" data-country="{name}">{"".join(out)}</td>'


def table_html(matrix: Matrix) -> str:
    """The matrix as an HTML table: a row per topic, a column per country, markers linked."""
    head = "".join(f"<th scope='col'>{html.escape(country_name(c))}</th>"
                   for c in matrix.countries)
    body = "".join(
        f"<tr><th scope='row'>{html.escape(r.topic.label)}</th>"
        + "".join(_cell_html(matrix, i, c) for c in matrix.countries) + "</tr>"
        for i, r in enumerate(matrix.rows))
    return (f'<table class="compare"><thead><tr><th scope="col">Topic</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def sources_html(matrix: Matrix, card: CardRenderer) -> str:
    """One source card per passage, as in the chat; closest passages say they are not answers.

    Each card's anchors carry both the id the chat's script looks up on a wide screen and
    the class it looks up on a phone, so a marker finds its card on both.
    """
    closest = {c.n for r in matrix.rows for cell in r.cells.values() for c in cell.closest}
    groups: dict[tuple[str, bool], list[Citation]] = {}
    for c in matrix.citations:
        groups.setdefault((c.passage.id, c.n in closest), []).append(c)
    parts = []
    for (_, is_closest), cites in groups.items():
        html_card = card(cites[0].passage, cites, TURN, False)
        for c in cites:
            anchor = f"src-{TURN}-{c.n}"
            html_card = html_card.replace(f'class="anchor" id="{anchor}"',
                                          f'class="anchor m{anchor}" id="{anchor}"')
        if is_closest:
            html_card = ('<div class="cmp-closest"><p class="not-answer">Not an answer: the '
                         f"closest passage</p>{html_card}</div>")
        # the way back to the cell a marker came from (a trial: 4,500 px down, no way back)
        backs = " ".join(f'<a class="cmp-back" href="#cmp-m-{c.n}">\u2191 back to [{c.n}] '
                         "in the table</a>" for c in cites)
        parts.append(f"{html_card}<p class=\"cmp-backs\">{backs}</p>")
    return f'<div class="sources">{"".join(parts)}</div>'


def page_html(matrix: Matrix, card: CardRenderer) -> str:
    """The table, then its source cards folded (a marker's click unfolds them)."""
    n = counted(len({c.passage.id for c in matrix.citations}), "passage")
    return (f'{table_html(matrix)}<details id="cmp-sources"><summary>Sources ({n}; '
            f"click a marker [n] to see its own)</summary>{sources_html(matrix, card)}</details>")


# --------------------------------------------------------------------------------------------
# Running a comparison for the page
# --------------------------------------------------------------------------------------------
def compare_for_page(
    assistant: Assistant, countries: Sequence[str] | None, picked: Sequence[str] | None,
    typed: str | None, card: CardRenderer, progress: Any = None,
) -> tuple[str, str, list[str]]:
    """(message, table and sources HTML, [Markdown file, Word file]); never raises."""
    from assistant.compare import (
        check_count,
        compare,
        default_topics,
        to_markdown,
        typed_topics,
        write_docx,
    )

    try:
        settings = assistant.settings
        chosen = [t for t in default_topics(settings) if t.label in set(picked or [])]
        extra = typed_topics((typed or "").splitlines(), settings)
        topics = check_count(chosen + [t for t in extra if t.query not in
                                       {c.query for c in chosen}])
        matrix = compare(assistant, topics, list(countries or []), progress=progress)
    except AssistantError as exc:
        return f"⚠ {html.escape(str(exc), quote=False)}", EMPTY, []
    except Exception:
        log.exception("comparing failed")
        return FAILED, EMPTY, []
    out = Path(tempfile.mkdtemp(prefix="compare-"))
    md = out / "comparison.md"
    md.write_text(to_markdown(matrix), encoding="utf-8")
    docx = write_docx(matrix, out / "comparison.docx")
    cells = sum(len(r.cells) for r in matrix.rows)
    addressed = sum(c.status == ADDRESSED for r in matrix.rows for c in r.cells.values())
    msg = (f"{len(matrix.rows)} topics × {len(matrix.countries)} countries: {addressed} of "
           f"{cells} cells addressed ({matrix.timings_ms['total_ms'] / 1000:.1f} s).")
    return msg, page_html(matrix, card), [str(md), str(docx)]


def build_compare_tab(page: Page) -> None:
    """Add the "Compare" tab to the page being built (inside ``gr.Tabs()``)."""
    import gradio as gr

    from assistant.compare import default_topics
    from assistant.web.catalog import country_choices
    from assistant.web.sources import _card_html as card

    assistant, settings = page.bot, page.settings
    countries = country_choices(page.catalog.get("docs", []))

    try:
        labels = [t.label for t in default_topics(settings)]
    except AssistantError as exc:
        log.warning("no default comparison topics: %s", exc)
        labels = []
    offered = [(label, code) for label, code in countries if code in {"AM", "GE", "EU"}]
    eu_note = ("" if any(code == "EU" for _, code in offered) else
               " The EU Recommendation is not indexed: `assistant corpus fetch "
               "eu-council-rec-2022-micro-credentials`, then `assistant ingest`, adds its "
               "column.")
    with gr.Tab("Compare", id="compare"):
        gr.Markdown("Each topic is asked of each country's documents, as the chat would answer "
                    "it filtered to that country: **addressed** with one or two verbatim quotes, "
                    "or **not addressed** with the closest passage shown as such. Click a "
                    "marker [n] to see its source." + eu_note)
        with gr.Row():
            with gr.Column(scale=3):
                topics = gr.CheckboxGroup(labels, value=labels, label="Topics",
                                          elem_id="cmp-topics")
                added = gr.Textbox(label="Add a topic (one per line)", lines=2, max_lines=6,
                                   elem_id="cmp-add",
                                   placeholder="e.g. Recognition of prior learning")
            with gr.Column(scale=1, min_width=200):
                ctry = gr.CheckboxGroup(offered, value=[c for _, c in offered if c != "EU"],
                                        label="Countries", elem_id="cmp-countries")
                run_btn = gr.Button("Compare", variant="primary", elem_id="cmp-run")
        message = gr.Markdown(elem_id="cmp-msg")
        table = gr.HTML(EMPTY, elem_id="cmp-table", js_on_load=None)
        with gr.Row():
            dl_md = gr.DownloadButton("Table (.md)", size="sm", visible=False, elem_id="cmp-md")
            dl_docx = gr.DownloadButton("Table (.docx)", size="sm", visible=False,
                                        elem_id="cmp-docx")

        def run(countries_: list[str] | None, picked: list[str] | None, typed: str | None,
                progress: gr.Progress = gr.Progress()  # noqa: B008
                ) -> tuple[Any, ...]:
            def step(done: int, total: int, label: str) -> None:
                progress((done, total), desc=label, unit="cells")

            msg, body, files = compare_for_page(assistant, countries_, picked, typed, card, step)
            shown = [gr.update(value=f, visible=True) for f in files] or [
                gr.update(value=None, visible=False)] * 2
            return msg, body, *shown

        run_btn.click(run, inputs=[ctry, topics, added],
                      outputs=[message, table, dl_md, dl_docx], api_name="compare",
                      concurrency_limit=2, concurrency_id="compare")
