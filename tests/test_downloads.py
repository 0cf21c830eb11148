"""The chat's downloads (issue 19): nothing is written per answer; a file is written on its click.

An answer used to write four files (two .md, two .docx) before the next question could be
asked; now the buttons only appear, and each writes its own file, with the same content, when
it is clicked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import handler_steps

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import ingest

ARMENIAN_Q = "How many scientific institutions took part in the Armenian survey?"
GEORGIAN_Q = "When was the Georgian questionnaire available?"


@pytest.fixture
def page(settings: Settings, bow_embeddings: Any, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Path]:
    """The page's handlers by name, and the folder its downloads are written under."""
    from assistant.answer import Assistant
    from assistant.web.page import build_app

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # the page's exports folder goes here
    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    # The downloads are tested, not the answer model's calibration on a fake embedding: every
    # best span is the answer, so the conversation has answers with references.
    settings.answer_threshold = 0.0
    app = build_app(settings, Assistant(settings, index=index))
    fns = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values() if f.fn}
    fns.update({f.api_name: f.fn for f in app.fns.values() if f.api_name})
    (exports_dir,) = temp.glob("assistant-exports-*")
    return fns, exports_dir


def _conversation(fns: dict[str, Any]) -> dict[str, Any]:
    state = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive", None)[-1][2]
    return handler_steps(fns["ask"], GEORGIAN_Q, [], [], "extractive", state)[-1][2]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_an_answer_shows_the_downloads_without_writing_a_file(page: Any) -> None:
    fns, exports_dir = page
    first = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive", None)[-1][2]
    box, *buttons = fns["exports"](first)
    assert "References" in box["value"]
    assert [b["visible"] for b in buttons] == [True] * 4
    assert _files(exports_dir) == []


def test_the_downloads_are_not_sent_again_while_they_show(page: Any) -> None:
    """Shown with a conversation's first answer, hidden by New conversation: a later answer
    leaves them as they are (four component updates less a question for gradio)."""
    fns, _ = page
    state = _conversation(fns)
    box, *buttons = fns["exports"](state)
    assert box["label"].startswith("Answer 2 with references")
    assert buttons == [{"__type__": "update"}] * 4  # gr.skip(): unchanged
    _chat, _sources, cleared, *_ = fns["clear"]()
    _box, *hidden = fns["exports"](cleared)
    assert [b["visible"] for b in hidden] == [False] * 4


def test_each_download_is_written_when_clicked_with_the_same_content(page: Any) -> None:
    from docx import Document

    from assistant.types import answer_markdown
    from assistant.web.exports import conversation_markdown

    fns, exports_dir = page
    state = _conversation(fns)
    answers = state["answers"]
    got = {kind: Path(fns[f"download_{kind}"](state)["value"])
           for kind in ("answer_md", "answer_docx", "conversation_md", "conversation_docx")}
    assert sorted(p.name for p in got.values()) == [
        "answer-2.docx", "answer-2.md", "conversation-2.docx", "conversation-2.md"]
    assert _files(exports_dir) == sorted(got.values())
    assert got["answer_md"].read_text(encoding="utf-8") == answer_markdown(
        answers[-1], markdown_file=True)
    assert got["conversation_md"].read_text(encoding="utf-8") == conversation_markdown(answers)
    one = "\n".join(p.text for p in Document(str(got["answer_docx"])).paragraphs)
    both = "\n".join(p.text for p in Document(str(got["conversation_docx"])).paragraphs)
    assert one.startswith(f"Question: {GEORGIAN_Q}")  # the answer on screen and its question
    assert ARMENIAN_Q not in one
    assert "References" in one
    assert ARMENIAN_Q in both
    assert GEORGIAN_Q in both


def test_a_download_before_any_answer_says_to_ask_first(page: Any) -> None:
    fns, exports_dir = page
    with pytest.warns(UserWarning, match="Ask a question first"):
        out = fns["download_answer_md"](None)
    assert out["value"] is None
    assert _files(exports_dir) == []
