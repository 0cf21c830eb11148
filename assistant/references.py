"""How a citation is written for a draft: one reference style for the page, the CLI and exports.

A reference reads like a policy-document citation::

    Micro-GEAR D1.1 Armenia (2024), II. Survey results › Question N8, p. 14

``format_reference`` builds it; ``answer_markdown`` and ``conversation_markdown`` give the
text a user pastes or downloads; ``write_docx`` gives the same as a Word file. Every text of a
document or a user that leaves this way goes through a sanitiser (``text.plain``: no tag survives)
and, in Markdown files, is escaped (``text.md_escape``: nothing renders as markup). The page a
citation points to is the page its quote is on (``Citation.page_display``); :func:`page_of`
gives the page a passage starts on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.text import display, md_escape, plain
from assistant.types import COUNTRIES, SECTION_SEP, Answer, Citation, Passage

_MARKER = re.compile(r"\[(\d{1,3})\]")


def page_of(passage: Passage) -> str | None:
    """The printed page a passage is on ("14", "iv"), or None where the document has no pages."""
    if passage.page is None:
        return None
    return passage.page_label or str(passage.page)


def short_title(passage: Passage) -> str:
    """The document as a reference names it: "Micro-GEAR D1.1 Armenia (2024)".

    A title of the form "Series: long subtitle" is cut to the series, and the country is
    added when the series does not name it (the D1.1 reports differ only by country). The
    year is added unless the title already holds it.
    """
    title = display(passage.title)
    head, sep, _ = title.partition(": ")
    name = head.strip() if sep and len(head.split()) >= 2 else title
    country = COUNTRIES.get(passage.country, "")
    if sep and name != title and passage.country in {"AM", "GE"} and country not in name:
        name = f"{name} {country}"
    if passage.year and str(passage.year) not in name:
        name = f"{name} ({passage.year})"
    return name


def section_path(passage: Passage) -> str:
    """The passage's full section path, markup dropped, joined with " › "."""
    parts = [display(s) for s in passage.section.split(SECTION_SEP.strip())]
    return SECTION_SEP.join(p for p in parts if p)


def format_reference(citation: Citation | Passage) -> str:
    """ "Micro-GEAR D1.1 Armenia (2024), II. Survey results › Question N8, p. 14".

    For a citation the page is the page its quote is on ("pp. 25–26" across a break); for a
    passage, the page(s) the passage covers.
    """
    p = citation.passage if isinstance(citation, Citation) else citation
    parts = [short_title(p)]
    section = section_path(p)
    if section:
        parts.append(section)
    pages = citation.page_display if isinstance(citation, Citation) else p.page_display()
    if pages:
        parts.append(pages)
    return ", ".join(parts)


Escape = Callable[[str], str]


def _text(s: str) -> str:
    """Plain text for pasting or for Word: markup dropped, every tag removed by the sanitiser."""
    return plain(display(s))


def _markdown(s: str) -> str:
    """Text inside a Markdown file: as :func:`_text`, then Markdown-significant marks escaped."""
    return md_escape(display(s))


def reference_line(c: Citation, esc: Escape = _text) -> str:
    """One numbered line of a reference list: [n] reference: “quote”; an upload says it is one."""
    note = "" if c.passage.official else f" ({c.passage.origin_note()})"
    return f"[{c.n}] {esc(format_reference(c))}{esc(note)}: \u201c{esc(c.quote)}\u201d"


def _keep_edges(x: str, esc: Escape) -> str:
    """``esc(x)`` with a space kept where ``x`` began or ended with one (beside a marker)."""
    body = esc(x)
    if not body:
        return " " if x[:1].isspace() else ""
    return (" " if x[:1].isspace() else "") + body + (" " if x[-1:].isspace() else "")


def answer_text(answer: Answer, esc: Escape = _text) -> str:
    """The answer's text as the page shows it, markup dropped, paragraphs kept.

    Citation markers ("[2]") are the program's own and are kept as they are."""
    paras = []
    for p in re.split(r"\n\s*\n", answer.text.strip()):
        pieces = _MARKER.split(p)  # text, number, text, number, ...
        out = "".join(_keep_edges(x, esc) if i % 2 == 0 else f"[{x}]"
                      for i, x in enumerate(pieces))
        paras.append(re.sub(r"\s+", " ", out).strip())
    return "\n\n".join(p for p in paras if p)


def cited(answer: Answer) -> list[Citation]:
    """The citations an answer's text refers to, in number order (an abstention has none)."""
    if answer.abstained:
        return []
    return sorted(answer.citations, key=lambda c: c.n)


def answer_markdown(answer: Answer, markdown_file: bool = False) -> str:
    """The answer and its numbered references, ready to paste into a draft (plain text), or,
    with ``markdown_file``, for a .md file (document and user text escaped)."""
    esc = _markdown if markdown_file else _text
    lines = [answer_text(answer, esc)]
    refs = cited(answer)
    if refs:
        lines += ["", "References", ""]
        lines += [reference_line(c, esc) for c in refs]
    return "\n".join(lines).strip() + "\n"


def conversation_markdown(answers: Sequence[Answer], title: str = "Conversation") -> str:
    """Every question, its answer and its references, in order (a .md file)."""
    out = [f"# {_markdown(title)}", ""]
    for i, a in enumerate(answers, 1):
        out += [f"## {i}. {_markdown(a.question)}", "",
                answer_markdown(a, markdown_file=True).rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


def write_docx(answers: Sequence[Answer], path: Path, title: str | None = None) -> Path:
    """The answers (one, or a whole conversation) as a Word file with the same text as Markdown."""
    from docx import Document

    doc = Document()
    if title:
        doc.add_heading(_text(title), level=1)
    for i, a in enumerate(answers, 1):
        if len(answers) > 1 or title:
            doc.add_heading(f"{i}. {_text(a.question)}", level=2)
        for para in answer_text(a).split("\n\n"):
            doc.add_paragraph(para)
        refs = cited(a)
        if refs:
            doc.add_heading("References", level=3)
            for c in refs:
                doc.add_paragraph(reference_line(c))
    doc.save(str(path))
    return path


def markers(text: str) -> list[int]:
    """The citation numbers in an answer's text, in order of first appearance."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen
