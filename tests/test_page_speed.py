"""What a question costs the page's server (issue 19): work per request that holds the GIL."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import ingest


def test_a_question_does_not_count_the_collections(settings: Settings, bow_embeddings: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok

    def no_count(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("a question counted a collection")

    monkeypatch.setattr(type(index.collection), "count", no_count)
    vec = bow_embeddings.embed_query("scientific institutions in the Armenian survey")
    got = index.query(vec, 500)  # more than the index holds: all of it, best first
    assert 0 < len(got) < 500
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert index.query_sentences(vec, 3)


def test_an_empty_index_answers_a_query_with_nothing(settings: Settings,
                                                     bow_embeddings: Any) -> None:
    index = Index(settings, embeddings=bow_embeddings)
    vec = bow_embeddings.embed_query("anything")
    assert index.query(vec, 5) == []
    assert index.query_sentences(vec, 5) == []


def test_gradio_does_not_rebuild_its_monitoring_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from assistant.web.server import gradio_env

    monkeypatch.setenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1")  # restored after the test
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY")
    gradio_env()
    with gr.Blocks() as app:
        gr.Markdown("x")
    app.queue()
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY >= 10**9


def test_a_passage_is_tokenised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passages a question reads are tokenised again by every question: cached."""
    import assistant.text as text

    calls: list[str] = []
    real = text.words
    monkeypatch.setattr(text, "words", lambda t: calls.append(t) or real(t))
    passage = "Twenty-two scientific institutions answered the survey in 2023 (unique text 7f3a)."
    first = text.tokens(passage)
    first.append("changed by a caller")  # a caller's list is its own
    assert text.tokens(passage) == first[:-1]
    assert calls == [passage]


def test_a_sentence_is_cleaned_for_display_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.text as text

    calls: list[str] = []
    real = text.strip_markup
    monkeypatch.setattr(text, "strip_markup", lambda t: calls.append(t) or real(t))
    sentence = "The  *survey* was   answered by <b>22</b> institutions (unique text 91c2)."
    shown = "The survey was answered by 22 institutions (unique text 91c2)."
    assert text.display(sentence) == shown
    assert text.display(sentence) == text.display(sentence)
    assert calls == [sentence]


def test_an_upload_gives_the_ingest_memory_back(settings: Settings, bow_embeddings: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """After a document is added on the page, the heap its ingest freed is returned to the
    system (the soak's RSS stayed up by the ingest's size once it ended)."""
    import assistant.web.corpus_tab as corpus_tab
    from assistant.answer import Assistant
    from assistant.web.page import build_app
    from assistant.web.uploads import release_memory

    release_memory()  # runs here (glibc) without an error
    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    released: list[int] = []
    monkeypatch.setattr(corpus_tab, "release_memory", lambda: released.append(index.count()))
    app = build_app(settings, Assistant(settings, index=index))
    upload = next(f.fn for f in app.fns.values() if f.api_name == "upload")
    before = index.count()
    note = settings.data_path.parent / "notes.md"
    note.write_text("# Notes\n\nThe Zorblat council met in Yerevan.\n", encoding="utf-8")
    msg, _table, _ = upload(str(note))
    assert "1 added" in msg
    assert released == [before + 1]  # once, after the new passage was stored
