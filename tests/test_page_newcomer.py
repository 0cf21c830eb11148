"""A new user's trial of the page (session 8, branch uifix): a corrupt PDF's message said what
failed but not how to fix it, and the ready line never said that listed documents are missing.

Unit tests on the message and the line; the document panel's layout and focus are browser
tests in tests/test_ui_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from assistant.documents.pdf import read_pdf
from assistant.errors import DocumentError


def test_a_corrupt_pdf_says_how_to_fix_it(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(DocumentError) as got:
        read_pdf(bad)
    reason = got.value.reason
    assert reason.startswith("PDF cannot be read ("), reason  # what failed, as before
    assert "save or export it again" in reason, reason  # and how to fix it
    assert ".txt or .md file" in reason, reason


def test_the_upload_and_the_command_line_get_the_fix(tmp_path: Path) -> None:
    """The page's upload and `assistant ingest` both refuse a file through add_files."""
    from assistant.store.ingest import add_files

    s = make_settings(tmp_path)
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    failed = add_files([bad], s).failed
    assert "save or export it again" in failed[str(bad)], failed


def test_the_ready_line_says_listed_documents_are_missing() -> None:
    from assistant.web.catalog import ready_line

    line = ready_line(2, 5)
    assert line.startswith("Ready: 2 documents indexed"), line
    assert "5 listed documents not indexed (see Corpus)" in line, line
    assert len(line) <= 80, line  # two lines at most on a 390 px phone


def test_the_ready_line_with_nothing_missing_is_as_before() -> None:
    from assistant.web.catalog import ready_line

    assert ready_line(2, 0) == "Ready: 2 documents indexed."
    assert ready_line(1, 1) == "Ready: 1 document indexed; 1 listed document not indexed (see " \
                               "Corpus)."
