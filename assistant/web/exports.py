"""Answers as files a user takes away: Markdown and Word, one answer or the whole conversation.

The reference style itself is in :mod:`assistant.types` (``answer_markdown``, ``format_reference``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.text import display
from assistant.types import Answer, answer_markdown, answer_text, cited, reference_line


def conversation_markdown(answers: Sequence[Answer], title: str = "Conversation") -> str:
    """Every question, its answer and its references, in order."""
    out = [f"# {title}", ""]
    for i, a in enumerate(answers, 1):
        out += [f"## {i}. {display(a.question)}", "", answer_markdown(a).rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


def write_docx(answers: Sequence[Answer], path: Path, title: str | None = None) -> Path:
    """The answers (one, or a whole conversation) as a Word file with the same text as Markdown."""
    from docx import Document

    doc = Document()
    if title:
        doc.add_heading(title, level=1)
    for i, a in enumerate(answers, 1):
        if len(answers) > 1 or title:
            doc.add_heading(f"{i}. {display(a.question)}", level=2)
        for para in answer_text(a).split("\n\n"):
            doc.add_paragraph(para)
        refs = cited(a)
        if refs:
            doc.add_heading("References", level=3)
            for c in refs:
                doc.add_paragraph(reference_line(c))
    doc.save(str(path))
    return path


def export_files(answers: Sequence[Answer], folder: Path) -> tuple[Path, Path, Path, Path]:
    """The last answer and the whole conversation as Markdown and Word files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    turn = len(answers)
    md = folder / f"answer-{turn}.md"
    md.write_text(answer_markdown(answers[-1]), encoding="utf-8")
    docx = write_docx(answers[-1:], folder / f"answer-{turn}.docx")
    conv_md = folder / f"conversation-{turn}.md"
    conv_md.write_text(conversation_markdown(answers), encoding="utf-8")
    conv_docx = write_docx(answers, folder / f"conversation-{turn}.docx", title="Conversation")
    return md, docx, conv_md, conv_docx
