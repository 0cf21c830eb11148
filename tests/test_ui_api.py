"""The chat page: its pure parts on fakes, then the real server through gradio_client."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import appserver
import pytest
from conftest import make_settings, settings_env

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
def test_highlight_escapes_everything_and_marks_the_quote() -> None:
    from assistant.ui import highlight

    text = "Intro.\nThe council met <script>alert(1)</script> in\nYerevan on **22 May**. End."
    out = highlight(text, "The council met alert(1) in Yerevan on 22 May.")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.count("<mark>") == 1
    marked = out.split("<mark>")[1].split("</mark>")[0]
    assert marked.startswith("The council met")
    assert marked.endswith("22 May**.")
    assert "Intro." not in marked
    assert "End." not in marked


def test_highlight_falls_back_to_a_blockquote() -> None:
    from assistant.ui import highlight

    out = highlight("Nothing <b>like</b> it here.", "a quote that is <i>absent</i>")
    assert "<mark>" not in out
    assert "<blockquote>a quote that is &lt;i&gt;absent&lt;/i&gt;</blockquote>" in out
    assert "Nothing &lt;b&gt;like&lt;/b&gt; it here." in out


def test_quote_span_tolerates_whitespace_and_typographic_quotes() -> None:
    from assistant.text import quote_span

    text = "A.  The \u201cdigital   badge\u201d\n was issued.  B."
    span = quote_span(text, 'The "digital badge" was issued.')
    assert span is not None
    assert text[span[0] : span[1]] == "The \u201cdigital   badge\u201d\n was issued."
    assert quote_span(text, "   ") is None


def test_sources_html_citation_and_abstention() -> None:
    from assistant.ui import NOT_AN_ANSWER, sources_html

    p = _passage("Survey: 22 Scientific institutions took part.", page=4, page_label="iv")
    html_out = sources_html(_answer(p, "22 Scientific institutions took part."))
    assert "[1] Doc &lt;One&gt;" in html_out
    assert "Armenia · II. Results · p. iv" in html_out
    assert "<mark>22 Scientific institutions took part.</mark>" in html_out

    abst = Answer(question="q", text="I cannot answer.", citations=[],
                  passages=[ScoredPassage(p, 0.1, 0.2, 1.0, 1, evidence=False)],
                  abstained=True, mode="extractive")
    html_abst = sources_html(abst)
    assert NOT_AN_ANSWER in html_abst
    assert "<mark>" not in html_abst
    assert "Survey: 22 Scientific" in html_abst


def test_feedback_appends_one_json_line(settings: Settings) -> None:
    from assistant.ui import record_feedback

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
    from assistant.ui import check_upload

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
    from assistant.ui import check_binding, serve

    s = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(ConfigError, match="ASSISTANT_USERNAME and ASSISTANT_PASSWORD"):
        serve(s)
    assert not (tmp_path / "index").exists()  # refused before anything was opened
    assert check_binding(make_settings(tmp_path / "a", copy_corpus=False)) is None
    assert check_binding(make_settings(tmp_path / "b", copy_corpus=False, host="::1")) is None
    creds = make_settings(tmp_path / "c", copy_corpus=False, host="0.0.0.0", username="u",
                          password="p")
    assert check_binding(creds) == ("u", "p")


def test_build_app_with_fake_embeddings(settings: Settings, fake_embeddings: Any) -> None:
    import gradio as gr

    from assistant.answer import Assistant
    from assistant.index import Index
    from assistant.ingest import ingest

    index = Index(settings, embeddings=fake_embeddings)
    assert ingest(settings, index=index).chunks_added > 0
    from assistant.ui import build_app

    app = build_app(settings, Assistant(settings, index=index))
    assert isinstance(app, gr.Blocks)
    fns = {f.api_name: f.fn for f in app.fns.values()}
    assert {"ask", "references", "feedback_up", "feedback_down", "upload", "evaluate"} <= set(fns)

    # An empty question: a readable message in the chat, no exception.
    out = list(fns["ask"]("", [], [], "extractive", None))
    assert out[-1][0][-1]["content"].startswith("⚠ The question is empty")
    # A real question: the last message is an answer or an abstention, with a sources panel.
    out = list(fns["ask"](ARMENIAN_Q, [], [], "extractive", None))
    msgs, panel, state, box = out[-1]
    assert msgs[-2] == {"role": "user", "content": ARMENIAN_Q}
    assert not msgs[-1]["content"].startswith("⚠")
    assert 'class="sources"' in panel
    assert box == ""
    assert state["pairs"] == [(ARMENIAN_Q, state["last"].text)]
    assert "References" in fns["references"](state) or state["last"].abstained
    # A follow-up keeps the conversation.
    out = list(fns["ask"]("and in Georgia?", ["GE"], [], "extractive", state))
    assert len(out[-1][0]) == 4
    assert len(out[-1][2]["pairs"]) == 2

    # A corrupt PDF is refused with its reason and changes nothing.
    before = index.count()
    bad = settings.data_path.parent / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    msg, table, _ = fns["upload"](str(bad))
    assert "bad.pdf was not added" in msg
    assert "PDF" in msg
    assert index.count() == before
    assert "bad" not in table
    assert not (settings.uploads_path / "bad.pdf").exists()

    # The evaluation tab runs the known set, limited to a few items.
    summary, rows = fns["evaluate"](None, 2, "extractive")
    assert "2 questions" in summary
    assert [r[0] for r in rows] == ["am-001", "am-002"]


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
    assert "<mark>" in panel
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
    assert not first.startswith("⚠")
    chat, panel, _ = client.predict("and in Armenia?", ["AM"], ["d11-armenia"], "extractive",
                                    api_name="/ask")
    assert len(chat) == 4  # the conversation is kept
    assert not _last_text(chat).startswith("⚠")
    assert "Georgia ·" not in panel  # the filters held: only Armenian sources


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
