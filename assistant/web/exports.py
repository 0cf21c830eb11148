"""Answers as files a user takes away: Markdown and Word, one answer or the whole conversation.

The reference style itself is in :mod:`assistant.types` (``answer_markdown``, ``format_reference``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.types import (
    Answer,
    answer_markdown,
    answer_text,
    cited,
    export_markdown,
    export_text,
    question_lines,
    reference_line,
)


def conversation_markdown(answers: Sequence[Answer], title: str = "Conversation") -> str:
    """Every question, its answer and its references, in order (a .md file: document and user
    text sanitised and escaped)."""
    out = [f"# {export_markdown(title)}", ""]
    for i, a in enumerate(answers, 1):
        out += [f"## {i}. {export_markdown(a.question)}", "",
                answer_markdown(a, markdown_file=True, question=False).rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


def write_docx(answers: Sequence[Answer], path: Path, title: str | None = None) -> Path:
    """The answers (one, or a whole conversation) as a Word file with the same text as Markdown."""
    from docx import Document

    doc = Document()
    if title:
        doc.add_heading(export_text(title), level=1)
    for i, a in enumerate(answers, 1):
        heading = len(answers) > 1 or bool(title)
        if heading:
            doc.add_heading(f"{i}. {export_text(a.question)}", level=2)
        for line in question_lines(a, asked=not heading):
            doc.add_paragraph(line)
        for para in answer_text(a).split("\n\n"):
            doc.add_paragraph(para)
        refs = cited(a)
        if refs:
            doc.add_heading("References", level=3)
            for c in refs:
                doc.add_paragraph(reference_line(c))
    doc.save(str(path))
    return path


EXPORT_KINDS = ("answer-md", "answer-docx", "conversation-md", "conversation-docx")


def write_export(kind: str, answers: Sequence[Answer], folder: Path) -> Path:
    """One download, written when it is asked for: the last answer (``answer-md``,
    ``answer-docx``) or the whole conversation (``conversation-md``, ``conversation-docx``)."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export {kind!r}: one of {', '.join(EXPORT_KINDS)}")
    folder.mkdir(parents=True, exist_ok=True)
    what, fmt = kind.split("-")
    path = folder / f"{what}-{len(answers)}.{fmt}"
    if kind == "answer-md":
        path.write_text(answer_markdown(answers[-1], markdown_file=True), encoding="utf-8")
    elif kind == "conversation-md":
        path.write_text(conversation_markdown(answers), encoding="utf-8")
    elif kind == "answer-docx":
        write_docx(answers[-1:], path)
    else:
        write_docx(answers, path, title="Conversation")
    return path

