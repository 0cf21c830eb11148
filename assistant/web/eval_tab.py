"""The Evaluation tab: a stratified sample of the Q&A set run through the assistant."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.web.common import GENERIC_ERROR, Page, safe_error

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer import Assistant

log = logging.getLogger(__name__)


# "outcome" (answer / evidence / none), not "abstained": a trial read "abstained true" beside
# an evidence outcome that shows a quote
EVAL_HEADERS = ["id", "category", "question", "answerable", "outcome", "correct", "hit_rank",
                "ms"]
EVAL_WIDTHS: list[str | int] = ["9%", "10%", "39%", "9%", "9%", "8%", "8%", "8%"]


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


# The page's default: the test part of these sets (nothing was tuned on it), as `make eval-gate`.
DEFAULT_SETS = ("known_qa.jsonl", "user_qa.jsonl")


def eval_set_path(settings: Settings, name: str) -> Path:
    p = settings.corpus_path / "eval" / name
    return p if p.is_file() else settings.bundled_corpus_path / "eval" / name


def count_items(path: Path, split: str = "all") -> int:
    """How many questions a JSONL set has (of one part: an item without a part is in every
    part), without checking its quotes against the documents; 0 if unreadable."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError):
        return 0
    if split == "all":
        return len(lines)
    n = 0
    for ln in lines:
        try:
            n += json.loads(ln).get("split", "") in ("", split)
        except (ValueError, AttributeError):
            continue
    return n


def default_count(settings: Settings) -> int:
    """The test-part questions of the default sets."""
    return sum(count_items(eval_set_path(settings, n), "test") for n in DEFAULT_SETS)


# --------------------------------------------------------------------------------------------
# Evaluation tab
# --------------------------------------------------------------------------------------------
def evaluation(
    settings: Settings, bot: Assistant, path: Path | None, limit: int, mode: str | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> tuple[str, list[list[Any]]]:
    """Run a stratified sample of the default sets' test part (or of every question of
    ``path``); the summary, saying what was run, and the per-item rows."""
    from assistant.evaluation.qa import load_qa, select_split
    from assistant.evaluation.run import build_report, format_categories, format_summary, run_items

    if path is None:
        paths = [eval_set_path(settings, n) for n in DEFAULT_SETS]
        paths = [p for p in paths if p.is_file()]
        pool = [it for p in paths for it in select_split(load_qa(p, settings), "test")]
        what = (f"the {len(pool)} test-part questions of "
                f"{' and '.join(p.name for p in paths)} (nothing was tuned on them)")
    else:
        paths = [path]
        pool = load_qa(path, settings)
        what = f"the {len(pool)} questions of {path.name}"
    items = stratified_sample(pool, max(1, limit))
    mode = mode or settings.mode
    results = run_items(items, bot, mode, settings.k, progress=progress)
    meta = {"qa_files": [str(p) for p in paths], "n_items": len(items), "mode": mode,
            "k": settings.k}
    report = build_report(results, meta)
    head = (f"Ran {len(items)} of {what}, spread over the set. A sample's figures are rough; "
            "the whole set, by category, with its report: `assistant eval --report FILE`.")
    summary, rows = format_report(report, format_summary(report) + "\n\n"
                                  + format_categories(report))
    return f"{head}\n\n{summary}", rows


def format_report(report: dict[str, Any], summary: str) -> tuple[str, list[list[Any]]]:
    """The plain-text summary as a code block, and one table row per item."""
    rows = [[_fmt(it.get(h, "")) for h in EVAL_HEADERS]
            for it in report.get("items", []) if isinstance(it, dict)]
    return f"```\n{summary}\n```", rows


def _fmt(v: Any) -> Any:
    return round(v, 3) if isinstance(v, float) else v


# --------------------------------------------------------------------------------------------
# The tab
# --------------------------------------------------------------------------------------------
@dataclass
class EvalTab:
    """The Evaluation tab's components that handlers read or write."""

    eval_file: gr.File
    eval_limit: gr.Slider
    eval_btn: gr.Button
    eval_summary: gr.Markdown
    eval_table: gr.Dataframe


def make_run_eval(page: Page) -> Callable[..., tuple[str, list[list[Any]]]]:
    """The handler of “Run evaluation”, with a progress bar per question."""
    import gradio as gr

    settings, bot, llm_reason = page.settings, page.bot, page.llm_reason

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
        except AssistantError as exc:  # an uploaded set named by its name, not its path
            return f"⚠ {safe_error(settings, exc, *([Path(file)] if file else []))}", []
        except (ImportError, AttributeError, TypeError) as exc:
            log.exception("evaluation is not available")
            return f"⚠ The evaluation module is not available in this build ({exc}).", []
        except Exception:
            log.exception("evaluation failed")
            return GENERIC_ERROR, []
        return summary, rows

    return run_eval


def make_eval_size(page: Page) -> Callable[[str | None], Any]:
    """The handler that sets the slider's range to the size of the chosen set."""
    import gradio as gr

    def eval_size(file: str | None) -> Any:
        n = count_items(Path(file)) if file else default_count(page.settings)
        n = max(n, 1)
        return gr.update(maximum=n, value=min(20, n), label=f"Questions to run (of {n})")

    return eval_size


def build_eval_tab(page: Page) -> EvalTab:
    """The Evaluation tab: a question set, how many to run, the summary and the table."""
    import gradio as gr

    known_n = max(default_count(page.settings), 1)
    with gr.Tab("Evaluation", id="evaluation"):
        gr.Markdown("Runs a sample of the test part of the known and user question sets "
                    "(the questions nothing was tuned on), or of an uploaded JSONL, "
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
    return EvalTab(eval_file, eval_limit, eval_btn, eval_summary, eval_table)


def wire_eval_tab(page: Page, tab: EvalTab, mode: gr.Radio) -> None:
    """Run the evaluation in the answer mode chosen on the Chat tab."""
    tab.eval_file.change(make_eval_size(page), inputs=[tab.eval_file], outputs=[tab.eval_limit],
                         api_visibility="private")
    tab.eval_btn.click(make_run_eval(page), inputs=[tab.eval_file, tab.eval_limit, mode],
                       outputs=[tab.eval_summary, tab.eval_table], api_name="evaluate",
                       concurrency_limit=1, concurrency_id="ingest")
