"""Run the Q&A sets through a system and report: the `assistant eval` command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Settings
from assistant.errors import IndexError_, InputError
from assistant.evaluation.baseline import NaiveBaseline
from assistant.evaluation.metrics import (
    METRICS,
    ItemResult,
    by_category,
    category_rows,
    check_thresholds,
    compute_metrics,
    gate_lines,
)
from assistant.evaluation.qa import QAItem, load_qa, select_split
from assistant.types import Answer


# --------------------------------------------------------------------------------------------
# Running a system over the set
# --------------------------------------------------------------------------------------------
class _Retriever(Protocol):
    def retrieve(self, query: str, filters: Any = None, k: int | None = None) -> Any: ...


class System(Protocol):
    """What is evaluated: the Assistant, the naive baseline, or a test stub."""

    @property
    def retriever(self) -> _Retriever: ...

    def ask(self, question: str, *, mode: str | None = None, k: int | None = None) -> Answer: ...


def _ask(system: System, item: QAItem, mode: str | None, k: int) -> Answer:
    if item.history:
        ask: Any = system.ask
        return ask(item.question, history=list(item.history), mode=mode, k=k)
    return system.ask(item.question, mode=mode, k=k)


def run_items(
    items: Sequence[QAItem], system: System, mode: str | None = None, k: int = 6,
    progress: Callable[[Iterable[QAItem]], Iterable[QAItem]] | None = None,
) -> list[ItemResult]:
    """Ask every item (one timed ``ask``, with its history), then retrieval with k=max(5, k)
    for the question as the assistant understood it (a follow-up resolved)."""
    if items:
        system.ask(items[0].question, mode=mode, k=k)  # untimed warm-up
    results = []
    for item in progress(items) if progress else items:
        t = time.perf_counter()
        answer = _ask(system, item, mode, k)
        ms = (time.perf_counter() - t) * 1000
        query = answer.standalone_question or item.question
        ranked = list(system.retriever.retrieve(query, k=max(5, k)))
        results.append(ItemResult(item, ranked, answer, ms))
    return results


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------
def build_report(
    results: Sequence[ItemResult], meta: dict[str, Any],
    baseline: Sequence[ItemResult] | None = None, baseline_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report: metric groups, run meta, one row per item, and the baseline's metrics."""
    report: dict[str, Any] = dict(compute_metrics(results))
    report["categories"] = {c: compute_metrics(rs) for c, rs in by_category(results).items()}
    report["meta"] = meta
    report["targets"] = {
        f"{m.group}.{m.key}": {"op": m.op, "value": m.target} for m in METRICS if m.op
    }
    report["items"] = [r.row() for r in results]
    report["pr_curve"] = pr_curve(results, meta.get("threshold"))
    if baseline is not None:
        report["baseline"] = {
            **compute_metrics(baseline), "meta": baseline_meta or {},
            "categories": {c: compute_metrics(rs) for c, rs in by_category(baseline).items()},
        }
    return report


def pr_curve(results: Sequence[ItemResult], chosen: float | None) -> dict[str, Any]:
    """Precision and recall of ``answer`` against the threshold, from each item's best span.

    At threshold t an item is answered when its best span's probability is at least t; the
    answer is right when that span holds at least half the item's facts. Recall is over the
    answerable items. (Per-country comparisons are counted by their best span too.)
    """
    scored = [(r.answer.probability, r.best_span_correct(), r.item.answerable) for r in results
              if r.answer.probability is not None and r.best_span_correct() is not None]
    n_ans = sum(r.item.answerable for r in results)
    points = []
    for i in range(2, 99, 2):
        t = i / 100
        answered = [(ok, a) for p, ok, a in scored if p is not None and p >= t]
        right = sum(1 for ok, _ in answered if ok)
        points.append({
            "threshold": t, "answered": len(answered),
            "precision": round(right / len(answered), 4) if answered else 1.0,
            "recall": round(right / n_ans, 4) if n_ans else 0.0,
            "false_answers": sum(1 for _, a in answered if not a),
        })
    return {"threshold": chosen, "points": points}


def format_categories(report: dict[str, Any], key: str = "categories") -> str:
    """One row per category: n, then the figures of CATEGORY_COLUMNS ("-" where they do not
    apply: retrieval and fact recall for unanswerable items, false answers for answerable)."""
    rows = category_rows(report, key)
    head = rows[0]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                       for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(report: dict[str, Any]) -> str:
    """A plain-text table of the metrics, the baseline beside them when there is one."""
    base = report.get("baseline")
    # "target" is the project's goal; the exit code follows only the --min-*/--max-* gates.
    head = ["metric", "ours"] + (["naive", "gap"] if base else []) + ["target", "vs target",
                                                                       "to target"]
    rows = [head]
    for m in METRICS:
        ours = float(report[m.group][m.key])
        row = [m.short, m.fmt(ours)]
        if base:
            theirs = float(base[m.group][m.key])
            row += [m.fmt(theirs), m.fmt_gap(ours - theirs)]
        ok = m.passes(ours)
        row += [m.fmt_target(), "" if ok is None else ("met" if ok else "below"),
                "" if m.target is None else m.fmt_gap(ours - m.target)]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for i, r in enumerate(rows):
        cells = [c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths,
                                                                                    strict=True))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    meta = report.get("meta", {})
    ab = report["abstention"]
    lines.insert(0, f"{meta.get('n_items', len(report.get('items', [])))} questions "
                    f"({ab['n_answerable']} answerable, {ab['n_unanswerable']} not), "
                    f"mode {meta.get('mode', '?')}, k {meta.get('k', '?')}")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``assistant eval``."""
    def positive(v: str) -> int:
        n = int(v)
        if n < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
        return n

    from assistant.answer.modes import MODE_NAMES

    p.add_argument("--qa", metavar="FILE", action="append",
                   help="Q&A set (JSON lines; any category name; history as earlier questions);"
                        " repeat for several (default: corpus/eval/known_qa.jsonl, user_qa.jsonl, "
                        "blind_qa.jsonl and tune_qa.jsonl when present)")
    p.add_argument("--pdf-qa", metavar="FILE",
                   help="questions over PDFs from Debian packages: ingest them into a temporary "
                        "index, ask each, report fact recall, page and printed label")
    p.add_argument("--split", choices=["test", "tune", "all"], default="test",
                   help="which part of the set: test (default; nothing is tuned on it), tune, "
                        "or all")
    p.add_argument("--mode", choices=list(MODE_NAMES), default=None)
    p.add_argument("--k", type=positive, default=None, help="passages given to the answer step")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--report", metavar="PATH.html", help="write a readable HTML report")
    p.add_argument("--baseline", choices=["naive"], help="also run a textbook LangChain pipeline")
    p.add_argument("--limit", type=positive, metavar="N", help="only the first N questions")
    for m in METRICS:
        if m.flag:
            p.add_argument("--" + m.flag.replace("_", "-"), type=float, metavar="X",
                           dest=m.flag, help=f"exit 1 unless {m.short} {m.op} X")
    from assistant.evaluation.compare import add_arguments as add_compare_arguments
    from assistant.evaluation.drafts import add_arguments as add_draft_arguments

    add_draft_arguments(p)
    add_compare_arguments(p)


DEFAULT_SETS = ("known_qa.jsonl", "user_qa.jsonl", "blind_qa.jsonl", "tune_qa.jsonl")


def default_sets(settings: Settings) -> list[Path]:
    """The bundled Q&A sets: the known set, the set written the way users ask, the blind set
    written by someone who saw neither the code nor the other sets (test part only), and the
    extra tuning items written the same way (tune part only: the test part is unchanged)."""
    folder = settings.corpus_path / "eval"
    return [folder / n for n in DEFAULT_SETS if (folder / n).exists()] or [
        folder / "known_qa.jsonl"]


def _other_run(args: argparse.Namespace, settings: Settings) -> int | None:
    """``eval --drafts``, ``--pdf-qa`` and ``--compare`` have runs of their own."""
    if getattr(args, "drafts", False):
        from assistant.evaluation.drafts import run_cli as run_drafts

        return run_drafts(args, settings)
    if getattr(args, "pdf_qa", None):
        from assistant.evaluation.pdf_qa import run_cli as run_pdf

        return run_pdf(args, settings)
    if getattr(args, "compare", None) is not None:
        from assistant.evaluation.compare import run_cli as run_compare

        return run_compare(args, settings)
    return None


def _load_sets(qa_paths: Sequence[Path], settings: Settings,
               ) -> tuple[list[QAItem], dict[str, str]]:
    """Every item of the Q&A files, and each item id's file (to say how many each gave); item
    ids must not repeat across the files."""
    items: list[QAItem] = []
    origin: dict[str, str] = {}
    for qa_path in qa_paths:
        loaded = load_qa(qa_path, settings)
        items.extend(loaded)
        origin.update({it.id: str(qa_path) for it in loaded})
    ids = [it.id for it in items]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"Item ids repeat across the Q&A files: {', '.join(dup[:5])}")
    return items, origin


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval``: run the set, print the summary, write the reports, check thresholds."""
    other = _other_run(args, settings)
    if other is not None:
        return other
    from tqdm import tqdm

    from assistant.answer import Assistant

    qa_paths = [Path(q) for q in (getattr(args, "qa", None) or [])] or default_sets(settings)
    items, origin = _load_sets(qa_paths, settings)
    split = getattr(args, "split", "all") or "all"
    items = select_split(items, split)
    if getattr(args, "limit", None):
        items = items[: args.limit]
    if not items:
        raise InputError(f"No item of the Q&A set is in the {split} part; use --split all")
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    mode, k = getattr(args, "mode", None) or settings.mode, settings.k

    def bar(desc: str) -> Callable[[Iterable[QAItem]], Iterable[QAItem]]:
        return lambda it: tqdm(it, desc=desc, total=len(items), unit="q", file=sys.stderr)

    results = run_items(items, assistant, mode, k, progress=bar("Evaluating"))
    counts = {str(q): sum(origin[it.id] == str(q) for it in items) for q in qa_paths}
    meta = {
        # only the files that gave items to this part, and how many each gave
        "qa_files": [f for f, n in counts.items() if n],
        "qa_counts": {f: n for f, n in counts.items() if n},
        "split": split,
        "n_items": len(items),
        "mode": mode,
        "k": k,
        "threshold": getattr(assistant, "threshold", None),
        "corpus_fingerprint": assistant.index.fingerprint(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings.public_dict(),
    }
    base_results = base_meta = None
    if getattr(args, "baseline", None) == "naive":
        naive = NaiveBaseline(settings, embeddings=assistant.index.embeddings)
        try:
            base_results = run_items(items, naive, progress=bar("Naive baseline"))
        finally:
            naive.close()
        base_meta = {"name": "naive", "chunks": naive.chunks,
                     "pipeline": "RecursiveCharacterTextSplitter(1000, 200) + Chroma dense top-4; "
                                 "answer = top passage"}
    report = build_report(results, meta, base_results, base_meta)
    print(format_summary(report))
    print()
    print(format_categories(report))
    if base_results is not None:
        print("\nnaive baseline, by category:")
        print(format_categories(report["baseline"]))
    if getattr(args, "json", None):
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"JSON report: {out}")
    if getattr(args, "report", None):
        from assistant.evaluation.html_report import write_html

        write_html(report, Path(args.report))
        print(f"HTML report: {args.report}")
    thresholds = {m.flag: getattr(args, m.flag, None) for m in METRICS if m.flag}
    lines = gate_lines(report, thresholds)
    if lines:
        print("\nregression gate (a little below today's figures; the targets are the goal):")
        print("\n".join(lines))
    missed = check_thresholds(report, thresholds)
    for msg in missed:
        print(f"threshold missed: {msg}")
    return 1 if missed else 0
