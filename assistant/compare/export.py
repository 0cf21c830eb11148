"""A comparison as the reader gets it: the cell texts, a Markdown file and a Word file.

The page, the Markdown and the .docx are written from the same :func:`cell_parts`, so a
download holds exactly the table shown. References are written in the chat's policy style
(``assistant.types.format_reference``). Markdown text is escaped with
:func:`assistant.text.escape_markdown`: a topic a user typed or a document title cannot add
HTML, links or table cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.compare.matrix import ADDRESSED, Cell, Matrix
from assistant.text import display, escape_markdown
from assistant.types import COUNTRIES, Citation, format_reference

TITLE = "Comparison"
CLOSEST = "Closest passage, not an answer:"
NOTHING_CLOSE = "No passage came close."
STATUS_TEXT = {ADDRESSED: "Addressed", "not addressed": "Not addressed"}


@dataclass(frozen=True)
class Part:
    """One piece of a cell: plain text, or a quote with its marker."""

    text: str
    n: int | None = None  # the marker of a quote

    def plain(self) -> str:
        return f"\u201c{self.text}\u201d [{self.n}]" if self.n is not None else self.text


def cell_parts(cell: Cell) -> list[Part]:
    """What a cell shows, in order: its status, then its quotes or its closest passage."""
    parts = [Part(STATUS_TEXT.get(cell.status, cell.status) + ".")]
    if cell.status == ADDRESSED:
        parts += [Part(display(q.quote), q.n) for q in cell.quotes]
    elif cell.closest:
        parts.append(Part(CLOSEST))
        parts += [Part(display(q.quote), q.n) for q in cell.closest]
    else:
        parts.append(Part(NOTHING_CLOSE))
    return parts


def cell_text(cell: Cell) -> str:
    """A cell as one line of plain text (what the page shows, without markup)."""
    return " ".join(p.plain() for p in cell_parts(cell))


def country_name(code: str) -> str:
    return COUNTRIES.get(code, code)


def title(matrix: Matrix) -> str:
    return f"{TITLE}: " + ", ".join(country_name(c) for c in matrix.countries)


def reference_line(c: Citation, closest: bool) -> str:
    """[n] reference: “quote” (a closest passage says it is not an answer)."""
    note = " (closest passage, not an answer)" if closest else ""
    if not c.passage.official:
        note += f" ({c.passage.origin_note()})"
    return f"[{c.n}] {format_reference(c)}{note}: \u201c{display(c.quote)}\u201d"


def references(matrix: Matrix) -> list[str]:
    """The reference list, in marker order."""
    closest = {c.n for r in matrix.rows for cell in r.cells.values() for c in cell.closest}
    return [reference_line(c, c.n in closest) for c in matrix.citations]


def to_markdown(matrix: Matrix) -> str:
    """The table and its reference list as Markdown, every text escaped."""
    head = ["Topic", *(country_name(c) for c in matrix.countries)]
    lines = [f"# {escape_markdown(title(matrix))}", "",
             "| " + " | ".join(escape_markdown(h) for h in head) + " |",
             "|" + "---|" * len(head)]
    for r in matrix.rows:
        cells = [escape_markdown(r.topic.label)]
        cells += [escape_markdown(cell_text(r.cells[c])) for c in matrix.countries]
        lines.append("| " + " | ".join(cells) + " |")
    refs = references(matrix)
    if refs:
        lines += ["", "## References", ""]
        lines += [escape_markdown(line) + "  " for line in refs]
    return "\n".join(lines).rstrip() + "\n"


def write_docx(matrix: Matrix, path: Path) -> Path:
    """The same table and reference list as a Word file."""
    from docx import Document

    doc = Document()
    doc.add_heading(title(matrix), level=1)
    table = doc.add_table(rows=1, cols=1 + len(matrix.countries))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells,
                          ["Topic", *(country_name(c) for c in matrix.countries)], strict=True):
        cell.text = text
    for r in matrix.rows:
        row = table.add_row().cells
        row[0].text = r.topic.label
        for i, c in enumerate(matrix.countries, 1):
            row[i].text = cell_text(r.cells[c])
    refs = references(matrix)
    if refs:
        doc.add_heading("References", level=2)
        for line in refs:
            doc.add_paragraph(line)
    doc.save(str(path))
    return path
