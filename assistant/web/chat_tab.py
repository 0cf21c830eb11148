"""The Chat tab: the question, filters and answer mode, the conversation, copy and downloads,
feedback, and the sources panel beside it.

``build_chat_tab(page)`` lays the tab out (inside the page's ``gr.Tabs()``) and returns its
components; ``wire_chat_tab(page, tab)`` connects them to the handlers made here.
"""

from __future__ import annotations

import html
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError
from assistant.types import Answer, answer_markdown
from assistant.web.catalog import country_choices, filter_problem, missing_html
from assistant.web.common import GENERIC_ERROR, Page, new_state, safe_error, static_text
from assistant.web.exports import write_export
from assistant.web.feedback import record_feedback
from assistant.web.sources import chat_text, sources_html

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

EXAMPLES = [
    "How many scientific institutions took part in the Armenian survey?",
    "When was the Georgian questionnaire available?",
    "What challenges did institutions in both countries report?",
]
EXPORT_OUTPUTS = ("refs", "dl_md", "dl_docx", "conv_md", "conv_docx")
# The download buttons and what each writes when it is clicked (not after every answer).
DOWNLOADS = {"dl_md": "answer-md", "dl_docx": "answer-docx", "conv_md": "conversation-md",
             "conv_docx": "conversation-docx"}
# The copy's confirmation: a status line (role=status, aria-live) that copy.js fills in.
COPY_NOTE = '<p id="copy-note" class="copy-note" role="status" aria-live="polite"></p>'
# A new question or conversation empties it: "Copied" is about the answer that was on screen.
CLEAR_COPY_NOTE_JS = ("() => { const n = document.querySelector('#copy-note');"
                      " if (n) n.textContent = ''; }")
# Starts the browser's download of the file just written into the hidden download button.
CLICK_DOWNLOAD_JS = ("() => { const b = document.querySelector('#dl-file');"
                     " (b && b.tagName !== 'BUTTON' ? b.querySelector('button') : b)?.click(); }")


@dataclass
class ChatTab:
    """The Chat tab's components that handlers read or write."""

    state: gr.State
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask_btn: gr.Button
    examples: list[gr.Button]  # each puts its question into the box
    countries: gr.CheckboxGroup
    docs: gr.Dropdown
    missing_box: gr.HTML
    mode: gr.Radio
    copy_btn: gr.Button
    copy_note: gr.HTML  # the status line that says the answer was copied
    clear_btn: gr.Button
    dl_md: gr.Button
    dl_docx: gr.Button
    conv_md: gr.Button
    conv_docx: gr.Button
    dl_file: gr.DownloadButton  # hidden: holds the file a download button has just written
    refs: gr.Textbox
    up_btn: gr.Button
    down_btn: gr.Button
    comment: gr.Textbox
    feedback_msg: gr.Markdown
    sources: gr.HTML

    def exports(self) -> list[Any]:
        return [getattr(self, name) for name in EXPORT_OUTPUTS]


# --------------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------------
def make_ask(page: Page) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The handler of Ask: streams the answer into the chat, with its sources beside it."""

    settings, bot, ready, llm_reason = page.settings, page.bot, page.ready, page.llm_reason

    def ask(
        question: str, countries: list[str] | None, docs: list[str] | None, mode: str,
        state: dict[str, Any] | None,
    ) -> Iterator[tuple[Any, ...]]:
        state = state or new_state()
        turns = list(state["turns"])
        if state.get("refused"):  # the last message is a refusal: the next reply replaces it
            turns = turns[:-1]
        state = {**state, "refused": False}
        pairs = list(state["pairs"])
        answers = list(state.get("answers", []))
        shown_q = html.escape(question or "", quote=False) or "*(empty question)*"
        filters = {"country": list(countries or []), "doc_id": list(docs or [])}
        panel = sources_html(state["last"], answers[:-1])

        def refuse(text: str) -> tuple[Any, ...]:
            # A refused question is not added to the chat (it stays in the box to be mended),
            # and a refusal replaces the previous one instead of piling up under it.
            now = [*turns, ("note", f"⚠ {html.escape(text, quote=False)}")]
            box = (question or "").encode("utf-8", "replace").decode("utf-8")
            return chat_messages(now, answers), panel, {**state, "turns": now,
                                                         "refused": True}, box

        if mode != "extractive" and llm_reason:
            yield refuse(f"The {mode} mode is not available: {llm_reason}.")
            return
        problem = filter_problem(filters["country"], filters["doc_id"], page.catalog["docs"])
        if problem and (question or "").strip():
            yield refuse(problem)
            return
        ready.wait(timeout=600)
        turn = len(answers) + 1
        answer: Answer | None = None
        asked = [*turns, ("user", shown_q)]

        try:
            # A partial answer is shown when the next one arrives: the final one is sent once.
            for partial in bot.ask_stream(question, history=pairs, filters=filters, mode=mode):
                if answer is not None:
                    now = [*asked, ("note", chat_text(answer, turn))]
                    yield (chat_messages(now, answers), sources_html(answer, answers),
                           {**state, "turns": now}, "")
                answer = partial
        except AssistantError as exc:
            yield refuse(safe_error(settings, exc))
            return
        except Exception:
            log.exception("answering %r failed", question)
            now = [*asked, ("note", GENERIC_ERROR)]
            yield chat_messages(now, answers), panel, {**state, "turns": now}, question
            return
        if answer is not None:
            pairs.append((answer.question, answer.text))
            now, answers = [*asked, ("answer", len(answers))], [*answers, answer]
            final = {"turns": now, "pairs": pairs, "last": answer, "answers": answers}
            yield chat_messages(now, answers), sources_html(answer, answers[:-1]), final, ""

    return ask


def chat_messages(turns: list[tuple[str, Any]], answers: list[Answer]) -> list[dict[str, str]]:
    """The chat's messages drawn from a conversation's turns (see ``new_state``): an answer
    is drawn again from its ``Answer`` (its source cards are cached), with its turn number."""
    out = []
    for kind, value in turns:
        if kind == "answer":
            out.append({"role": "assistant", "content": chat_text(answers[value], value + 1)})
        else:
            out.append({"role": "user" if kind == "user" else "assistant", "content": value})
    return out


# Modes whose answer is written in one step (quotes): one partial answer, never a stream.
ONE_STEP_MODES = frozenset({"extractive", "verify"})


def make_async_ask(page: Page) -> Callable[..., AsyncIterator[tuple[Any, ...]]]:
    """:func:`make_ask` as gradio runs it: the steps in a worker thread, all at once unless
    the mode streams (llm), then one thread call per partial answer.

    Gradio runs a plain generator with a worker-thread call to start it and one per step,
    the last only to learn that it ended: three calls a question, each handing the GIL
    between threads. An async generator is iterated on the event loop: two calls.
    """
    steps_of = make_ask(page)

    async def ask(
        question: str, countries: list[str] | None, docs: list[str] | None, mode: str,
        state: dict[str, Any] | None,
    ) -> AsyncIterator[tuple[Any, ...]]:
        from anyio import to_thread

        steps = steps_of(question, countries, docs, mode, state)
        if mode in ONE_STEP_MODES:
            for out in await to_thread.run_sync(list, steps):
                yield out
            return

        def step() -> tuple[Any, ...] | None:
            return next(steps, None)

        while (partial := await to_thread.run_sync(step)) is not None:
            yield partial

    return ask


def make_exports(page: Page) -> Callable[[dict[str, Any] | None], tuple[Any, ...]]:
    """The handler that fills the copy box and shows the downloads after every answer.

    No file is written here: each download is written when its button is clicked
    (:func:`make_download`), so an answer costs no file writes. The buttons are shown with a
    conversation's first answer and hidden by New conversation (whose exports has no
    answer): a later answer leaves them as they are (``gr.skip()``), where four component
    updates cost gradio about 1 ms of CPU a question.
    """
    import gradio as gr

    def exports(state: dict[str, Any] | None) -> tuple[Any, ...]:
        """Copy box and download buttons, always for the answer now on screen."""
        answers = (state or {}).get("answers") or []
        if not answers:
            return (gr.update(value="", label="Answer with references"),
                    *[gr.update(visible=False)] * len(DOWNLOADS))
        last = answers[-1]
        label = f"Answer {len(answers)} with references (“{last.question[:80]}”)"
        shown = gr.update(visible=True) if len(answers) == 1 else gr.skip()
        return (gr.update(value=answer_markdown(last), label=label), *[shown] * len(DOWNLOADS))

    return exports


def make_download(page: Page, kind: str) -> Callable[[dict[str, Any] | None], Any]:
    """The handler of one download button: writes that file for the answer on screen."""
    import gradio as gr

    def download(state: dict[str, Any] | None) -> Any:
        answers = (state or {}).get("answers") or []
        if not answers:
            gr.Warning("Ask a question first: the downloads hold the answer on screen.")
            return gr.update(value=None)
        try:
            path = write_export(kind, answers, page.exports_dir / uuid.uuid4().hex)
        except OSError as exc:
            from assistant.store.files import disk_full_error

            full = disk_full_error(exc, page.exports_dir, 0)
            if full is None:
                raise
            gr.Warning(f"The download could not be written: {full}")
            return gr.update(value=None)
        return gr.update(value=str(path))

    download.__name__ = f"download_{kind.replace('-', '_')}"
    return download


def clear() -> tuple[Any, ...]:
    return [], sources_html(None), new_state(), "", ""


def copy_refs(state: dict[str, Any] | None) -> str:
    last = (state or {}).get("last")
    if last is None:
        return "Ask a question first: this box then holds the answer with its references."
    return answer_markdown(last)


def make_feedback(page: Page) -> Callable[[str, str, dict[str, Any] | None], tuple[str, str]]:
    """The handler of 👍 and 👎: the rating and comment on the last answer, appended to a file."""

    def feedback(rating: str, comment: str, state: dict[str, Any] | None) -> tuple[str, str]:
        try:
            msg = record_feedback(page.settings, rating, comment, (state or {}).get("last"))
        except AssistantError as exc:  # a full disk, in one line
            return f"⚠ The feedback could not be saved: {exc}", comment
        except OSError as exc:
            log.exception("writing feedback failed")
            return f"⚠ The feedback could not be saved ({exc}).", comment
        return msg, comment  # kept: a 👎 right after a 👍 keeps its comment

    return feedback


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------
def build_chat_tab(page: Page, state: gr.State) -> ChatTab:
    """The Chat tab: the conversation column and the sources column."""
    import gradio as gr

    parts: dict[str, Any] = {"state": state}
    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=3, min_width=320, elem_id="chat-col"):
            parts.update(_question(page))
            parts.update(_filters(page))
            parts.update(_copy_and_downloads())
            parts.update(_feedback_box())
        with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
            gr.Markdown("### Sources")
            parts["sources"] = gr.HTML(sources_html(None), elem_id="sources", js_on_load=None)
    return ChatTab(**parts)


def _question(page: Page) -> dict[str, Any]:
    import gradio as gr

    chatbot = gr.Chatbot(
        label="Conversation", show_label=False, height="46vh",
        feedback_options=None, elem_id="chatbot", buttons=[],
        # A refusal ("⚠ The question is empty…") is its own bubble, not a line of the answer
        # before it (a trial read it as part of that answer).
        group_consecutive_messages=False,
        placeholder="Ask a question, or pick an example below.",
    )
    with gr.Row():
        question = gr.Textbox(
            label="Question", show_label=False, scale=5, lines=1,
            max_lines=4, elem_id="question", submit_btn=False,
            placeholder="Ask about micro-credential policy…",
        )
        ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                            interactive=page.ready.is_set(), elem_id="ask")
    # One button an example, its question written out in full: gr.Examples cut the first at
    # 60 characters ("…the Armenian s...") and labelled itself "Examples" inside this fold.
    with (gr.Accordion("Examples", open=True, elem_classes=["fold-mobile"], elem_id="examples"),
          gr.Row(elem_classes=["example-row"])):
        examples = [gr.Button(q, size="sm", scale=0, elem_classes=["example"])
                    for q in EXAMPLES]
    return {"chatbot": chatbot, "question": question, "ask_btn": ask_btn, "examples": examples}


def _filters(page: Page) -> dict[str, Any]:
    import gradio as gr

    from assistant.answer.modes import MODES, unavailable_reason

    settings, llm_reason = page.settings, page.llm_reason
    docs_known = page.catalog["docs"]
    mode_choices = [(f"{m.name}: {m.label}", m.name) for m in MODES.values()
                    if not unavailable_reason(m.name, settings)]
    mode_info = ("Which way answers are written." if not llm_reason else
                 f"Only extractive is available: verify and llm are off ({llm_reason}).")
    with gr.Accordion("Filters and answer mode", open=False, elem_classes=["fold-mobile"]):
        countries = gr.CheckboxGroup(
            country_choices(docs_known), elem_id="countries",
            label="Countries (none ticked = all)",
            info="Only countries with an indexed document are offered.",
        )
        docs = gr.Dropdown(
            choices=[(d.label, d.id) for d in docs_known], multiselect=True,
            label="Documents (none = all)", elem_id="docs",
        )
        missing_box = gr.HTML(missing_html(page.catalog["missing"]),
                              elem_id="filters-missing", js_on_load=None)
        mode = gr.Radio(mode_choices, value="extractive", label="Answer mode", info=mode_info,
                        interactive=not llm_reason, elem_id="mode")
    return {"countries": countries, "docs": docs, "missing_box": missing_box, "mode": mode}


def _copy_and_downloads() -> dict[str, Any]:
    import gradio as gr

    with gr.Row():
        copy_btn = gr.Button("Copy answer with references", size="sm", elem_id="copy")
        clear_btn = gr.Button("New conversation", size="sm")
    copy_note = gr.HTML(COPY_NOTE, elem_id="copy-status", js_on_load=None)
    with gr.Row():
        dl_md = gr.Button("Answer (.md)", size="sm", visible=False, elem_id="dl-md")
        dl_docx = gr.Button("Answer (.docx)", size="sm", visible=False, elem_id="dl-docx")
        conv_md = gr.Button("Conversation (.md)", size="sm", visible=False, elem_id="conv-md")
        conv_docx = gr.Button("Conversation (.docx)", size="sm", visible=False,
                              elem_id="conv-docx")
        dl_file = gr.DownloadButton("Download", visible="hidden", elem_id="dl-file")
    refs = gr.Textbox(label="Answer with references", lines=4,
                      buttons=["copy"], interactive=False, elem_id="refs",
                      placeholder="The question and the answer on screen, with its "
                                  "references, show here after a question.")
    return {"copy_btn": copy_btn, "copy_note": copy_note, "clear_btn": clear_btn,
            "dl_md": dl_md, "dl_docx": dl_docx,
            "conv_md": conv_md, "conv_docx": conv_docx, "dl_file": dl_file, "refs": refs}


def _feedback_box() -> dict[str, Any]:
    import gradio as gr

    with gr.Accordion("Feedback on the last answer", open=True, elem_classes=["fold-mobile"]):
        with gr.Group(), gr.Row(equal_height=True):
            up_btn = gr.Button("👍 Helpful", size="sm", scale=0, min_width=56,
                               elem_id="thumbs-up")
            down_btn = gr.Button("👎 Not helpful", size="sm", scale=0, min_width=56,
                                 elem_id="thumbs-down")
            comment = gr.Textbox(
                label="Comment", show_label=False, lines=1, scale=5,
                container=False, elem_id="comment",
                placeholder="Optional comment on the last answer, then 👍 or 👎",
            )
        feedback_msg = gr.Markdown(elem_id="feedback-msg")
    return {"up_btn": up_btn, "down_btn": down_btn, "comment": comment,
            "feedback_msg": feedback_msg}


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------
def wire_chat_tab(page: Page, tab: ChatTab) -> None:
    """Ask, clear, copy and feedback; the API names are the page's public endpoints."""
    import gradio as gr

    exports = make_exports(page)
    feedback = make_feedback(page)
    gr.on(
        [tab.ask_btn.click, tab.question.submit], make_async_ask(page),
        inputs=[tab.question, tab.countries, tab.docs, tab.mode, tab.state],
        outputs=[tab.chatbot, tab.sources, tab.state, tab.question],
        api_name="ask", concurrency_limit=4, concurrency_id="ask",
    ).then(exports, inputs=[tab.state], outputs=tab.exports(),
           api_visibility="private", concurrency_limit=None)
    tab.clear_btn.click(
        clear, outputs=[tab.chatbot, tab.sources, tab.state, tab.refs, tab.feedback_msg],
        api_name="clear").then(
        exports, inputs=[tab.state], outputs=tab.exports(), api_visibility="private")
    for button, example in zip(tab.examples, EXAMPLES, strict=True):
        button.click(None, outputs=[tab.question], js=f"() => {json.dumps(example)}")
    gr.on([tab.ask_btn.click, tab.question.submit, tab.clear_btn.click], None,
          js=CLEAR_COPY_NOTE_JS)
    tab.copy_btn.click(copy_refs, inputs=[tab.state], outputs=[tab.refs],
                       api_name="references").then(
        None, inputs=[tab.refs], outputs=[tab.refs], js=static_text("copy.js"))
    for name, kind in DOWNLOADS.items():
        getattr(tab, name).click(
            make_download(page, kind), inputs=[tab.state], outputs=[tab.dl_file],
            api_visibility="private", concurrency_limit=None,
        ).then(None, js=CLICK_DOWNLOAD_JS)
    tab.up_btn.click(lambda c, s: feedback("up", c, s), inputs=[tab.comment, tab.state],
                     outputs=[tab.feedback_msg, tab.comment], api_name="feedback_up")
    tab.down_btn.click(lambda c, s: feedback("down", c, s), inputs=[tab.comment, tab.state],
                       outputs=[tab.feedback_msg, tab.comment], api_name="feedback_down")
