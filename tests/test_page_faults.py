"""The page under faults (issue 18): a full disk is named as such; checked drafts are deleted."""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import handler_steps

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import ingest

ARMENIAN_Q = "How many scientific institutions took part in the Armenian survey?"


def _no_space(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def page(settings: Settings, bow_embeddings: Any) -> tuple[Any, dict[str, Any], Index]:
    from assistant.answer import Assistant
    from assistant.web.page import build_app

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    bot = Assistant(settings, index=index)
    app = build_app(settings, bot)
    fns = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values() if f.fn}
    fns.update({f.api_name: f.fn for f in app.fns.values() if f.api_name})
    return bot, fns, index


def test_downloads_on_a_full_disk_say_so(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.web.chat_tab as chat_tab

    _, fns, _ = page
    state = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive", None)[-1][2]
    monkeypatch.setattr(chat_tab, "write_export", _no_space)
    box, *_buttons = fns["exports"](state)
    assert "References" in box["value"]  # the copy box still works
    with pytest.warns(UserWarning, match="The download could not be written: The disk holding "
                                         ".* is full"):
        out = fns["download_answer_docx"](state)
    assert out["value"] is None


def test_an_upload_on_a_full_disk_says_so(page: Any, settings: Settings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.store.ingest

    _, fns, index = page
    before = index.count()
    good = settings.data_path.parent / "notes.md"
    good.write_text("# Notes\n\nThe Zorblat council met in Yerevan.\n", encoding="utf-8")
    monkeypatch.setattr(assistant.store.ingest, "ingest", _no_space)
    msg, _table, _ = fns["upload"](str(good))
    assert msg.startswith("⚠ notes.md was not added: The disk holding "), msg
    assert "is full" in msg
    assert index.count() == before


def test_a_checked_draft_is_deleted_and_a_full_disk_is_named(
    page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conftest import full_disk_after_half

    from assistant.web.check_tab import FAILED, check_for_page

    bot, _, _ = page
    folder = tmp_path / "page-uploads" / "abc123"
    folder.mkdir(parents=True)
    draft = folder / "draft.md"
    draft.write_text("The Armenian survey was answered by 22 scientific institutions.\n",
                     encoding="utf-8")
    msg, report, files = check_for_page(bot, "", str(draft), None)
    assert files, msg
    assert not draft.exists()  # the page's copy is gone once the check ends
    assert not folder.exists()
    again = folder / "draft.md"
    folder.mkdir(parents=True)
    again.write_text("The Armenian survey was answered by 22 scientific institutions.\n",
                     encoding="utf-8")
    with monkeypatch.context() as m:
        full_disk_after_half(m)  # the audit line of the check cannot be written
        msg, _, files = check_for_page(bot, "", str(again), None)
    assert msg != FAILED
    assert "is full" in msg, msg
    assert files == []
    assert not again.exists()  # deleted on failure too


def test_refusals_do_not_enter_the_chat_or_pile_up(page: Any, settings: Settings) -> None:
    import json

    _, fns, _ = page
    long_q = "How many? " * 500
    chat, _panel, state, box = handler_steps(fns["ask"], long_q, [], [], "extractive", None)[-1]
    assert [m["role"] for m in chat] == ["assistant"]  # no 5,000-character bubble
    assert chat[0]["content"] == (f"⚠ The question is {len(long_q.strip())} characters long; "
                                  f"the limit is {settings.max_question_chars} characters. "
                                  "Shorten it.")
    assert "ASSISTANT_" not in chat[0]["content"]
    assert box == long_q  # kept in the box, to be shortened
    chat, _panel, state, box = handler_steps(fns["ask"], "\u200b" * 5, [], [], "extractive",
                                             state)[-1]
    assert len(chat) == 1  # the new refusal replaced the old one
    assert chat[0]["content"].startswith("⚠ The question is empty")
    # A lone surrogate: a clear message, and nothing the page cannot send back as UTF-8.
    out = handler_steps(fns["ask"], "How many\ud800?", [], [], "extractive", state)[-1]
    chat, _panel, state, box = out
    assert len(chat) == 1
    assert "lone surrogate" in chat[0]["content"]
    json.dumps([chat, box], ensure_ascii=False).encode("utf-8")
    # A real question afterwards: the refusal goes, the question and its answer stay.
    chat, *_ = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive", state)[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert chat[0]["content"] == ARMENIAN_Q


def test_filters_and_count_follow_corpus_changes_made_elsewhere(
    page: Any, settings: Settings, bow_embeddings: Any,
) -> None:
    """A document added outside this page (the CLI, another page session) reaches the
    document filter, the countries and the "N documents indexed" line without a restart."""
    _, fns, _ = page
    seen, status, _countries, docs, *_ = fns["sync_corpus"](None)
    n = int(status.split()[1])
    # the corpus's laws are listed but not fetched here: the line says so (see Corpus)
    gone = re.fullmatch(rf"Ready: {n} documents indexed; (\d+) listed documents not indexed "
                        r"\(see Corpus\)\.", status)
    assert gone, status
    assert int(gone.group(1)) >= 1, status
    unchanged = fns["sync_corpus"](seen)
    assert all(x == {"__type__": "update"} for x in unchanged), unchanged  # all skipped
    new = settings.data_path.parent / "zorblat.md"
    new.write_text("# Zorblat report\n\nThe Zorblat council met in Yerevan.\n", encoding="utf-8")
    other = Index(settings, embeddings=bow_embeddings)  # another writer, as the CLI would be
    assert ingest(settings, paths=[new], index=other).ok
    seen2, status, _countries, docs, *_ = fns["sync_corpus"](seen)
    assert seen2 != seen
    assert status.startswith(f"Ready: {n + 1} documents indexed; {gone.group(1)} listed"), status
    from assistant.documents.manifest import upload_id

    assert upload_id("zorblat.md") in [doc_id for _label, doc_id in docs["choices"]], docs


def test_the_upload_title_is_the_documents_own(tmp_path: Path, settings: Settings) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from assistant.web.uploads import first_heading

    md = tmp_path / "kite.md"
    md.write_text("# Kite study of short courses\n\n## Results\n\nThe kite council met.\n",
                  encoding="utf-8")
    assert first_heading(md, settings) == "Kite study of short courses"

    def pdf(name: str, title: str | None) -> Path:
        path = tmp_path / name
        c = canvas.Canvas(str(path), pagesize=A4)
        if title:
            c.setTitle(title)
        c.drawString(60, 780, "Regional learning programmes in Lori")
        c.drawString(60, 760, "The regional office registered 12 short courses in 2024.")
        c.showPage()
        c.save()
        return path

    assert first_heading(pdf("scan-0042.pdf", "Annual report on regional courses"),
                         settings) == "Annual report on regional courses"
    assert first_heading(pdf("scan-0043.pdf", None), settings) == (
        "Regional learning programmes in Lori")


def test_an_upload_that_fills_the_disk_is_answered_507_not_500(tmp_path: Path) -> None:
    """gradio's own upload route writes the file before any handler of ours runs: a full disk
    there is answered "the disk ... is full" (HTTP 507) instead of a bare HTTP 500."""
    import asyncio

    from assistant.web.uploads import DiskFullUploads

    async def full_disk_app(scope: Any, receive: Any, send: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def call(path: str) -> tuple[int, str]:
        sent: list[dict[str, Any]] = []

        async def send(msg: dict[str, Any]) -> None:
            sent.append(msg)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        mw = DiskFullUploads(full_disk_app, folder=str(tmp_path))
        asyncio.run(mw({"type": "http", "method": "POST", "path": path}, receive, send))
        return int(sent[0]["status"]), sent[1]["body"].decode()

    status, body = call("/gradio_api/upload")
    assert status == 507
    assert body.startswith(f"The disk holding {tmp_path} is full")
    with pytest.raises(OSError, match="No space left"):  # other routes are not touched
        call("/gradio_api/queue/join")


def _listeners(app: Any) -> list[tuple[set[str], set[str], str]]:
    """Each event listener of the page: (its triggers as "elem_id.event", the elem_ids it
    writes, its JavaScript)."""
    ids = {c["id"]: c.get("props", {}).get("elem_id") or str(c["id"])
           for c in app.config["components"]}
    return [({f"{ids.get(t[0], t[0])}.{t[1]}" for t in d["targets"]},
             {ids.get(o, str(o)) for o in d["outputs"]}, d.get("js") or "")
            for d in app.config["dependencies"]]


def test_a_corpus_action_replaces_the_other_actions_message(settings: Settings,
                                                             bow_embeddings: Any) -> None:
    """A trial removed an upload, then added another: "Removed …" stayed under the form. The
    upload (choosing its file, pressing Add) empties the removal's message at once, in the
    browser, and a removal empties the upload's (the browser test watches it happen)."""
    from assistant.answer import Assistant
    from assistant.web.corpus_tab import EMPTY_JS
    from assistant.web.page import build_app

    index = Index(settings, embeddings=bow_embeddings)
    app = build_app(settings, Assistant(settings, index=index))
    emptied: dict[str, set[str]] = {}
    for triggers, outputs, js in _listeners(app):
        if js.strip() == EMPTY_JS:
            for t in triggers:
                emptied.setdefault(t, set()).update(outputs)
    assert "remove-msg" in emptied.get("upload-add.click", set()), emptied
    assert "remove-msg" in emptied.get("upload.upload", set()), emptied
    assert "upload-msg" in emptied.get("remove.click", set()), emptied


def _component(app: Any, elem_id: str) -> dict[str, Any]:
    return next(c["props"] for c in app.config["components"]
                if c.get("props", {}).get("elem_id") == elem_id)


def test_the_draft_check_offers_eu_only_when_an_eu_document_is_indexed(
    settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trial was offered an EU box with no EU document indexed. The box is offered once one
    is indexed; until then a line says the Recommendation is not indexed and how to add it."""
    import assistant.web.catalog as catalog
    from assistant.answer import Assistant
    from assistant.web.catalog import IndexedDoc
    from assistant.web.page import build_app

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok  # the two reports, no EU document
    app = build_app(settings, Assistant(settings, index=index))
    boxes = [value for _label, value in _component(app, "check-countries")["choices"]]
    assert boxes == ["AM", "GE"]
    note = _component(app, "check-eu-note")["value"]
    assert "EU Recommendation" in note
    assert "not indexed" in note
    assert "assistant corpus fetch" in note

    # Once an EU document is indexed (here: the catalog says so), the page's corpus sync
    # offers the box and the line goes.
    fns = {getattr(f.fn, "__name__", ""): f.fn for f in app.fns.values() if f.fn}
    real = catalog.indexed_docs

    def with_eu(*args: Any) -> Any:
        docs, missing = real(*args)
        return [*docs, IndexedDoc("eu-rec", "Council Recommendation (2022)", "EU")], missing

    monkeypatch.setattr(catalog, "indexed_docs", with_eu)
    *_, check_boxes, check_note = fns["sync_corpus"](None)
    assert [v for _label, v in check_boxes["choices"]] == ["AM", "GE", "EU"]
    assert check_note == ""
