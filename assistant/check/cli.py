"""``assistant check FILE|-``: read a draft, check it, print or write the reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import IndexError_, InputError


def _bar() -> Any:
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Checking", unit="sentence", file=sys.stderr,
                       disable=total < 20)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _write(path: str, text: str) -> None:
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc


def run_check(args: argparse.Namespace, settings: Settings, filters: dict[str, Any]) -> int:
    from assistant.answer import Assistant
    from assistant.check.draft import check_draft
    from assistant.check.reading import read_draft

    if args.file == "-":
        raw = sys.stdin.buffer.read(int(settings.max_file_mb * 1048576) + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"stdin is not UTF-8 text (byte {exc.start})") from exc
        source = "stdin"
    else:
        text = read_draft(Path(args.file), settings.max_file_mb)
        source = Path(args.file).name
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    report = check_draft(assistant, text, filters or None, progress=_bar(), source=source)
    if args.report:
        _write(args.report, report.to_html())
    if args.annotated:
        _write(args.annotated, report.to_markdown())
    if args.json:
        print(report.to_json())
        return 0
    for c in report.claims:
        if c.status == "not a claim":
            if c.resolution:  # a reference line: which indexed document it names
                print(f"[reference] {' '.join(c.text.split())}\n    {c.resolution}")
            continue
        print(f"[{c.status}] {' '.join(c.text.split())}")
        for e in c.evidence:
            mark = "" if e.verified else " (quote NOT verified)"
            print(f"    {e.reference()}{mark}: \u201c{e.quote}\u201d")
        for x in c.comparisons:
            print(f"    \u2717 {x.kind}: {x.text()}")
        for m in c.missing:
            print(f"    not found: {m}")
        for e in c.closest:
            print(closest_line(e))
        for r in c.references:
            right = f"; right: {r.right}" if r.right and r.status != "right" else ""
            note = f" ({r.note})" if r.note else ""
            print(f"    reference {r.marker}: {r.status}{right}{note}")
    print(report.summary())
    for label, path in (("HTML report", args.report), ("Annotated draft", args.annotated)):
        if path:
            print(f"{label}: {path}")
    return 0


def closest_line(e: Any) -> str:
    """A closest passage, quoted whole: a trial checking "50 institutions, including 22
    scientific institutions" saw the quote cut at 160 characters, before the 22, and closed
    with a quotation mark as if it were complete."""
    return f"    closest (not support): {e.reference()}: \u201c{e.quote}\u201d"
