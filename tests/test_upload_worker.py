"""Page uploads are ingested in a child process (issue 19): the ingest's memory and CPU stay out
of the page, its progress reaches the page over a pipe, and a killed child loses nothing.

The unit tests run the page's real upload handler; the child runs either the real ingest with
fake embeddings or a fake ingest (tests/upload_fakes.py). No test sleeps: each waits on progress
(a file, an event, a FIFO) with a generous overall deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import upload_fakes
from conftest import handler_steps, make_settings, wait_until

import assistant.store.ingest
from assistant.config import Settings
from assistant.documents.manifest import upload_id
from assistant.store.index import Index
from assistant.store.ingest import corpus_status, ingest
from assistant.web import upload_worker
from assistant.web.upload_worker import UploadJob, ingest_in_child

ARMENIAN_Q = "How many scientific institutions took part in the Armenian survey?"
ZORBLAT = "\n\n".join(
    f"## Part {i}\n\nIn district {i} the Zorblat council approved {i * 7} micro-credentials "
    f"for adult learners. Each of them lists its learning outcomes, its workload of {i + 2} "
    "ECTS credits and the way it is assessed, so that employers can read what was learned."
    for i in range(1, 9))


class Steps:
    """A stand-in for gradio's progress bar that records what it is told."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, str]] = []

    def __call__(self, value: Any, desc: str = "", **_: Any) -> None:
        self.seen.append((value, desc))


def _page(settings: Settings, embeddings: Any) -> tuple[Any, dict[str, Any]]:
    from assistant.answer import Assistant
    from assistant.web.page import build_app

    index = Index(settings, embeddings=embeddings)
    assert ingest(settings, index=index).ok
    bot = Assistant(settings, index=index)
    app = build_app(settings, bot)
    return bot, {f.api_name: f.fn for f in app.fns.values() if f.api_name}


def _answer(fns: dict[str, Any], question: str) -> tuple[str, str]:
    chat, panel, _state, _box = handler_steps(fns["ask"], question, [], [], "extractive", None)[-1]
    return str(chat[-1]["content"]), panel


def _file(settings: Settings, name: str, text: str) -> Path:
    path = settings.data_path.parent / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Unit: the page's handler and the child
# --------------------------------------------------------------------------------------------
def test_an_upload_runs_in_a_child_and_its_progress_reaches_the_page(
    settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _bot, fns = _page(settings, bow_embeddings)
    monkeypatch.setattr(assistant.store.ingest, "ingest", upload_fakes.pid_note)
    steps = Steps()
    msg, _table, _ = fns["upload"](str(_file(settings, "a.md", "# A\n\nText.\n")), None, None,
                                   None, None, progress=steps)
    pid = int(msg.rpartition("- pid ")[2])
    assert pid != os.getpid()  # the ingest ran in another process
    assert msg.startswith("Added \u201cfake-doc\u201d; it can be asked about now."), msg
    embedding = [step for step in steps.seen if step[1].startswith("Embedding")]
    assert embedding == [((1, 3), "Embedding fake-doc"), ((2, 3), "Embedding fake-doc"),
                         ((3, 3), "Embedding fake-doc")]
    assert steps.seen[-1] == (1.0, "Preparing a.md for questions")
    assert upload_worker.running_child() is None


def test_the_child_inherits_no_socket_key_or_proxy_and_runs_at_a_lower_priority(
    settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import SecretStr

    for key in ("HTTPS_PROXY", "https_proxy", "OPENAI_API_KEY", "HF_TOKEN",
                "ASSISTANT_LLM_API_KEY"):
        monkeypatch.setenv(key, "secret-value-1234")
    s = settings.model_copy(update={
        "llm_api_key": SecretStr("sk-live-abcdef"), "llm_base_url": "http://127.0.0.1:9/v1",
        "username": "staff", "password": SecretStr("pw-1234"), "upload_nice": 7})
    events: list[dict[str, Any]] = []
    with socket.socket() as listener:  # a listening socket, as the page's server has
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        os.set_inheritable(listener.fileno(), True)  # even one marked inheritable stays here
        report = ingest_in_child(
            UploadJob(s, [settings.data_path / "x.md"], "tester", target=upload_fakes.child_facts),
            events.append)
    facts = json.loads(report.notes[0])
    assert facts["pid"] != os.getpid()
    assert events[0] == {"event": "started", "pid": facts["pid"]}
    assert [e["done"] for e in events if e["event"] == "progress"] == [1, 2, 3]
    assert facts["nice"] == min(19, os.nice(0) + 7)
    assert facts["sockets"] == []
    assert len(facts["fds"]) <= 5, facts["fds"]  # stdin, stdout, stderr, the pipe, the listing
    leaked = {"HTTPS_PROXY", "https_proxy", "OPENAI_API_KEY", "HF_TOKEN",
              "ASSISTANT_LLM_API_KEY"} & set(facts["env"])
    assert not leaked
    assert {"HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY"} <= set(facts["env"])
    assert (facts["api_key"], facts["base_url"], facts["password"]) == ("", None, None)
    assert facts["uploader"] == "tester"


def test_a_crashed_child_says_how_to_retry_and_the_page_keeps_answering(
    settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _bot, fns = _page(settings, bow_embeddings)
    monkeypatch.setattr(assistant.store.ingest, "ingest", upload_fakes.crash)
    new = _file(settings, "crashing.md", "# Crashing\n\nText.\n")
    msg, _table, _ = fns["upload"](str(new), "A title", "AM", "report")
    assert msg.startswith("⚠ Adding crashing.md stopped before it finished: the ingest process "
                          "ended with status 3"), msg
    assert "Add the file again to finish it" in msg
    assert not (settings.uploads_path / ".crashing.md.json").exists()  # no details left over
    monkeypatch.setattr(assistant.store.ingest, "ingest", upload_fakes.fails_with_a_bug)
    msg, _table, _ = fns["upload"](str(_file(settings, "bug.md", "# Bug\n\nText.\n")))
    assert msg.startswith("⚠ Something went wrong on the server"), msg
    text, _panel = _answer(fns, ARMENIAN_Q)
    assert "22" in text, text


def test_one_child_at_a_time(settings: Settings, tmp_path: Path) -> None:
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    for path in (first, second):
        os.mkfifo(f"{path}.fifo")
    events: dict[str, list[dict[str, Any]]] = {"first": [], "second": []}
    results: dict[str, Any] = {}

    def run(name: str, path: Path) -> None:
        job = UploadJob(settings, [path], "tester", target=upload_fakes.held)
        results[name] = ingest_in_child(job, events[name].append)

    threads = [threading.Thread(target=run, args=("first", first))]
    threads[0].start()
    try:
        wait_until(lambda: any(e["event"] == "progress" for e in events["first"]), 120,
                   "the first child reports")
        pid = events["first"][0]["pid"]
        assert upload_worker.running_child() == pid
        threads.append(threading.Thread(target=run, args=("second", second)))
        threads[1].start()
        wait_until(lambda: events["second"], 60, "the second upload says it waits")
        assert events["second"] == [{"event": "waiting", "text": "Another upload on this page "
                                     "is being added; waiting for it."}]
        assert upload_worker.running_child() == pid
    finally:
        for path in (first, second):  # release both children (a FIFO opened for writing
            with open(f"{path}.fifo", "w", encoding="utf-8") as fifo:  # waits for its reader)
                fifo.write("go\n")
        for th in threads:
            th.join(120)
    assert results["first"].added == ["first.md"]
    assert results["second"].added == ["second.md"]
    started = [e["pid"] for e in events["second"] if e["event"] == "started"]
    assert started
    assert started[0] != pid


def test_a_child_killed_mid_ingest_leaves_the_index_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate, reached = tmp_path / "gate", tmp_path / "reached"
    s = make_settings(tmp_path / "k", embed_batch_size=1, ingest_lock_timeout_s=30)
    emb = upload_fakes.BlockingEmbeddings(gate, reached)
    bot, fns = _page(s, emb)
    docs_before = {st.entry.info.id for st in corpus_status(s, bot.index) if st.chunks}
    generation = bot.index.generation()
    assert "22" in _answer(fns, ARMENIAN_Q)[0]  # the page is warm, as ``serve`` makes it
    new = _file(s, "zorblat.md", "# Zorblat council\n\n" + ZORBLAT)
    gate.touch()
    out: dict[str, Any] = {}
    steps = Steps()
    th = threading.Thread(target=lambda: out.setdefault("msg", fns["upload"](
        str(new), None, None, None, None, progress=steps)[0]))
    th.start()
    try:
        wait_until(lambda: reached.exists() and any(
            desc.startswith("Embedding") for _v, desc in steps.seen), 120,
            "the child stored a group, said so, and embeds the next")
        pid = int(reached.read_text())
        assert upload_worker.running_child() == pid
        # The page does not take the child's writes up group by group: it keeps its view.
        assert bot.index.count() > generation[0]  # the child stored a group...
        assert bot.index.generation() == generation  # ...which the page has not taken up
        lexicon = bot.retriever.lexicon()
        assert lexicon.generation == generation
        assert not [p for p in lexicon.passages if p.doc_id == upload_id("zorblat.md")]
    finally:
        if upload_worker.running_child():  # also when an assertion failed: never left hanging
            os.kill(upload_worker.running_child() or 0, signal.SIGKILL)
        th.join(120)
    msg = out["msg"]
    assert msg.startswith("⚠ Adding zorblat.md stopped before it finished: the ingest process "
                          "was stopped by SIGKILL."), msg
    assert "Add the file again to finish it (or run: assistant ingest)" in msg
    # The index still answers and lists every earlier document; the new one is partly there.
    text, _panel = _answer(fns, ARMENIAN_Q)
    assert "22" in text, text
    states = {st.entry.info.id: st for st in corpus_status(s, bot.index)}
    assert docs_before <= {doc for doc, st in states.items() if st.chunks and st.complete}
    assert "partly indexed" in states[upload_id("zorblat.md")].state
    # Adding the file again finishes it (the lock died with the child), and it is answered.
    gate.unlink()
    again = _file(s, "zorblat.md", "# Zorblat council\n\n" + ZORBLAT)
    msg, table, _ = fns["upload"](str(again))
    assert msg.startswith("Updated \u201czorblat\u201d ("), msg
    assert states[upload_id("zorblat.md")].chunks < bot.index.doc_states()[
        upload_id("zorblat.md")]["chunks"]
    text, panel = _answer(fns, "How many micro-credentials did the Zorblat council approve in "
                               "district 8?")
    assert "56" in text, text
    assert "Zorblat council" in panel


def test_bad_files_duplicates_and_removal_keep_their_messages(
    settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot, fns = _page(settings, bow_embeddings)
    before = bot.index.count()
    msg, _table, _ = fns["upload"](str(_file(settings, "empty.md", "")))
    assert msg.startswith("- \u26a0 empty.md was not added: "), msg
    assert "- ⚠ empty.md was not added: " in msg
    report = next(st.entry for st in corpus_status(settings, bot.index) if st.chunks)
    copy = _file(settings, "copy" + report.path.suffix, "")
    copy.write_bytes(report.path.read_bytes())
    msg, _table, _ = fns["upload"](str(copy))
    assert f"was not added: duplicate of the indexed document {report.info.id}" in msg, msg
    assert bot.index.count() == before
    note = "# Zorblat notes\n\nThe Zorblat council met in Yerevan.\n"
    assert "Added \u201cnotes\u201d (1 passage)" in fns["upload"](
        str(_file(settings, "notes.md", note)))[0]
    assert "was already in the library, unchanged" in fns["upload"](
        str(_file(settings, "notes.md", note)))[0]
    text, _panel = _answer(fns, "Where did the Zorblat council meet?")
    assert "Yerevan" in text, text
    msg, _table = fns["remove_upload"](upload_id("notes.md"))
    assert msg == "Removed notes (notes.md) and its 1 chunk.", msg
    assert bot.index.count() == before

    # A file of the wrong type or over the limit is refused before any process starts.
    def no_child(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a child was started for a refused file")

    monkeypatch.setattr(upload_worker, "ingest_in_child", no_child)
    msg, _table, _ = fns["upload"](str(_file(settings, "tool.exe", "MZ")))
    assert msg == "⚠ tool.exe: unsupported type; upload one of .pdf, .md, .txt, .html, .htm"
    big = _file(settings, "big.md", "x" * int(settings.max_upload_mb * 1_000_000 + 10))
    assert "the upload limit is" in fns["upload"](str(big))[0]


# --------------------------------------------------------------------------------------------
# Integration: the real model, a real PDF, real Chroma
# --------------------------------------------------------------------------------------------
def _zorvian_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Zorvian regional programmes")
    for i in range(1, 4):
        y = 780
        lines = [f"Chapter {i}. Regional learning programmes, part {i}.",
                 f"In district {i} the regional office registered {i * 3} short courses."]
        if i == 2:
            lines.append("The Zorvian accreditation council approved 41 micro-credentials.")
        for line in lines:
            c.drawString(60, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


@pytest.mark.integration
def test_real_pdf_uploaded_on_the_page_is_answered(real_assistant: Any, tmp_path: Path) -> None:
    from assistant.web.page import build_app

    s = real_assistant.settings
    app = build_app(s, real_assistant)
    fns = {f.api_name: f.fn for f in app.fns.values() if f.api_name}
    steps = Steps()
    pdf = _zorvian_pdf(tmp_path / "zorvian.pdf")
    msg, _table, _ = fns["upload"](str(pdf), None, None, None, None, progress=steps)
    try:
        assert msg.startswith("Added \u201c"), msg
        assert any(desc.startswith("Embedding") for _v, desc in steps.seen), steps.seen
        text, panel = _answer(fns, "How many micro-credentials did the Zorvian accreditation "
                                   "council approve?")
        assert "41" in text, text
        assert "Open zorvian at this passage" in panel  # cited: the upload itself
        assert "uploaded document, not an official source" in panel
    finally:
        fns["remove_upload"](upload_id("zorvian.pdf"))


@pytest.mark.integration
def test_real_ingest_killed_mid_way_leaves_the_index_answering(
    real_assistant: Any, tmp_path: Path,
) -> None:
    from assistant.answer import Assistant
    from assistant.web.page import build_app

    pdf = Path("/usr/share/doc/camlidl/camlidl-1.04.doc.pdf")  # 26 pages, 78 chunks
    if not pdf.exists():
        pytest.skip("Debian's camlidl manual is not installed (apt-get install camlidl)")
    s = real_assistant.settings.model_copy(update={"embed_batch_size": 4})  # groups of 8
    bot = Assistant(s, index=Index(s, embeddings=real_assistant.index.embeddings_given))
    fns = {f.api_name: f.fn for f in build_app(s, bot).fns.values() if f.api_name}
    docs_before = {st.entry.info.id for st in corpus_status(s, bot.index) if st.chunks}
    local = tmp_path / pdf.name
    local.write_bytes(pdf.read_bytes())
    steps = Steps()
    out: dict[str, Any] = {}
    th = threading.Thread(target=lambda: out.setdefault("msg", fns["upload"](
        str(local), None, None, None, None, progress=steps)[0]))
    th.start()
    try:
        wait_until(lambda: any(d.startswith("Embedding") for _v, d in steps.seen), 600,
                   "the child stored its first group")
        pid = upload_worker.running_child()
        assert pid is not None
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        th.join(300)
        assert out["msg"].startswith(f"⚠ Adding {pdf.name} stopped before it finished: the "
                                     "ingest process was stopped by SIGKILL."), out["msg"]
        text, _panel = _answer(fns, ARMENIAN_Q)
        assert "22" in text, text
        complete = {st.entry.info.id for st in corpus_status(s, bot.index)
                    if st.chunks and st.complete}
        assert docs_before <= complete
    finally:
        th.join(300)
        fns["remove_upload"](upload_id(pdf.name))
    assert upload_id(pdf.name) not in bot.index.doc_states()
