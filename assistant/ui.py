"""The chat page (gradio): cited answers beside their sources, the corpus, a small evaluation.

``build_app(settings, assistant)`` builds the page; ``serve(settings)`` checks the binding,
indexes the bundled corpus on a first run and starts the server. Every piece of document text
reaches the page through ``html.escape``; gradio is imported inside the functions.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, InputError
from assistant.safety import redact
from assistant.storage import append_jsonl
from assistant.text import quote_span
from assistant.types import COUNTRIES, Answer, Citation, Passage, ScoredPassage
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
COUNTRY_CHOICES = [("Armenia", "AM"), ("Georgia", "GE"), ("EU", "EU")]
UPLOAD_TYPES = [".pdf", ".md", ".txt", ".html", ".htm"]
CORPUS_HEADERS = ["Document", "Title", "Country", "Type", "State"]
EVAL_HEADERS = ["id", "question", "answerable", "abstained", "correct", "hit_rank", "ms"]
NOT_AN_ANSWER = "Not an answer"
GENERIC_ERROR = "⚠ Something went wrong on the server (details in its log). Please try again."
_FEEDBACK_LOCK = threading.Lock()

CSS = """
.sources { font-size: 0.95rem; }
.sources .src { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--block-background-fill); }
.sources .src-head { font-weight: 600; margin-bottom: 2px; }
.sources .src-meta { color: var(--body-text-color-subdued); font-size: 0.85rem;
  margin-bottom: 6px; }
.sources .src-text { white-space: pre-wrap; line-height: 1.45; max-height: 22em;
  overflow-y: auto; }
.sources mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.sources blockquote { border-left: 3px solid #f59e0b; margin: 0 0 6px 0; padding-left: 8px; }
.sources .not-answer { color: #b45309; margin-top: 0; }
.sources .empty { color: var(--body-text-color-subdued); }
.sources .warn { color: #b45309; }
table.corpus { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
table.corpus th, table.corpus td { text-align: left; vertical-align: top; padding: 6px 8px;
  border: 0; border-bottom: 1px solid var(--border-color-primary); }
table.corpus td:first-child { font-family: var(--font-mono); white-space: nowrap; }
table.corpus td:nth-child(2) { min-width: 16em; }
table.corpus tr.missing td:last-child { color: #b45309; }
table.corpus tr.ok td:last-child { color: #15803d; white-space: nowrap; }
"""


# --------------------------------------------------------------------------------------------
# Sources panel (pure functions: easy to test)
# --------------------------------------------------------------------------------------------
def highlight(text: str, quote: str) -> str:
    """The passage as escaped HTML with the quote in ``<mark>``; the quote above it if not found."""
    span = quote_span(text, quote)
    if span is None:
        return (f"<blockquote>{html.escape(quote)}</blockquote>"
                f'<div class="src-text">{html.escape(text)}</div>')
    s, e = span
    return (f'<div class="src-text">{html.escape(text[:s])}<mark>{html.escape(text[s:e])}'
            f"</mark>{html.escape(text[e:])}</div>")


def _meta_line(country: str, section: str, pages: str) -> str:
    parts = [COUNTRIES.get(country, country)]
    if section:
        parts.append(section)
    if pages:
        parts.append(pages)  # "p. 26" / "pp. 25–26": the quote's page(s), see Citation.pages
    return html.escape(" · ".join(parts))


def origin_badge(p: Passage) -> str:
    """" (uploaded document, not an official source)" as escaped HTML for an upload, else ""."""
    if p.official:
        return ""
    who = ", ".join(x for x in (p.uploaded_by, p.uploaded_at[:10]) if x)
    note = f"{p.origin_note()}; added by {who}" if who else p.origin_note()
    return f' <span class="warn origin">({html.escape(note)})</span>'


def _citation_card(c: Citation) -> str:
    p = c.passage
    flag = "" if c.verified else ' <span class="warn">(quote not verified)</span>'
    flag += origin_badge(p)
    return (
        f'<div class="src"><div class="src-head">[{c.n}] {html.escape(p.title)}{flag}</div>'
        f'<div class="src-meta">{_meta_line(p.country, p.section, c.page_display)}</div>'
        f"{highlight(p.text, c.quote)}</div>"
    )


def _passage_card(sp: ScoredPassage) -> str:
    p = sp.passage
    return (
        f'<div class="src"><div class="src-head">{html.escape(p.title)}{origin_badge(p)}</div>'
        f'<div class="src-meta">{_meta_line(p.country, p.section, p.page_display())}</div>'
        f'<div class="src-text">{html.escape(p.text)}</div></div>'
    )


def sources_html(answer: Answer | None) -> str:
    """The sources panel for an answer: its citations, or the closest passages of an abstention."""
    if answer is None:
        return '<div class="sources"><p class="empty">Sources show up here.</p></div>'
    if answer.abstained:
        cards = "".join(_passage_card(sp) for sp in answer.passages)
        body = (f'<h4 class="not-answer">{NOT_AN_ANSWER}: the closest passages</h4>'
                f"{cards or '<p class=empty>No passage came close.</p>'}")
        return f'<div class="sources">{body}</div>'
    if not answer.citations:  # an llm answer still streaming
        return '<div class="sources"><p class="empty">Checking the citations…</p></div>'
    parts = [_citation_card(c) for c in answer.citations]
    unsupported = [s.sentence for s in answer.support if not s.supported]
    if unsupported:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in unsupported)
        parts.append(f'<div class="warn">Not supported by the passages:<ul>{items}</ul></div>')
    return f'<div class="sources">{"".join(parts)}</div>'


def chat_text(answer: Answer) -> str:
    """The answer as a chat message (markdown, with any HTML in it shown as text)."""
    text = html.escape(answer.text, quote=False)
    if answer.abstained:
        text += f"\n\n*The closest passages are shown beside, marked “{NOT_AN_ANSWER}”.*"
    return text


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


def corpus_html(rows: list[list[str]]) -> str:
    """The corpus rows as an HTML table (every cell escaped)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in CORPUS_HEADERS)
    body = "".join(
        f'<tr class="{"ok" if r[4].startswith("indexed") else "missing"}">'
        + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f'<table class="corpus"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def doc_choices(settings: Settings, index: Index) -> list[tuple[str, str]]:
    """(label, doc id) for every indexed document, for the documents filter."""
    from assistant.ingest import corpus_status

    out = []
    for d in corpus_status(settings, index):
        if d.chunks:
            title = d.entry.info.title
            title = title if len(title) <= 70 else title[:67] + "…"
            out.append((f"{title} ({d.entry.info.id})", d.entry.info.id))
    return out


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
    return {"messages": [], "pairs": [], "last": None}


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The chat page: chat with sources, filters, copy, feedback, corpus and evaluation tabs."""
    import gradio as gr

    from assistant.answer import Assistant as _Assistant

    bot = assistant or _Assistant(settings)
    index = bot.index

    def ask(
        question: str, countries: list[str] | None, docs: list[str] | None, mode: str,
        state: dict[str, Any] | None,
    ) -> Iterator[tuple[Any, ...]]:
        state = state or _new_state()
        messages = list(state["messages"])
        pairs = list(state["pairs"])
        shown_q = html.escape(question or "", quote=False) or "*(empty question)*"
        filters = {"country": list(countries or []), "doc_id": list(docs or [])}
        answer: Answer | None = None
        try:
            for answer in bot.ask_stream(question, history=pairs, filters=filters, mode=mode):
                msgs = [*messages, {"role": "user", "content": shown_q},
                        {"role": "assistant", "content": chat_text(answer)}]
                yield msgs, sources_html(answer), {**state, "messages": msgs}, ""
        except AssistantError as exc:
            text = safe_error(settings, exc)
            gr.Warning(text)
            msgs = [*messages, {"role": "user", "content": shown_q},
                    {"role": "assistant", "content": f"⚠ {html.escape(text, quote=False)}"}]
            yield msgs, sources_html(state["last"]), {**state, "messages": msgs}, question
            return
        except Exception:
            log.exception("answering %r failed", question)
            msgs = [*messages, {"role": "user", "content": shown_q},
                    {"role": "assistant", "content": GENERIC_ERROR}]
            yield msgs, sources_html(state["last"]), {**state, "messages": msgs}, question
            return
        if answer is not None:
            pairs.append((answer.question, answer.text))
            final = {"messages": msgs, "pairs": pairs, "last": answer}
            yield msgs, sources_html(answer), final, ""

    def clear() -> tuple[Any, ...]:
        return [], sources_html(None), _new_state(), "", ""

    def copy_refs(state: dict[str, Any] | None) -> str:
        last = (state or {}).get("last")
        if last is None:
            return "Ask a question first: this box then holds the answer with its references."
        return str(last.references_markdown())

    def feedback(rating: str, comment: str, state: dict[str, Any] | None) -> tuple[str, str]:
        try:
            msg = record_feedback(settings, rating, comment, (state or {}).get("last"))
        except AssistantError as exc:  # a full disk, in one line
            return f"⚠ The feedback could not be saved: {exc}", comment
        except OSError as exc:
            log.exception("writing feedback failed")
            return f"⚠ The feedback could not be saved ({exc}).", comment
        if msg.startswith("⚠"):
            return msg, comment
        return msg, ""

    def upload(
        file: str | None, request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        from assistant.ingest import ingest

        def table() -> tuple[Any, Any]:
            rows = corpus_html(corpus_rows(settings, index))
            return rows, gr.update(choices=doc_choices(settings, index))

        if not file:
            return "Choose a file to add.", *table()
        path = Path(file)
        try:
            check_upload(path, settings)

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
        lines = [f"**{path.name}**: {report.summary()}", *(f"- {n}" for n in report.notes)]
        for failed, reason in report.failed.items():
            lines.append(f"- ⚠ {Path(failed).name} was not added: {reason}")
        return "\n".join(lines), *table()

    # gradio finds the request by its annotation; ours is a string (postponed annotations).
    upload.__annotations__["request"] = gr.Request | None

    def run_eval(
        file: str | None, limit: float, mode: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, list[list[Any]]]:
        def bar(it: Iterable[Any]) -> Iterable[Any]:
            return progress.tqdm(it, desc="Evaluating", unit="questions")

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

    with gr.Blocks(title="Micro-GEAR policy assistant", analytics_enabled=False) as app:
        state = gr.State(_new_state())
        gr.Markdown(
            "## Micro-GEAR policy assistant\n"
            "Answers on micro-credential policy in Armenia and Georgia, quoted from the documents "
            "with numbered references. When the documents do not answer, it says so."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation", height=440, buttons=["copy"],
                        feedback_options=None, elem_id="chatbot",
                        placeholder="Ask a question, or pick an example below.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder="Ask about micro-credential policy…",
                            scale=5, lines=1, max_lines=4, elem_id="question", submit_btn=False,
                        )
                        ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    gr.Examples(EXAMPLES, inputs=[question], label="Examples")
                    with gr.Accordion("Filters and answer mode", open=False):
                        countries = gr.CheckboxGroup(
                            COUNTRY_CHOICES, label="Countries (none ticked = all)",
                        )
                        docs = gr.Dropdown(
                            choices=doc_choices(settings, index), multiselect=True,
                            label="Documents (none = all)",
                        )
                        mode = gr.Radio(["extractive", "llm"], value=settings.mode,
                                        label="Answer mode",
                                        info="extractive quotes the documents; llm needs a model")
                    with gr.Row():
                        copy_btn = gr.Button("Copy answer with references", size="sm", scale=2)
                        clear_btn = gr.Button("New conversation", size="sm", scale=1)
                    refs = gr.Textbox(label="Answer with references", lines=4, buttons=["copy"],
                                      interactive=False, elem_id="refs")
                    with gr.Group(), gr.Row(equal_height=True):
                        up_btn = gr.Button("👍", size="sm", scale=0, min_width=56,
                                           elem_id="thumbs-up")
                        down_btn = gr.Button("👎", size="sm", scale=0, min_width=56,
                                             elem_id="thumbs-down")
                        comment = gr.Textbox(
                            show_label=False, lines=1, scale=5, container=False,
                            placeholder="Optional comment on the last answer, then 👍 or 👎",
                        )
                    feedback_msg = gr.Markdown(elem_id="feedback-msg")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html(None), elem_id="sources", js_on_load=None,
                                      max_height=760)
            with gr.Tab("Corpus", id="corpus"):
                gr.Markdown("Every document the assistant knows of, and whether it is indexed. "
                            f"Add a file ({', '.join(UPLOAD_TYPES)}, at most "
                            f"{settings.max_upload_mb:g} MB): it is checked, copied to the "
                            "library and indexed.")
                corpus_table = gr.HTML(corpus_html(corpus_rows(settings, index)),
                                       elem_id="corpus-table", js_on_load=None)
                upload_file = gr.File(label="Add a document", file_types=UPLOAD_TYPES,
                                      file_count="single", elem_id="upload")
                upload_msg = gr.Markdown(elem_id="upload-msg")
            with gr.Tab("Evaluation", id="evaluation"):
                gr.Markdown("Runs the known question set (or an uploaded JSONL) through the "
                            "assistant, in the answer mode chosen on the Chat tab, and reports "
                            "retrieval, answer, citation, abstention and latency scores.")
                with gr.Row():
                    eval_file = gr.File(label="Question set (JSONL, optional)",
                                        file_types=[".jsonl"], file_count="single")
                    eval_limit = gr.Slider(1, 200, value=20, step=1, label="Questions to run")
                eval_btn = gr.Button("Run evaluation", variant="primary")
                eval_summary = gr.Markdown(elem_id="eval-summary")
                eval_table = gr.Dataframe(headers=EVAL_HEADERS, interactive=False, wrap=True)
            build_check_tab(bot, settings)

        gr.on(
            [ask_btn.click, question.submit], ask,
            inputs=[question, countries, docs, mode, state],
            outputs=[chatbot, sources, state, question],
            api_name="ask", concurrency_limit=4, concurrency_id="ask",
        )
        clear_btn.click(clear, outputs=[chatbot, sources, state, refs, feedback_msg],
                        api_name="clear")
        copy_btn.click(copy_refs, inputs=[state], outputs=[refs], api_name="references")
        up_btn.click(lambda c, s: feedback("up", c, s), inputs=[comment, state],
                     outputs=[feedback_msg, comment], api_name="feedback_up")
        down_btn.click(lambda c, s: feedback("down", c, s), inputs=[comment, state],
                       outputs=[feedback_msg, comment], api_name="feedback_down")
        upload_file.upload(upload, inputs=[upload_file],
                           outputs=[upload_msg, corpus_table, docs], api_name="upload",
                           concurrency_limit=1, concurrency_id="ingest")
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
    """Run the known set (or ``path``) through the assistant; the summary and per-item rows."""
    from assistant import evaluate as ev

    qa_path = path or settings.corpus_path / "eval" / "known_qa.jsonl"
    if not qa_path.is_file():
        qa_path = settings.home / "corpus" / "eval" / "known_qa.jsonl"
    items = ev.load_qa(qa_path, settings)[: max(1, limit)]
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
    """Check the binding, index a fresh clone's corpus, and start the page."""
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
    app = build_app(settings, Assistant(settings, index=index))
    app.queue(default_concurrency_limit=2)
    try:
        app.launch(
            server_name=settings.host,
            server_port=settings.port,
            share=False,
            auth=auth,
            theme=_theme(),
            css=CSS,
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
