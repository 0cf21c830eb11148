"""The chat page: its pure parts on fakes, then the real server through gradio_client."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import appserver
import pytest
from conftest import REPO, handler_steps, make_settings, settings_env

from assistant.config import Settings
from assistant.errors import ConfigError, InputError
from assistant.types import Answer, Citation, Passage, ScoredPassage

ARMENIAN_Q = "How many scientific institutions took part in the Armenian survey?"


def _passage(text: str, **kw: Any) -> Passage:
    return Passage(id="p1", doc_id="d1", title=kw.pop("title", "Doc <One>"), text=text,
                   section="II. Results", page=kw.pop("page", None), country="AM", **kw)


def _answer(p: Passage, quote: str) -> Answer:
    return Answer(question="q", text=f"\u201c{quote}\u201d [1]",
                  citations=[Citation(n=1, passage=p, quote=quote)],
                  passages=[ScoredPassage(p, 0.1, 0.8, 3.0, 1)], abstained=False,
                  mode="extractive", audit={"question": "q"})


# --------------------------------------------------------------------------------------------
# Unit tests (fakes, no server)
# --------------------------------------------------------------------------------------------
def test_one_card_per_passage_with_every_quote_marked_and_linked() -> None:
    from assistant.web.sources import chat_text, sources_html

    text = ("Intro <script>alert(1)</script>. The **council** met in Yerevan. "
            "Later, 22 Scientific institutions took part.")
    p = _passage(text, page=4, page_label="iv")
    ans = Answer(question="q", text="\u201cThe council met in Yerevan.\u201d [1] \u201c22 "
                 "Scientific institutions took part.\u201d [2]",
                 citations=[Citation(1, p, "The council met in Yerevan."),
                            Citation(2, p, "22 Scientific institutions took part.")],
                 passages=[ScoredPassage(p, 0.1, 0.8, 3.0, 1)], abstained=False,
                 mode="extractive")
    panel = sources_html(ans)
    assert panel.count('class="src"') == 1  # one passage, one card
    assert '<span class="src-n">[1] [2]</span>' in panel
    assert 'id="src-1-1"' in panel
    assert 'id="src-1-2"' in panel
    assert '<mark class="q q2">22 Scientific institutions took part.</mark>' in panel
    # a PDF page's text is shown as stored (it is not Markdown: no emphasis read into it)
    assert '<mark class="q q1">The **council** met in Yerevan.</mark>' in panel
    assert "<script>" not in panel
    assert "&lt;script&gt;" in panel
    assert "II. Results, p. iv" in panel  # the full reference, page included
    msg = chat_text(ans, turn=3)
    assert "[\\[1\\]](#src-3-1)" in msg
    assert "[\\[2\\]](#src-3-2)" in msg
    assert 'class="anchor msrc-3-2"' in msg  # its own sources, for small screens
    # Earlier answers' sources stay reachable, folded.
    later = sources_html(ans, earlier=[ans])
    assert 'id="src-2-1"' in later
    assert 'id="src-1-1"' in later
    assert "<details class=\"turn\">" in later


def test_chat_text_shows_markup_in_the_answer_as_text() -> None:
    from assistant.web.sources import linked_text

    out = linked_text("A <b>bold</b> *claim* [1, 2] and [x].", 1)
    assert "<b>" not in out
    assert "\\*claim\\*" in out
    assert "[\\[1\\]](#src-1-1) [\\[2\\]](#src-1-2)" in out
    assert "\\[x\\]" in out


def test_honest_controls_explain_themselves(tmp_path: Path) -> None:
    from assistant.web.catalog import IndexedDoc, country_choices, filter_problem
    from assistant.web.common import llm_unavailable

    docs = [IndexedDoc("d11-armenia", "Micro-GEAR D1.1 Armenia (2024)", "AM"),
            IndexedDoc("d11-georgia", "Micro-GEAR D1.1 Georgia (2024)", "GE")]
    assert country_choices(docs) == [("Armenia", "AM"), ("Georgia", "GE")]  # no EU indexed
    assert filter_problem([], [], docs) == ""
    assert filter_problem(["AM"], ["d11-armenia"], docs) == ""
    msg = filter_problem(["GE"], ["d11-armenia"], docs)
    assert "documents chosen (Micro-GEAR D1.1 Armenia (2024))" in msg
    assert "countries ticked (Georgia)" in msg
    assert "none from European Union is indexed" in filter_problem(["EU"], [], docs)
    assert "not indexed" in filter_problem([], ["eu-rec"], docs)
    s = make_settings(tmp_path, copy_corpus=False)
    assert "ASSISTANT_LLM_BASE_URL" in llm_unavailable(s)
    gguf = make_settings(tmp_path, copy_corpus=False, llm_backend="llamacpp",
                         llm_gguf_path=tmp_path / "none.gguf")
    assert "none.gguf is missing" in llm_unavailable(gguf)
    ok = make_settings(tmp_path, copy_corpus=False, llm_base_url="http://127.0.0.1:9/v1")
    assert llm_unavailable(ok) == ""


def test_stratified_sample_always_tests_abstention() -> None:
    from dataclasses import dataclass

    from assistant.web.eval_tab import stratified_sample

    @dataclass
    class It:
        id: int
        answerable: bool

    items = [It(i, i % 6 != 5) for i in range(100)]  # 17 unanswerable
    for n in (2, 5, 20, 100):
        got = stratified_sample(items, n)
        assert len(got) == n
        assert any(not it.answerable for it in got)
        assert [it.id for it in got] == sorted(it.id for it in got)
        assert len({it.id for it in got}) == n
    got20 = stratified_sample(items, 20)
    assert sum(not it.answerable for it in got20) == 3  # 17 % of 20
    assert got20[-1].id > 80  # spread over the whole set, not its head
    assert len(stratified_sample(items, 500)) == 100


def test_quote_span_tolerates_whitespace_and_typographic_quotes() -> None:
    from assistant.text import quote_span

    text = "A.  The \u201cdigital   badge\u201d\n was issued.  B."
    span = quote_span(text, 'The "digital badge" was issued.')
    assert span is not None
    assert text[span[0] : span[1]] == "The \u201cdigital   badge\u201d\n was issued."
    assert quote_span(text, "   ") is None


def test_sources_html_citation_and_abstention() -> None:
    from assistant.web.sources import NOT_AN_ANSWER, sources_html

    p = _passage("Survey: 22 Scientific institutions took part.", page=4, page_label="iv")
    html_out = sources_html(_answer(p, "22 Scientific institutions took part."))
    assert "[1]</span> Doc" in html_out
    assert "Armenia · Doc &lt;One&gt;" in html_out
    assert '<mark class="q q1">22 Scientific institutions took part.</mark>' in html_out

    abst = Answer(question="q", text="I cannot answer.", citations=[],
                  passages=[ScoredPassage(p, 0.1, 0.2, 1.0, 1, evidence=False)],
                  abstained=True, mode="extractive")
    html_abst = sources_html(abst)
    assert NOT_AN_ANSWER in html_abst
    assert "<mark" not in html_abst
    assert "Survey: 22 Scientific" in html_abst
    assert sources_html(None).count("src") == 0


def test_feedback_appends_one_json_line(settings: Settings) -> None:
    from assistant.web.feedback import record_feedback

    p = _passage("Some text.")
    assert "Ask a question first" in record_feedback(settings, "up", "", None)
    msg = record_feedback(settings, "down", "  wrong year ", _answer(p, "Some text."))
    assert "saved" in msg
    lines = (settings.data_path / "feedback.jsonl").read_text().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["rating"] == "down"
    assert rec["comment"] == "wrong year"
    assert rec["audit"] == {"question": "q"}
    assert rec["time"]


def test_upload_size_and_type_are_checked(tmp_path: Path) -> None:
    from assistant.web.uploads import check_upload

    s = make_settings(tmp_path, copy_corpus=False, max_upload_mb=0.001)
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    with pytest.raises(InputError, match="upload limit is 0.001 MB"):
        check_upload(big, s)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(InputError, match="unsupported type"):
        check_upload(exe, s)


def test_serve_refuses_a_public_host_without_credentials(tmp_path: Path) -> None:
    from assistant.web.auth import check_binding
    from assistant.web.server import serve

    s = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(ConfigError, match="ASSISTANT_USERNAME and ASSISTANT_PASSWORD"):
        serve(s)
    assert not (tmp_path / "index").exists()  # refused before anything was opened
    assert check_binding(make_settings(tmp_path / "a", copy_corpus=False)) is None
    assert check_binding(make_settings(tmp_path / "b", copy_corpus=False, host="::1")) is None
    creds = make_settings(tmp_path / "c", copy_corpus=False, host="0.0.0.0", username="u",
                          password="p")
    assert check_binding(creds) == ("u", "p")


def test_build_app_with_fake_embeddings(settings: Settings, bow_embeddings: Any) -> None:
    import gradio as gr

    from assistant.answer import Assistant
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).chunks_added > 0
    from assistant.web.page import build_app

    app = build_app(settings, Assistant(settings, index=index))
    assert isinstance(app, gr.Blocks)
    fns = {f.api_name: f.fn for f in app.fns.values()}
    assert {"ask", "references", "feedback_up", "feedback_down", "upload", "evaluate"} <= set(fns)

    # An empty question: a readable message in the chat, no exception.
    out = handler_steps(fns["ask"], "", [], [], "extractive", None)
    assert out[-1][0][-1]["content"].startswith("⚠ The question is empty")
    # A real question: the last message is an answer or an abstention, with a sources panel.
    out = handler_steps(fns["ask"], ARMENIAN_Q, [], [], "extractive", None)
    msgs, panel, state, box = out[-1]
    assert msgs[-2] == {"role": "user", "content": ARMENIAN_Q}
    assert not msgs[-1]["content"].startswith("⚠")
    assert 'class="sources"' in panel
    assert box == ""
    assert state["pairs"] == [(ARMENIAN_Q, state["last"].text)]
    assert not state["last"].abstained, state["last"].text  # bag-of-words finds the survey count
    refs = fns["references"](state)
    assert "\nReferences\n" in refs
    assert "[1] " in refs.partition("\nReferences\n")[2]
    # A follow-up keeps the conversation.
    out = handler_steps(fns["ask"], "and in Georgia?", ["GE"], [], "extractive", state)
    assert len(out[-1][0]) == 4
    assert len(out[-1][2]["pairs"]) == 2

    # "Add to the library" is off until a file is chosen, and again when it is cleared (a trial
    # pressed it with no file).
    from assistant.web.corpus_tab import make_prefill

    add = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "upload-add")
    assert add.interactive is False
    assert make_prefill(SimpleNamespace(settings=settings))(None)[2]["interactive"] is False

    # A corrupt PDF is refused with its reason and changes nothing.
    before = index.count()
    bad = settings.data_path.parent / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    title, msg, button = fns["upload_title"](str(bad))
    assert "bad.pdf was not added" in msg
    assert button["interactive"] is False  # "Add to the library" is off for a refused file
    msg, table, _ = fns["upload"](str(bad))
    assert "bad.pdf was not added" in msg
    assert "PDF" in msg
    assert index.count() == before
    assert "bad" not in table
    assert not (settings.uploads_path / "bad.pdf").exists()

    # A good upload takes the title, country and type given; removing it deletes its chunks.
    good = settings.data_path.parent / "notes_file.md"
    good.write_text("# Zorblat credentials in Yerevan\n\nThe Zorblat council met in Yerevan.\n",
                    encoding="utf-8")
    title, _, button = fns["upload_title"](str(good))
    assert title == "Zorblat credentials in Yerevan"
    assert button["interactive"] is True
    msg, table, _ = fns["upload"](str(good), "Zorblat notes", "AM", "report")
    assert msg == "Added \u201cZorblat notes\u201d (1 passage); it can be asked about now.", msg
    assert "Zorblat notes" in table
    assert index.count() > before
    from assistant.web.uploads import uploaded_docs

    (label, doc_id), = uploaded_docs(settings)
    assert label.startswith("Zorblat notes")
    meta = index.doc_states()[doc_id]
    assert meta["chunks"] >= 1
    assert {p.country for p in index.passages(where={"doc_id": doc_id})} == {"AM"}
    msg, table = fns["remove_upload"](doc_id)
    assert "Removed Zorblat notes" in msg
    assert index.count() == before
    assert "Zorblat" not in table
    assert not (settings.uploads_path / "notes_file.md").exists()

    # Feedback keeps its comment, so a 👎 right after a 👍 still has it.
    msg, kept = fns["feedback_up"]("wrong year", state)
    assert "saved" in msg
    assert kept == "wrong year"

    # The evaluation tab runs a stratified sample: answerable and unanswerable items.
    summary, rows = fns["evaluate"](None, 2, "extractive")
    assert "2 questions (1 answerable, 1 not)" in summary
    assert len(rows) == 2
    # A tester's trial read "fact recall 68%, met" on the page beside 19% from `assistant
    # eval`: the page sampled the whole known set, tune part included, and did not say so.
    # It samples the test part of the known and user sets, names them, and adds categories.
    assert "of the 130 test-part questions of known_qa.jsonl and user_qa.jsonl" in summary
    assert "category" in summary
    tuned = {json.loads(ln)["id"] for name in ("known_qa.jsonl", "user_qa.jsonl")
             for ln in (REPO / "corpus" / "eval" / name).read_text(encoding="utf-8").splitlines()
             if ln.strip() and json.loads(ln).get("split") == "tune"}
    assert not {r[0] for r in rows} & tuned
    assert {r[4] for r in rows} <= {"answer", "evidence", "none"}  # the outcome, by name


# --------------------------------------------------------------------------------------------
# Integration: the real server, started as `python app.py`
# --------------------------------------------------------------------------------------------
def start_app(tmp: Path) -> tuple[subprocess.Popen[bytes], str, Settings]:
    """`python app.py` on 127.0.0.1 with its corpus, index and data under ``tmp``."""
    s = make_settings(tmp)
    try:
        proc, url = appserver.start_app(tmp, settings_env(s))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    return proc, url, s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    proc, url, s = start_app(tmp_path_factory.mktemp("ui_api"))
    try:
        yield url, s
    finally:
        appserver.stop_app(proc)
    assert proc.returncode is not None


def _last_text(chat: list[dict[str, Any]]) -> str:
    content = chat[-1]["content"]
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content)
    return str(content)


@pytest.mark.integration
def test_ask_through_gradio_client(server: tuple[str, Settings]) -> None:
    from gradio_client import Client

    url, s = server
    client = Client(url, verbose=False)
    chat, panel, box = client.predict(ARMENIAN_Q, [], [], "extractive", api_name="/ask")
    assert "22" in _last_text(chat)
    assert '<mark class="q q1">' in panel
    assert "22 Scientific institutions" in panel
    assert box == ""

    refs = client.predict(api_name="/references")
    assert "References" in refs
    assert "[1]" in refs

    msg, _ = client.predict("useful", api_name="/feedback_up")
    assert "saved" in msg
    rec = json.loads((s.data_path / "feedback.jsonl").read_text().splitlines()[-1])
    assert rec["rating"] == "up"
    assert rec["audit"]["question"] == ARMENIAN_Q

    chat, _, box = client.predict("   ", [], [], "extractive", api_name="/ask")
    assert _last_text(chat).startswith("⚠ The question is empty")
    assert box == "   "  # the question stays, to be corrected


@pytest.mark.integration
def test_follow_up_and_filters_through_gradio_client(server: tuple[str, Settings]) -> None:
    from gradio_client import Client

    client = Client(server[0], verbose=False)
    chat, _, _ = client.predict("When was the Georgian questionnaire available?", ["GE"], [],
                                "extractive", api_name="/ask")
    first = _last_text(chat)
    assert "May 2" in first, first  # the Georgian dates
    assert "2024" in first, first
    chat, panel, _ = client.predict("and in Armenia?", ["AM"], ["d11-armenia"], "extractive",
                                    api_name="/ask")
    assert len(chat) == 4  # the conversation is kept
    # the follow-up asked the earlier question about Armenia: the Armenian dates, not any
    # Armenian sentence
    assert "May 22nd to June 22nd, 2024" in _last_text(chat), _last_text(chat)
    latest = panel.split('<details class="turn">')[0]  # earlier answers' sources are folded
    assert "Armenia ·" in latest
    assert "Georgia ·" not in latest  # the filters held: only Armenian sources


@pytest.mark.integration
def test_upload_through_gradio_client(server: tuple[str, Settings], tmp_path: Path) -> None:
    # The page's "Add to the library" is off until a file is chosen; the API (the load and soak
    # benchmarks use it) still takes an upload.
    from gradio_client import Client, handle_file

    doc = tmp_path / "api_notes.md"
    doc.write_text("# Quorvane notes\n\nThe Quorvane board met in Tbilisi in 2024.\n",
                   encoding="utf-8")
    client = Client(server[0], verbose=False)
    msg, table, _ = client.predict(handle_file(str(doc)), "Quorvane notes", "XX", "other",
                                   api_name="/upload")
    assert msg.startswith("Added \u201cQuorvane notes\u201d"), msg
    assert "Quorvane notes" in table
    assert "Unspecified" in table


@pytest.mark.integration
def test_a_busy_port_gets_one_clear_line(server: tuple[str, Settings], tmp_path: Path) -> None:
    import os
    import sys
    from urllib.parse import urlparse

    url, s = server  # its index is built, so the second app starts at once
    port = urlparse(url).port
    env = {**os.environ, **settings_env(s)}
    proc = subprocess.run(
        [sys.executable, str(appserver.REPO / "app.py"), "--port", str(port)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith(f"error: Cannot serve on 127.0.0.1:{port}")
    assert "--port N" in lines[-1]
    assert "Traceback" not in proc.stderr


def test_the_corpus_table_names_countries() -> None:
    # A trial: an upload with no country showed "XX" in the corpus table.
    from assistant.web.catalog import corpus_html

    rows = [["up-1", "Notes", "XX", "other", "indexed"], ["d11", "D1.1", "AM", "report", "indexed"]]
    table = corpus_html(rows)
    assert ">Unspecified</td>" in table
    assert ">Armenia</td>" in table
    assert 'data-label="Country"' in table  # the phone layout labels each line
    assert ">XX</td>" not in table


def test_a_missing_document_without_an_address_says_one_thing(tmp_path: Path) -> None:
    # A trial: "missing (no download address; see its source); or download it from Armenian
    # Legal Information System … No stable download address is known" contradicted itself.
    from assistant.store.index import Index
    from assistant.web.catalog import corpus_rows

    s = make_settings(tmp_path)
    rows = {r[0]: r for r in corpus_rows(s, Index(s))}
    state = rows["am-law-education"][4]
    assert "or download it from" not in state
    assert state.startswith("missing. Source: Armenian Legal Information System")
    assert "or download it from https://" in rows["ge-law-higher-education"][4]
