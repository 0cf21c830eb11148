"""What the page keeps in memory while it serves (issue 19's soak: RSS growth <= 10%)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import ingest

REPO = Path(__file__).resolve().parent.parent


ARENAS_SCRIPT = """
import ctypes, os, re, sys, tempfile, threading
sys.path.insert(0, {repo!r})
from assistant.web.memory import limit_malloc_arenas
if {limit}:
    assert limit_malloc_arenas({limit})
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
go = threading.Barrier(8)
def work():
    go.wait()  # all at once: contention is what makes glibc give a thread a new arena
    for _ in range(2000):
        libc.free(libc.malloc(4096))
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
path = tempfile.mktemp()
libc.fopen.restype = ctypes.c_void_p
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(fp)); libc.fclose(ctypes.c_void_p(fp))
print(len(re.findall('<heap nr=', open(path).read()))); os.unlink(path)
"""


def _arenas(limit: int) -> int:
    out = subprocess.run([sys.executable, "-c", ARENAS_SCRIPT.format(repo=str(REPO),
                                                                      limit=limit)],
                         capture_output=True, text=True, timeout=120, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_malloc_arenas_are_limited() -> None:
    """Threads that allocate at once get arenas of their own, unless the page limits them."""
    assert _arenas(0) > 2
    assert _arenas(2) <= 2


def test_the_page_limits_malloc_arenas_before_it_starts(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.store.index as index_module
    import assistant.web.server as server

    calls: list[str] = []

    class Stop(Exception):
        pass

    def index(*args: Any, **kwargs: Any) -> None:
        calls.append("index")
        raise Stop

    monkeypatch.setattr(server, "limit_malloc_arenas", lambda n: calls.append(f"arenas {n}"))
    monkeypatch.setattr(server, "forget_deep_link_copies", lambda: calls.append("deep links"))
    monkeypatch.setattr(index_module, "Index", index)
    with pytest.raises(Stop):
        server.serve(settings.model_copy(update={"malloc_arenas": 3}), block=False)
    assert calls == ["arenas 3", "deep links", "index"]


def test_a_busy_port_waits_for_the_warm_up_before_exiting(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI saw `app.py --port <busy>` print its one clear line and then die of SIGSEGV (-11):
    the process exited while the warm-up thread was inside the embedding engine's C code. The
    page now lets the warm-up finish (its `ready` event) before it reports the busy port."""
    import threading

    import assistant.answer as answer_module
    import assistant.store.index as index_module
    import assistant.web.server as server
    from assistant.errors import ConfigError

    calls: list[str] = []
    given: list[threading.Event] = []  # the event the warm-up was given (threads make others)

    class Ready(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            if self in given:
                calls.append("waited for the warm-up")
            return super().wait(timeout)

    def warm_up(bot: object, ready: threading.Event) -> None:
        given.append(ready)
        ready.set()

    class App:
        def queue(self, **kwargs: Any) -> None:
            pass

        def launch(self, **kwargs: Any) -> None:
            calls.append("launch")
            raise OSError("port taken")

    monkeypatch.setattr(server.threading, "Event", Ready)
    monkeypatch.setattr(server, "limit_malloc_arenas", lambda n: None)
    monkeypatch.setattr(server, "forget_deep_link_copies", lambda: None)
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # serve sets it: restored after
    monkeypatch.setattr(server, "ensure_index", lambda s, i: None)
    monkeypatch.setattr(server, "build_app", lambda *a, **k: App())
    monkeypatch.setattr(server, "warm_up", warm_up)
    monkeypatch.setattr(index_module, "Index", lambda s: object())
    monkeypatch.setattr(answer_module, "Assistant", lambda s, index: object())
    monkeypatch.setattr(server, "trim_after_take_ups", lambda bot, s: None)
    with pytest.raises(ConfigError, match="Cannot serve"):
        server.serve(settings, block=False)
    assert calls == ["launch", "waited for the warm-up"]


def test_the_previous_lexicon_is_released_after_catch_up(settings: Settings,
                                                         bow_embeddings: Any) -> None:
    """After another process's ingest is taken up, nothing keeps the previous generation's
    lexicon (and its memos) alive. Passed before this branch: kept as a guard."""
    from assistant.retrieve.hybrid import HybridRetriever

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    retriever = HybridRetriever(index, settings)
    retriever.retrieve("How many scientific institutions took part in the Armenian survey?")
    old = weakref.ref(retriever.lexicon())
    src = settings.data_path.parent / "zorvian.md"
    src.write_text("# Zorvian\n\nThe Zorvian council approved seventeen micro-credentials.\n",
                   encoding="utf-8")
    assert ingest(settings, paths=[src], index=Index(settings, embeddings=bow_embeddings)).ok
    retriever.catch_up()
    retriever.retrieve("Zorvian council")
    gc.collect()
    assert retriever.lexicon().generation != getattr(old(), "generation", None)
    assert old() is None


def _strings(value: Any) -> list[str]:
    """Every string inside a state (dicts, lists, tuples; dataclasses are not entered)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_session_state_keeps_no_rendered_chat(settings: Settings,
                                                  bow_embeddings: Any) -> None:
    """Gradio keeps every session's state and the chat it last sent: the state holds the
    answers and the turns, not the messages' HTML a second time; the chat is drawn the same."""
    from conftest import handler_steps

    from assistant.answer import Assistant
    from assistant.web.page import build_app
    from assistant.web.sources import chat_text

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    app = build_app(settings, Assistant(settings, index=index))
    ask = next(f.fn for f in app.fns.values() if f.api_name == "ask")
    q1 = "How many scientific institutions took part in the Armenian survey?"
    state = handler_steps(ask, q1, [], [], "extractive", None)[-1][2]
    refused = handler_steps(ask, "", [], [], "extractive", state)[-1]
    assert refused[0][-1]["content"].startswith("⚠ The question is empty")
    msgs, _panel, state, _box = handler_steps(
        ask, "When was the Georgian questionnaire available?", [], [], "extractive",
        refused[2])[-1]
    first, second = state["answers"]
    assert msgs == [{"role": "user", "content": q1},
                    {"role": "assistant", "content": chat_text(first, 1)},
                    {"role": "user", "content": "When was the Georgian questionnaire available?"},
                    {"role": "assistant", "content": chat_text(second, 2)}]
    assert "<details" in msgs[1]["content"]  # the messages do carry their source cards
    kept = _strings(state)
    assert kept  # the questions are there
    assert not [s for s in kept if "<details" in s or "<div" in s or "<span" in s]


def test_the_page_remembers_a_bounded_number_of_sessions(settings: Settings) -> None:
    """Gradio forgets a session only when ``state_session_capacity`` newer ones exist (10,000
    by default, each 0.3-0.5 MB of chat and component settings)."""
    from assistant.web.server import launch_options

    options = launch_options(settings.model_copy(update={"page_sessions": 123}), None)
    assert options["state_session_capacity"] == 123
    assert launch_options(settings, None)["state_session_capacity"] <= 1000


def test_sessions_keep_no_copy_of_the_page_for_deep_links(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Gradio kept every component's settings and last value per session (0.2-0.3 MB), for
    deep links the page does not offer; a session's gr.State and updates are still kept."""
    import gradio as gr
    from gradio import state_holder

    from assistant.web.memory import forget_deep_link_copies

    monkeypatch.setattr(state_holder, "SessionState", state_holder.SessionState)  # restored
    with gr.Blocks() as app:
        state = gr.State({"turns": []})
        chat = gr.Chatbot()
        box = gr.Textbox("start")
    holder = state_holder.StateHolder()
    holder.set_blocks(app)
    before = holder["a"]
    assert before.config_values  # gradio's own: a copy of every component's settings
    forget_deep_link_copies()
    forget_deep_link_copies()  # once is enough; twice changes nothing
    session = holder["b"]
    assert not session.config_values
    session[state._id] = {"turns": [("user", "hi")]}
    session[box._id] = gr.Textbox("per session", render=False)
    session._update_value_in_config(chat._id, [{"role": "user", "content": "x" * 5000}])
    assert not session.config_values
    assert session[state._id] == {"turns": [("user", "hi")]}
    assert session[box._id].value == "per session"
    assert holder["b"] is session
    assert "a" in holder
