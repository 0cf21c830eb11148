"""Compare countries: each topic asked of each country's documents, one cited cell per answer.

Sits after the answer step (it reads each cell with it), beside ``check``, and
before evaluation, the page and the command line. May import: the shared top, ``answer``,
``retrieve`` and ``store``.

- ``topics``  the rows: ``corpus/compare.toml`` and topics a user types
- ``cells``   one cell: the answer step's reading of a topic in one country, and its decision
              (status from the calibrated span probability, quotes that state a position)
- ``matrix``  cells with verified quotes of the cell's country only, the matrix
- ``export``  the cell texts, Markdown and Word, with one reference list
- ``cli``     ``assistant compare``
"""

from assistant.compare.export import cell_parts, cell_text, to_markdown, write_docx
from assistant.compare.matrix import (
    ADDRESSED,
    NOT_ADDRESSED,
    Cell,
    Matrix,
    Row,
    cell_of,
    check_countries,
    compare,
    indexed_countries,
    parse_countries,
)
from assistant.compare.topics import Topic, check_count, default_topics, typed_topics

__all__ = [
    "ADDRESSED",
    "NOT_ADDRESSED",
    "Cell",
    "Matrix",
    "Row",
    "Topic",
    "cell_of",
    "cell_parts",
    "cell_text",
    "check_count",
    "check_countries",
    "compare",
    "default_topics",
    "indexed_countries",
    "parse_countries",
    "to_markdown",
    "typed_topics",
    "write_docx",
]
