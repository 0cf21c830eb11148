"""``assistant compare``: the matrix of cited positions, printed, as JSON, Markdown or Word."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import IndexError_, InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--topic", action="append", metavar="TEXT",
                   help="a topic to compare (repeatable); without it, the default topics of "
                        "corpus/compare.toml")
    p.add_argument("--countries", metavar="AM,GE",
                   help="columns, comma-separated (default: every indexed one of AM, GE, EU)")
    p.add_argument("--json", action="store_true", help="print the matrix as JSON")
    p.add_argument("--markdown", metavar="FILE.md", help="write the table and references")
    p.add_argument("--docx", metavar="FILE.docx", help="write the table and references (Word)")


def _bar(total_hint: int) -> Any:
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Comparing", unit="cell", file=sys.stderr)
        bar.set_postfix_str(label[:40])
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _writable(path: str) -> Path:
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out


def run_compare(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer import Assistant
    from assistant.compare import (
        check_count,
        compare,
        default_topics,
        indexed_countries,
        parse_countries,
        to_markdown,
        typed_topics,
        write_docx,
    )
    from assistant.compare.export import cell_parts, country_name, reference_line

    topics = check_count(typed_topics(args.topic, settings) if args.topic
                         else default_topics(settings))
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    countries = (parse_countries(args.countries) if args.countries else
                 [c for c in indexed_countries(assistant) if c in {"AM", "GE", "EU"}])
    matrix = compare(assistant, topics, countries, progress=_bar(len(topics) * len(countries)))
    if args.markdown:
        _writable(args.markdown).write_text(to_markdown(matrix), encoding="utf-8")
    if args.docx:
        write_docx(matrix, _writable(args.docx))
    if args.json:
        print(json.dumps(matrix.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for r in matrix.rows:
        print(f"## {r.topic.label}")
        for c in matrix.countries:
            cell = r.cells[c]
            parts = cell_parts(cell)
            print(f"  {country_name(c)}: {parts[0].text}")
            closest = {q.n for q in cell.closest}
            for q in cell.citations:
                print(f"    {reference_line(q, q.n in closest)}")
        print()
    for label, path in (("Markdown", args.markdown), ("Word", args.docx)):
        if path:
            print(f"{label}: {path}")
    print(f"{len(matrix.rows)} topics × {len(matrix.countries)} countries in "
          f"{matrix.timings_ms['total_ms'] / 1000:.1f} s", file=sys.stderr)
    return 0
