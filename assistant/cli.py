"""The command line: ``assistant ingest | corpus | search | ask | check | compare | eval | serve``.

Errors print one line (no traceback) and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assistant.answer.modes import MODE_NAMES
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.prompts import OUTCOME_LABELS
from assistant.safety import redact

if TYPE_CHECKING:
    from assistant.types import Answer

EXIT_ERROR = 1
EXIT_USAGE = 2


def _settings(args: argparse.Namespace) -> Settings:
    from assistant.config import get_settings

    overrides: dict[str, Any] = {}
    for key in ("k", "mode"):
        val = getattr(args, key, None)
        if val is not None:
            overrides[key] = val
    return get_settings(**overrides)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "country", None):
        out["country"] = args.country
    if getattr(args, "doc", None):
        out["doc_id"] = args.doc
    if getattr(args, "doc_type", None):
        out["doc_type"] = args.doc_type
    return out


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--country", action="append", choices=["AM", "GE", "EU"],
                   help="only documents of this country (repeatable)")
    p.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document id")
    p.add_argument("--doc-type", action="append",
                   choices=["report", "recommendation", "law", "other"])


class _ProgressBar:
    """A tqdm bar on stderr, made on the first update; ``close`` ends its line."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: Any = None

    def __call__(self, done: int, total: int, label: str) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="chunk", file=sys.stderr)
        self.bar.set_postfix_str(label)
        self.bar.n = done
        self.bar.refresh()
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress_bar(desc: str) -> _ProgressBar:
    return _ProgressBar(desc)


# -- commands ----------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.store.ingest import ingest

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] if args.paths else None
    bar = _progress_bar("Embedding")
    try:
        report = ingest(settings, paths=paths, progress=bar, replace_existing=args.replace,
                        rebuild=args.rebuild)
    finally:
        bar.close()  # an error line must not be glued to the bar
    for path, reason in report.failed.items():
        print(f"skipped {path}: {reason}", file=sys.stderr)
    for path, problems in report.warnings.items():
        shown = problems[:10] + ([f"… and {len(problems) - 10} more"] if len(problems) > 10 else [])
        for problem in shown:
            print(f"warning {path}: {problem}", file=sys.stderr)
    for note in report.notes:
        print(note, file=sys.stderr)
    print(report.summary())
    if report.chunks_added or report.removed or report.updated:
        _prepare_start(settings)
    return 0 if report.ok else EXIT_ERROR


def _prepare_start(settings: Settings) -> None:
    """Save the lexical index and the sentence vectors of the new index beside it, so the next
    start of the page or ``ask`` reads them instead of building them (at 50x the bundled corpus
    the first start after an ingest took 12 s instead of 3 s)."""
    import time

    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index

    t = time.perf_counter()
    try:
        HybridRetriever(Index(settings), settings).lexicon()
    except AssistantError as exc:  # the next start builds it instead
        print(f"warning: the index was not prepared for the next start: {exc}", file=sys.stderr)
        return
    print(f"Prepared for the next start in {time.perf_counter() - t:.1f} s", file=sys.stderr)


def cmd_corpus_list(args: argparse.Namespace) -> int:
    from assistant.store.index import Index
    from assistant.store.ingest import corpus_status

    settings = _settings(args)
    rows = [
        {"id": d.entry.info.id, "country": d.entry.info.country, "type": d.entry.info.doc_type,
         "state": d.state, "title": d.entry.info.title, "source": d.entry.info.source,
         "path": str(d.entry.path)}
        for d in corpus_status(settings, Index(settings))
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        from assistant.types import COUNTRIES

        for r in rows:
            country = COUNTRIES.get(r["country"], r["country"])  # as the page names it
            print(f"{r['id']:<40} {country:<14} {r['type']:<15} {r['state']}")
    return 0


def cmd_corpus_fetch(args: argparse.Namespace) -> int:
    from assistant.documents.fetch import fetch_missing

    settings = _settings(args)
    report = fetch_missing(settings, ids=args.ids or None, force=args.force)
    for line in report.lines():
        print(line)
    return 0 if report.ok else EXIT_ERROR


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.answer import check_question
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index

    settings = _settings(args)
    q = check_question(args.query, settings)
    retriever = HybridRetriever(Index(settings), settings)
    results = retriever.retrieve(q, _filters(args), k=args.k)
    if args.json:
        print(json.dumps({"query": q, "results": [r.to_dict() for r in results]},
                         indent=2, ensure_ascii=False))
        return 0
    if not results:
        print("No passages: the index is empty. Run: assistant ingest")
    for r in results:
        p = r.passage
        page = f", {p.page_display()}" if p.page is not None else ""
        flag = "" if r.evidence else "  (below relevance floor)"
        print(f"[{r.rank}] {p.doc_id} | {p.section or '-'}{page} | score {r.score:.4f} "
              f"cos {r.dense if r.dense is not None else float('nan'):.3f}{flag}")
        print(f"    {p.title}")
        body = p.text.strip().replace("\n", "\n    ")
        print(f"    {body}\n")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answer import Assistant

    settings = _settings(args)
    audit = Path(args.audit_log) if args.audit_log else None
    assistant = Assistant(settings, audit_log=audit)
    answer = None
    printed = 0
    history = [(q, "") for q in (getattr(args, "history", None) or [])]
    for answer in assistant.ask_stream(args.question, history=history, filters=_filters(args),
                                       mode=args.mode):
        if not args.json and answer.mode == "llm" and not answer.citations and not answer.abstained:
            sys.stdout.write(answer.text[printed:])
            sys.stdout.flush()
            printed = len(answer.text)
    assert answer is not None
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    if printed:
        sys.stdout.write("\n\n")
    print(f"[{OUTCOME_LABELS[answer.outcome]}]")
    if not printed:
        print(answer.text + "\n")
    _print_sources(answer)
    return 0


def _print_sources(answer: Answer) -> None:
    """What the terminal shows under an answer: its citations, or the closest passage(s) of an
    evidence outcome (each country's, in a comparison), or the closest passages of a refusal."""
    from assistant.types import COUNTRIES, format_reference

    if answer.outcome == "evidence":
        marked = {h.passage.id for h in answer.highlights}
        per_country = len(marked) > 1
        firsts = ([sp for sp in answer.passages if sp.passage.id in marked] if per_country
                  else answer.passages[:1])
        for top in firsts:
            p = top.passage
            marks = " ".join(f"\u00bb{h.display_quote}\u00ab" + (f" [{h.n}]" if per_country
                                                                  else "")
                             for h in answer.highlights if h.passage.id == p.id)
            label = (f"Closest passage for {COUNTRIES.get(p.country, p.country)}"
                     if per_country else "Closest passage")
            print(f"{label}: {p.location()}\n    " + "\n    ".join(_readable_lines(p.text)))
            if marks:
                print(f"Highlighted: {marks}")
        for sp in answer.passages[len(firsts):]:
            print(f"  - also close: {sp.passage.location()}: "
                  f"{' '.join(_readable_lines(sp.passage.text))[:160]}…")
    elif answer.abstained:
        print("Closest passages (not an answer):")
        for sp in answer.passages:  # named as the page's cards name them (short titles)
            shown = " ".join(_readable_lines(sp.passage.text))[:160]
            print(f"  - {format_reference(sp.passage)}: {shown}…")
    else:
        for c in answer.citations:
            mark = "" if c.verified else " (quote NOT verified)"
            if not c.passage.official:
                mark += f" [{c.passage.origin_note()}]"
            print(f"[{c.n}] {c.location()}{mark}\n    \u201c{c.display_quote}\u201d")
        for h in answer.highlights:  # a comparison: a country not answered, its closest quote
            print(f"[{h.n}] {h.location()} (closest passage for "
                  f"{COUNTRIES.get(h.passage.country, h.passage.country)}, not an answer)"
                  f"\n    \u201c{h.display_quote}\u201d")
        unsupported = [s.sentence for s in answer.support if not s.supported]
        if unsupported:
            print("\nNot supported by the cited passages:")
            for s in unsupported:
                print(f"  - {s}")


def cmd_index_compact(args: argparse.Namespace) -> int:
    from assistant.store.files import ingest_lock
    from assistant.store.index import Index

    settings = _settings(args)
    if settings.chroma_url:
        print("error: compaction works on an embedded index folder; a Chroma server compacts "
              "its own storage", file=sys.stderr)
        return EXIT_ERROR
    with ingest_lock(settings.index_path, settings.ingest_lock_timeout_s):
        before, after = Index(settings).compact()
    print(f"index compacted: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
          f"({settings.index_path})")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from assistant.check.cli import run_check

    return run_check(args, _settings(args), _filters(args))


def cmd_compare(args: argparse.Namespace) -> int:
    from assistant.compare.cli import run_compare

    return run_compare(args, _settings(args))


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation.run import run_cli

    return run_cli(args, _settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.config import get_settings
    from assistant.web.server import serve

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    serve(get_settings(**overrides))
    return 0


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Cited answers on micro-credential policy from the Micro-GEAR corpus.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the corpus (incremental), or add files to it")
    p.add_argument("paths", nargs="*", help="files to add (copied to the data folder)")
    p.add_argument("--rebuild", action="store_true",
                   help="empty the index and embed everything again (after a model change)")
    p.add_argument("--replace", action="store_true",
                   help="a file whose name is taken replaces the stored one (default: it is "
                   "stored beside it as NAME-2)")
    p.set_defaults(func=cmd_ingest)

    index_p = sub.add_parser("index", help="maintain the index")
    isub = index_p.add_subparsers(dest="index_command", required=True)
    p = isub.add_parser("compact", help="rewrite the index without the space of removed data")
    p.set_defaults(func=cmd_index_compact)

    corpus = sub.add_parser("corpus", help="list or fetch the corpus documents")
    csub = corpus.add_subparsers(dest="corpus_command", required=True)
    p = csub.add_parser("list", help="each manifest document with its state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_corpus_list)
    p = csub.add_parser("fetch", help="download missing documents from their official source")
    p.add_argument("ids", nargs="*", help="only these document ids")
    p.add_argument("--force", action="store_true", help="download even if the file is present")
    p.set_defaults(func=cmd_corpus_fetch)

    p = sub.add_parser("search", help="ranked passages with their provenance")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    _add_filter_args(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a cited answer, or a plain statement that there is none")
    p.add_argument("question")
    p.add_argument("--mode", choices=list(MODE_NAMES), default=None,
                   help="extractive (default), verify or llm (the last two need a model)")
    p.add_argument("--history", action="append", metavar="EARLIER_QUESTION",
                   help="an earlier question of the conversation (repeat, oldest first), so "
                        "that a follow-up such as 'and in Georgia?' can be understood")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--audit-log", metavar="PATH", help="append the audit record (JSON lines)")
    _add_filter_args(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", help="check every claim and reference of a draft")
    p.add_argument("file", metavar="FILE|-", help=".md, .txt, .docx or .pdf; - reads stdin")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.add_argument("--report", metavar="OUT.html", help="write the HTML report")
    p.add_argument("--annotated", metavar="OUT.md", help="write the annotated draft")
    _add_filter_args(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("compare", help="a matrix of cited positions, one column per country")
    from assistant.compare.cli import add_arguments as add_compare_arguments

    add_compare_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("eval", help="run the known Q&A set and report the metrics")
    try:
        from assistant.evaluation.run import add_arguments
    except ImportError:  # pragma: no cover - during development only
        pass
    else:
        add_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the chat page (127.0.0.1:7860 by default)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_serve)
    return parser


def settings_error(exc: ValidationError) -> str:
    """One line naming the environment variable that holds a bad setting."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(x) for x in err.get("loc", ())) or "settings"
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"ASSISTANT_{name.upper()}: {msg}")
    return "invalid setting " + "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.safety import install_log_redaction

    install_log_redaction(_safe_settings())
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except AssistantError as exc:
        print(f"error: {redact(str(exc), _safe_settings())}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as exc:
        print(f"error: {settings_error(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `assistant … | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except Exception as exc:  # a last resort: one line, never a traceback
        from assistant.store.files import disk_full_error

        full = disk_full_error(exc, Path.cwd(), 0)
        if full is not None:
            print(f"error: {full}", file=sys.stderr)
            return EXIT_ERROR
        print(f"error: unexpected {type(exc).__name__}: {redact(str(exc), _safe_settings())}",
              file=sys.stderr)
        return EXIT_ERROR


def _silence_stdout() -> None:
    """Point the standard output at /dev/null, so that Python's own flush at exit does not
    report the closed pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's stand-in)
        pass


def _safe_settings() -> Settings | None:
    """The settings, for redacting their secrets from an error line (None if they are bad)."""
    try:
        from assistant.config import get_settings

        return get_settings()
    except (ValidationError, AssistantError):
        return None


def _readable_lines(text: str) -> list[str]:
    """A passage as a terminal shows it: one line per line of the document, markup dropped
    (no ``####``, ``**`` or ``<sup>``), empty lines left out."""
    from assistant.text import display, without_heading_marks

    lines = (display(without_heading_marks(ln)) for ln in text.splitlines())
    return [ln for ln in lines if ln]


if __name__ == "__main__":
    sys.exit(main())
