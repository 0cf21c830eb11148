"""What a question costs the page's server (issue 19): work per request that holds the GIL."""

from __future__ import annotations

from pathlib import Path
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


def test_nearest_sentences_are_read_without_their_metadata(
        settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sentence's id is "passage id:start", so the 96 nearest sentences of a question need
    only ids and distances: Chroma's metadata rows cost about 2.5 ms of CPU a question. The
    passages and similarities are those the metadata gives, filtered or not."""
    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    vec = bow_embeddings.embed_query("scientific institutions in the Armenian survey")
    collection = type(index.sentences)
    asked: list[Any] = []
    query = collection.query

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("include"))
        return query(self, *args, **kwargs)

    for where in (None, {"country": {"$in": ["AM"]}}):
        res = index.sentences.query(query_embeddings=[vec], n_results=40, where=where,
                                    include=["metadatas", "distances"])
        expected = [(str(m["passage_id"]), 1.0 - d)
                    for m, d in zip(res["metadatas"][0], res["distances"][0], strict=True)]
        monkeypatch.setattr(collection, "query", spy)
        got = index.query_sentences(vec, 40, where=where)
        monkeypatch.setattr(collection, "query", query)
        assert got == expected
        assert len({pid for pid, _ in got}) > 1
    assert asked == [["distances"], ["distances"]]


def test_nearest_passages_are_read_once_while_the_index_is_unchanged(
        settings: Settings, bow_embeddings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A question's 24 nearest passages come with their text and metadata, which Chroma reads
    from SQLite: about 2 ms of CPU a question. Kept per passage id until any write to the
    index (the generation stamp changes), the list is the one Chroma returns whole, and a
    change of metadata is seen by the next question."""
    import dataclasses

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    vec = bow_embeddings.embed_query("scientific institutions in the Armenian survey")

    def whole(where: dict[str, Any] | None) -> list[tuple[Any, float]]:
        from assistant.types import Passage

        res = index.collection.query(query_embeddings=[vec], n_results=24, where=where,
                                     include=["documents", "metadatas", "distances"])
        return [(Passage.from_metadata(pid, text, dict(meta)), 1.0 - d) for pid, text, meta, d
                in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                       res["distances"][0], strict=True)]

    for where in (None, {"country": {"$in": ["GE"]}}):
        assert index.query(vec, 24, where=where) == whole(where)
    collection = type(index.collection)
    reads: list[Any] = []
    originals = {name: getattr(collection, name) for name in ("get", "query")}

    def spying(name: str) -> Any:
        def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
            reads.extend(f"{name} {x}" for x in kwargs.get("include") or ["(default)"]
                         if x in {"documents", "metadatas", "(default)"})
            return originals[name](self, *args, **kwargs)
        return spy

    for name in originals:
        monkeypatch.setattr(collection, name, spying(name))
    again = index.query(vec, 24)
    for name, fn in originals.items():
        monkeypatch.setattr(collection, name, fn)
    assert again == whole(None)
    assert reads == []  # every passage known: no text or metadata read again

    first = again[0][0]
    index.update_metadata([dataclasses.replace(first, title="A title changed since")])
    changed = index.query(vec, 24)
    assert changed[0][0].title == "A title changed since"
    assert changed == whole(None)
    (settings.index_path / ".generation").unlink()  # no stamp (as with a Chroma server)
    assert index.query(vec, 24) == whole(None)


def test_an_empty_index_answers_a_query_with_nothing(settings: Settings,
                                                     bow_embeddings: Any) -> None:
    index = Index(settings, embeddings=bow_embeddings)
    vec = bow_embeddings.embed_query("anything")
    assert index.query(vec, 5) == []
    assert index.query_sentences(vec, 5) == []


def test_gradio_does_not_rebuild_its_monitoring_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gradio rebuilds a table of past events for its monitoring page (off here) and keeps a
    dictionary per event, 10,000 deep by default: CPU per question, and about 3 MB that the
    soak saw grow over its first minutes."""
    import gradio as gr

    from assistant.web.server import gradio_env

    for key in ("GRADIO_ANALYTICS_CACHE_FREQUENCY", "GRADIO_ANALYTICS_MAX_EVENTS"):
        monkeypatch.setenv(key, "1")  # restored after the test
        monkeypatch.delenv(key)
    gradio_env()
    with gr.Blocks() as app:
        gr.Markdown("x")
    app.queue()
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY >= 10**9
    assert app._queue.ANALYTICS_MAX_EVENTS <= 100


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
    real = text._strip_for_display
    monkeypatch.setattr(text, "_strip_for_display", lambda t: calls.append(t) or real(t))
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
    events: list[str] = []
    monkeypatch.setattr(corpus_tab, "release_memory",
                        lambda: released.append(index.count()) or events.append("trim"))
    rows = corpus_tab.corpus_rows
    monkeypatch.setattr(corpus_tab, "corpus_rows",
                        lambda *a: events.append("table") or rows(*a))
    app = build_app(settings, Assistant(settings, index=index))
    upload = next(f.fn for f in app.fns.values() if f.api_name == "upload")
    before = index.count()
    note = settings.data_path.parent / "notes.md"
    note.write_text("# Notes\n\nThe Zorblat council met in Yerevan.\n", encoding="utf-8")
    msg, _table, _ = upload(str(note))
    assert msg.startswith("Added \u201cnotes\u201d"), msg
    assert released
    assert set(released) == {before + 1}
    # and the last trim after the corpus table was read again (it allocates too; the soak's
    # take-up left glibc's heap up)
    assert "table" in events
    assert events[-1] == "trim"


def test_memoised_passage_work_follows_the_index(settings: Settings, bow_embeddings: Any,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """What retrieval memoises per passage (vectors, sentence tokens, typo matches) lives in
    the lexicon of one generation: answers from warm memos equal a fresh retriever's, and a
    document ingested by another process gets a new lexicon with nothing carried over."""
    import assistant.retrieve.hybrid as hybrid

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    warm = hybrid.HybridRetriever(index, settings)
    questions = ["How many scientific institutions took part in the Armenian survey?",
                 "When was the Georgian questionaire available?"]  # a typo on purpose
    for q in questions:
        warm.retrieve(q)
    old = warm.lexicon()
    assert old._vectors  # the memos were used
    assert old._units
    assert old._close
    for q in questions:
        assert warm.retrieve(q) == hybrid.HybridRetriever(index, settings).retrieve(q)

    src = tmp_path / "zorvian.md"
    src.write_text("# Zorvian\n\nThe Zorvian council approved seventeen micro-credentials "
                   "for scientific institutions in 2031.\n", encoding="utf-8")
    other = Index(settings, embeddings=bow_embeddings)  # another process's ingest
    assert ingest(settings, paths=[src], index=other).ok
    later = hybrid.time.monotonic() + 60  # past the lexicon's 2-second check
    monkeypatch.setattr(hybrid.time, "monotonic", lambda: later)
    got = warm.retrieve("Zorvian council scientific institutions")
    new = warm.lexicon()
    assert new is not old
    assert new.generation != old.generation
    zorvian = [p.id for p in new.passages if "Zorvian council" in p.text]
    assert zorvian
    assert set(zorvian) <= set(new.storage)
    assert not set(new._vectors) - set(new.by_id)
    assert got == hybrid.HybridRetriever(index, settings).retrieve(
        "Zorvian council scientific institutions")


def test_memoised_vectors_give_the_cosines_one_read_gives(settings: Settings,
                                                          bow_embeddings: Any) -> None:
    """Cosines from memoised vectors are the floats of one Chroma read, to the last bit (rows
    in Chroma's order: BLAS rounds a row differently in another place of the matrix)."""
    import random

    import numpy as np

    from assistant.retrieve.hybrid import HybridRetriever

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    retriever = HybridRetriever(index, settings)
    lex = retriever.lexicon()
    ids = [p.id for p in lex.passages]
    rng = random.Random(7)
    q = bow_embeddings.embed_query("micro-credentials quality assurance in Georgia")
    for n in (1, 3, 9, 17, 40, len(ids)):
        some = rng.sample(ids, min(n, len(ids)))
        got_ids, vectors = index.embeddings_of(some)
        sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(q, np.float32)
        want = {pid: float(c) for pid, c in zip(got_ids, sims, strict=True)}
        assert retriever._cosines(lex, some, q) == want


def test_span_plans_are_shared_but_each_question_keeps_its_cosines() -> None:
    from assistant.answer.spans import build_spans
    from assistant.types import Passage, ScoredPassage

    text = "Results of the survey:\n- 22 institutions answered.\n- 9 did not.\n\nIt ended."
    p = Passage(id="p1", doc_id="d", title="T", text=text)
    units = tuple((text.index(u), text.index(u) + len(u)) for u in (
        "Results of the survey:", "- 22 institutions answered.", "- 9 did not.", "It ended."))
    first = ScoredPassage(p, 1.0, sentences=tuple((a, b, 0.1 * i) for i, (a, b) in
                                                  enumerate(units)))
    second = ScoredPassage(p, 1.0, sentences=tuple((a, b, 0.5) for a, b in units))
    a, b = list(build_spans(first)), list(build_spans(second))
    assert [(s.start, s.end, s.kind) for s in a] == [(s.start, s.end, s.kind) for s in b]
    assert any(s.kind == "list" for s in a)
    assert {s.sims for s in b} == {(0.5,) * len(s.units) for s in b}
    assert a[0].sims == (0.0,)
    assert a[-1].sims == (0.1 * 3,)


def test_the_ask_handler_streams_only_what_streams(tmp_path: Path) -> None:
    """Gradio runs Ask as an async generator (two worker-thread calls a question, not three):
    a quoted answer comes in one step, an llm answer still streams partial by partial."""
    import inspect
    import threading

    from conftest import handler_steps

    from assistant.types import Answer
    from assistant.web.chat_tab import make_async_ask
    from assistant.web.common import Page

    class Bot:
        def ask_stream(self, question: str, history: Any = None, filters: Any = None,
                       mode: str = "extractive") -> Any:
            texts = ["Partial", "Partial answer", "Partial answer [1]"] if mode == "llm" else [
                "“Quoted.” [1]"]
            for text in texts:
                yield Answer(question=question, text=text, citations=[], passages=[],
                             abstained=False, mode=mode)

    ready = threading.Event()
    ready.set()
    page = Page(None, Bot(), ready, "", tmp_path, {"docs": []})  # type: ignore[arg-type]
    ask = make_async_ask(page)
    assert inspect.isasyncgenfunction(ask)
    quoted = handler_steps(ask, "What?", [], [], "extractive", None)
    assert len(quoted) == 1
    assert quoted[0][2]["pairs"] == [("What?", "“Quoted.” [1]")]
    streamed = handler_steps(ask, "What?", [], [], "llm", None)
    assert len(streamed) == 3
    assert len({out[0][-1]["content"] for out in streamed}) == 3  # each partial shown
    assert streamed[-1][2]["pairs"] == [("What?", "Partial answer [1]")]
