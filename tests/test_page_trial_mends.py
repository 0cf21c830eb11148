"""A new user's trial of the page (session 6, branch pagefix2): a second "Add to the library"
of a file already added, a follow-up's reading shown nowhere but the copy box, "1 chunks", the
upload's technical summary on the page, and the command line's long titles under a refusal.

Unit tests: the page's real handlers (real ingest in the upload's child process, bag-of-words
embeddings), the report and message functions on fakes. The draft check's stray bar and the
cleared uploader are browser tests in tests/test_ui_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import handler_steps

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import IngestReport, ingest
from assistant.types import Answer, Passage, ScoredPassage
from assistant.web.common import GENERIC_ERROR

KITE = "# Kite notes\n\nThe kite council met in May.\n"
ARMENIAN_Q = "How many scientific institutions took part in the Armenian survey?"


def _page(settings: Settings, embeddings: Any) -> tuple[Any, dict[str, Any], Any]:
    from assistant.answer import Assistant
    from assistant.web.page import build_app

    index = Index(settings, embeddings=embeddings)
    assert ingest(settings, index=index).ok
    bot = Assistant(settings, index=index)
    app = build_app(settings, bot)
    return bot, {f.api_name: f.fn for f in app.fns.values() if f.api_name}, app


def _file(settings: Settings, name: str, text: str) -> Path:
    """A file as gradio hands it to the handler: a temporary copy the handler deletes."""
    path = settings.data_path / "page-uploads" / "abc123" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- 1 and 4: adding a file, and adding it again -------------------------------------------------
def test_an_upload_is_told_in_words_and_adding_it_again_asks_to_choose_it_again(
    settings: Settings, bow_embeddings: Any,
) -> None:
    bot, fns, _app = _page(settings, bow_embeddings)
    chosen = _file(settings, "kite.md", KITE)
    msg, _table, _docs = fns["upload"](str(chosen), "Kite notes", "AM", "other")
    assert msg == "Added \u201cKite notes\u201d (1 passage); it can be asked about now.", msg
    assert not chosen.exists()  # the page's temporary copy is deleted once added
    count = bot.index.count()
    # The trial corrected the country and pressed "Add to the library" again.
    msg, _table, _docs = fns["upload"](str(chosen), "Kite notes", "GE", "other")
    assert msg != GENERIC_ERROR
    assert "Something went wrong" not in msg
    assert "Choose the file again" in msg, msg
    assert "Nothing was changed" in msg
    assert bot.index.count() == count  # nothing lost, nothing added twice
    # Chosen again, the same file is unchanged: said in words, not in counts.
    msg, _table, _docs = fns["upload"](str(_file(settings, "kite.md", KITE)))
    assert msg == ("\u201cKite notes\u201d (1 passage) was already in the library, unchanged; "
                   "it can be asked about."), msg
    assert "0 added" not in msg


def test_the_same_file_added_again_with_another_country_is_updated(
    settings: Settings, bow_embeddings: Any,
) -> None:
    # A second trial chose the file again, set Country to Armenia and pressed Add: the page
    # said "already in the library, unchanged" while the table and the index kept Georgia.
    bot, fns, _app = _page(settings, bow_embeddings)
    fns["upload"](str(_file(settings, "kite.md", KITE)), "Kite notes", "GE", "other")
    msg, _table, _docs = fns["upload"](str(_file(settings, "kite.md", KITE)), "Kite notes",
                                       "AM", "other")
    assert msg.startswith("Updated \u201cKite notes\u201d"), msg
    assert {p.country for p in bot.index.passages() if p.doc_id.startswith("upload-")} == {"AM"}


def test_after_an_add_the_uploader_is_emptied_and_the_button_turned_off(
    settings: Settings, bow_embeddings: Any,
) -> None:
    from assistant.web.corpus_tab import settle_uploader

    gone = settings.data_path / "page-uploads" / "x" / "gone.md"
    file_update, button = settle_uploader(str(gone))
    assert file_update.get("value", "kept") is None
    assert button.get("interactive") is False
    here = _file(settings, "here.md", KITE)  # still there (a refusal before it was read)
    file_update, button = settle_uploader(str(here))
    assert "value" not in file_update
    assert "interactive" not in button
    # ... and it runs after every "Add to the library", on the uploader and the button.
    _bot, _fns, app = _page(settings, bow_embeddings)
    upload_id = next(i for i, f in app.fns.items() if f.api_name == "upload")
    settle = [f for f in app.fns.values() if f.fn is settle_uploader]
    assert len(settle) == 1
    assert settle[0].trigger_after == upload_id
    assert {getattr(c, "elem_id", None) for c in settle[0].outputs} == {"upload", "upload-add"}


# -- 3: one chunk, one passage, one sentence ---------------------------------------------------
def test_counts_of_one_are_singular() -> None:
    from assistant.check.report import DraftReport

    report = IngestReport(added=["a"], chunks_added=1, sentences_kept=1, flagged={"a": 1})
    summary = report.summary()
    assert "1 chunk embedded (1 of its sentences unchanged" in summary, summary
    assert "1 passage that addresses the reader" in summary, summary
    assert "chunks embedded" in IngestReport(chunks_added=2).summary()
    assert "0 chunks embedded" in IngestReport().summary()
    one = DraftReport(text="One.", claims=[SimpleNamespace(status="supported")],  # type: ignore[list-item]
                      references=[])
    assert one.summary().startswith("1 sentence:"), one.summary()


def test_removing_an_upload_of_one_chunk_says_chunk(settings: Settings) -> None:
    from assistant.documents.manifest import upload_id
    from assistant.web.uploads import remove_upload

    settings.uploads_path.mkdir(parents=True, exist_ok=True)
    (settings.uploads_path / "kite.md").write_text(KITE, encoding="utf-8")
    doc = upload_id("kite.md")

    class OneChunkIndex:
        deleted: list[str] = []

        def doc_states(self) -> dict[str, Any]:
            return {doc: {"ids": {"p1"}}}

        def delete(self, ids: list[str]) -> None:
            self.deleted.extend(ids)

    msg = remove_upload(settings, OneChunkIndex(), doc)  # type: ignore[arg-type]
    assert msg.endswith("and its 1 chunk."), msg


def test_corpus_states_say_chunk_for_one(settings: Settings) -> None:
    from assistant.documents.manifest import corpus_entries
    from assistant.store.ingest import DocumentStatus

    entry = next(e for e in corpus_entries(settings) if e.present)
    assert DocumentStatus(entry, 1).state == "indexed (1 chunk)"
    assert DocumentStatus(entry, 1, complete=False).state.startswith("partly indexed (1 chunk)")
    assert "(1 of 3 chunks)" in DocumentStatus(entry, 1, expected=3, complete=False).state


# -- 2: how a follow-up was read -----------------------------------------------------------------
def _answer(question: str, standalone: str) -> Answer:
    return Answer(question=question, text="Twenty institutions took part.", citations=[],
                  passages=[], abstained=False, mode="extractive",
                  standalone_question=standalone)


def test_a_rewritten_follow_up_is_shown_with_its_answer() -> None:
    from assistant.types import answer_text
    from assistant.web.sources import chat_text

    answer = _answer("And in Georgia?", "How many <b>institutions</b> took part in Georgia?")
    shown = chat_text(answer)
    line = ('<p class="read-as">Read as: How many &lt;b&gt;institutions&lt;/b&gt; took part in '
            "Georgia?</p>")
    assert line in shown, shown
    assert shown.index("Read as") < shown.index("Twenty institutions")
    assert "Read as" not in answer_text(answer)  # not part of the answer's quoted text
    assert "Read as" not in chat_text(_answer("How many?", "How  many?"))  # read as typed


def test_the_page_shows_how_a_follow_up_was_read(settings: Settings,
                                                  bow_embeddings: Any) -> None:
    _bot, fns, _app = _page(settings, bow_embeddings)
    chat, _panel, state, _box = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive",
                                              None)[-1]
    assert "Read as" not in str(chat[-1]["content"])  # read as typed: no line
    chat = handler_steps(fns["ask"], "And in Georgia?", [], [], "extractive", state)[-1][0]
    last = str(chat[-1]["content"])
    assert '<p class="read-as">Read as: ' in last, last
    read_as = last.split('<p class="read-as">Read as: ', 1)[1].split("</p>", 1)[0]
    assert "Georgia" in read_as, read_as
    assert read_as != "And in Georgia?"


# -- 6: the command line names documents as the page does ----------------------------------------
def test_the_command_lines_refusal_lists_short_names(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import _print_sources

    p = Passage(id="p1", doc_id="d11-armenia", country="AM", year=2024, section="Introduction",
                title="Micro-GEAR D1.1: Analysis of Existing Micro-Credential Practices in "
                      "Higher Education System of Armenia", text="The survey was held.")
    refusal = Answer(question="Capital of France?", text="No.", citations=[],
                     passages=[ScoredPassage(p, 0.1)], abstained=True, mode="extractive",
                     outcome="none")
    _print_sources(refusal)
    out = capsys.readouterr().out
    assert "  - Micro-GEAR D1.1 Armenia (2024), Introduction: The survey was held." in out, out
    assert "Analysis of Existing" not in out
