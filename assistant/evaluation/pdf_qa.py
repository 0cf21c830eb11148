"""Questions over real PDFs no one here tuned on: ``assistant eval --pdf-qa FILE``.

Each line of FILE names a PDF that a Debian documentation package installs, a question, its
facts, the 1-based page and the printed label where the answer is (or ``"answerable": false``):

    {"id": "...", "package": "glpk-doc", "pdf": "/usr/share/doc/glpk-doc/gmpl.pdf",
     "question": "...", "facts": [["..."]], "quote": "...", "page": 12, "label": "12",
     "answerable": true, "split": "test"}

The PDFs are ingested into a temporary index (nothing of the project's own index is touched),
every question is asked in extractive mode, and for each: the outcome, fact recall of the
answer, and whether the cited passage's page and printed label are the expected ones (for an
``evidence`` outcome, the closest passage's highlighted sentence is what the page points at).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import InputError
from assistant.evaluation.qa import json_lines
from assistant.types import Answer

REQUIRED = ("id", "pdf", "question", "facts", "answerable")


@dataclass(frozen=True)
class PdfItem:
    id: str
    package: str
    pdf: Path
    question: str
    facts: tuple[tuple[str, ...], ...]
    page: int | None
    label: str | None
    answerable: bool


def load_pdf_qa(path: Path) -> list[PdfItem]:
    """The items of FILE, or InputError listing every problem (a missing PDF says which
    package installs it)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"No PDF question file at {path}") from exc
    items, problems = [], []
    for n, row, problem in json_lines(lines):
        if problem:
            problems.append(f"line {n}: {problem}")
            continue
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            problems.append(f"line {n}: missing field(s) {', '.join(missing)}")
            continue
        pdf = Path(row["pdf"])
        if not pdf.is_file():
            pkg = row.get("package") or "the package that installs it"
            problems.append(f"line {n}: {pdf} is missing; install it: apt-get install -y {pkg}")
            continue
        items.append(PdfItem(str(row["id"]), str(row.get("package", "")), pdf,
                             str(row["question"]), tuple(tuple(f) for f in row["facts"]),
                             row.get("page"), row.get("label"), bool(row["answerable"])))
    if problems:
        raise InputError(f"{path} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    if not items:
        raise InputError(f"{path} has no question")
    return items


def cited_page(answer: Answer) -> tuple[int | None, str | None]:
    """The page and printed label the answer points at: its first citation, or for evidence
    the closest passage's first highlighted sentence (else the passage's first page)."""
    if answer.citations:
        c = answer.citations[0]
        return c.page, c.page_label
    if answer.highlights:
        h = answer.highlights[0]
        return h.page, h.page_label
    if answer.outcome == "evidence" and answer.passages:
        p = answer.passages[0].passage
        return p.page, p.page_label
    return None, None


def score_item(item: PdfItem, answer: Answer) -> dict[str, Any]:
    from assistant.evaluation.metrics import has_fact

    page, label = cited_page(answer)
    shown = answer.text if answer.outcome == "answer" else (
        answer.passages[0].passage.text if answer.outcome == "evidence" and answer.passages
        else "")
    facts = item.facts
    return {
        "id": item.id, "package": item.package, "question": item.question,
        "answerable": item.answerable, "outcome": answer.outcome,
        "probability": answer.probability,
        "fact_recall": (sum(has_fact(answer.text, f) for f in facts) / len(facts)
                        if facts and answer.outcome == "answer" else 0.0),
        "evidence_recall": sum(has_fact(shown, f) for f in facts) / len(facts) if facts else 0.0,
        "page": page, "label": label, "expected_page": item.page, "expected_label": item.label,
        "right_page": item.answerable and page == item.page,
        "right_label": item.answerable and label is not None and str(label) == str(item.label),
        "quote": answer.citations[0].quote if answer.citations else "",
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    n = len(ans) or 1
    return {
        "n_answerable": len(ans), "n_unanswerable": len(una),
        "fact_recall": sum(r["fact_recall"] for r in ans) / n,
        "evidence_recall": sum(r["evidence_recall"] for r in ans) / n,
        "right_page_and_label": sum(r["right_page"] and r["right_label"] for r in ans),
        "right_page": sum(bool(r["right_page"]) for r in ans),
        "answered": sum(r["outcome"] == "answer" for r in ans),
        "false_answers": sum(r["outcome"] == "answer" for r in una),
    }


def run(items: list[PdfItem], settings: Settings) -> dict[str, Any]:
    """Ingest the PDFs into a temporary index, ask every question, score each."""
    from assistant.answer import Assistant
    from assistant.store.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="pdf-qa-") as tmp:
        root = Path(tmp)
        (root / "corpus").mkdir()
        s = settings.model_copy(update={
            "corpus_dir": root / "corpus", "index_dir": root / "index",
            "data_dir": root / "data", "collection": f"pdfqa_{uuid.uuid4().hex[:10]}",
            "chroma_url": None, "uploads": True})
        s.manifest_path.write_text("", encoding="utf-8")  # no manifest documents: PDFs only
        pdfs = list(dict.fromkeys(it.pdf for it in items))
        t = time.perf_counter()
        report = ingest(s, paths=pdfs)
        ingest_s = time.perf_counter() - t
        if report.failed:
            raise InputError(f"These PDFs could not be ingested: {report.failed}")
        assistant = Assistant(s)
        rows = []
        for it in items:
            answer = assistant.ask(it.question, mode="extractive")
            rows.append(score_item(it, answer))
    return {"summary": summarise(rows), "items": rows, "pdfs": [str(p) for p in pdfs],
            "ingest_s": round(ingest_s, 1)}


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    items = load_pdf_qa(Path(args.pdf_qa))
    result = run(items, settings)
    s = result["summary"]
    for r in result["items"]:
        mark = "ok " if r["right_page"] and r["right_label"] else (
            "-  " if not r["answerable"] else "NO ")
        print(f"{mark}{r['id']:10s} {r['outcome']:8s} page {r['page']} label {r['label']} "
              f"(expected {r['expected_page']} / {r['expected_label']}) "
              f"facts {r['fact_recall']:.2f}")
    print(f"\n{s['n_answerable']} answerable: right page and label {s['right_page_and_label']}"
          f"/{s['n_answerable']}, answered {s['answered']}, fact recall "
          f"{s['fact_recall']:.2f}, evidence recall {s['evidence_recall']:.2f}; "
          f"{s['n_unanswerable']} unanswerable: false answers {s['false_answers']}; ingest "
          f"{result['ingest_s']} s")
    if getattr(args, "json", None):
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"JSON report: {out}")
    return 0
