"""The page gives its freed heap back after it takes up a new index generation (issue 19's
soak: the take-up's step in RSS was glibc's high-water mark, not objects kept)."""

from __future__ import annotations

from typing import Any

from assistant.config import Settings
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.web.memory import HeapTrims


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def trims(interval_s: float = 60.0) -> tuple[HeapTrims, Clock, list[float]]:
    clock = Clock()
    ran: list[float] = []
    return HeapTrims(interval_s, trim=lambda: ran.append(clock.now), clock=clock), clock, ran


def test_nothing_is_trimmed_without_a_take_up() -> None:
    t, clock, ran = trims()
    assert t.due_in() is None
    clock.now += 3600
    assert not t.tick()
    assert ran == []


def test_a_take_up_trims_at_once_and_once_more_an_interval_later() -> None:
    t, clock, ran = trims(60.0)
    t.taken_up()
    assert t.due_in() == 0.0
    assert t.tick()  # at once
    assert not t.tick()  # not twice within the interval
    assert t.due_in() == 60.0
    clock.now += 59.9
    assert not t.tick()
    clock.now += 0.1
    assert t.tick()  # the second, an interval later
    clock.now += 3600
    assert t.due_in() is None
    assert not t.tick()  # and no more without a new take-up
    assert ran == [1000.0, 1060.0]


def test_take_ups_within_the_interval_never_trim_more_than_once_in_it() -> None:
    """An ingest beside the page is taken up every few seconds: one trim a minute at most, and
    the last take-up still gets its two."""
    t, clock, ran = trims(60.0)
    for _ in range(100):  # 200 s of take-ups every 2 s, the decision asked after each
        t.taken_up()
        t.tick()
        clock.now += 2.0
    assert ran == [1000.0, 1060.0, 1120.0, 1180.0]
    for _ in range(300):  # then quiet: the two owed by the last take-up
        t.tick()
        clock.now += 1.0
    assert ran == [1000.0, 1060.0, 1120.0, 1180.0, 1240.0, 1300.0]
    assert all(b - a >= 60.0 for a, b in zip(ran, ran[1:], strict=False))


def test_an_interval_of_zero_never_trims() -> None:
    t, _, ran = trims(0.0)
    t.taken_up()
    assert t.due_in() is None
    assert not t.tick()
    assert ran == []


def test_the_retriever_tells_of_each_generation_taken_up_after_the_first(
        settings: Settings, bow_embeddings: Any) -> None:
    """Its own upload (``catch_up``) and another process's ingest (the check every 2 s) alike;
    not the first build at start, nor a check that finds the index unchanged."""
    from assistant.retrieve.hybrid import HybridRetriever

    index = Index(settings, embeddings=bow_embeddings)
    assert ingest(settings, index=index).ok
    retriever = HybridRetriever(index, settings)
    told: list[str] = []
    retriever.on_new_generation.append(lambda: told.append("new"))
    retriever.retrieve("How many institutions took part in the Armenian survey?")
    retriever.catch_up()  # nothing changed
    assert told == []

    def add(name: str) -> None:
        src = settings.data_path.parent / f"{name}.md"
        src.write_text(f"# {name}\n\nThe {name} council approved seventeen micro-credentials.\n",
                       encoding="utf-8")
        assert ingest(settings, paths=[src], index=Index(settings, embeddings=bow_embeddings)).ok

    add("Zorvian")
    retriever.catch_up()
    assert told == ["new"]
    add("Kelvarian")  # written by "another process"; taken up by the next check
    retriever._lex_checked = 0.0  # the 2 s since the last check have passed
    retriever.retrieve("Kelvarian council")
    assert told == ["new", "new"]


def test_the_thread_trims_after_a_take_up_and_survives_a_failing_trim() -> None:
    """``start``'s loop, not only ``tick``: woken by a take-up it trims at once; a trim that
    raises is logged and the loop goes on (the next take-up still trims). The test waits on
    the trims themselves (events), never on the clock: the injected clock never moves, so the
    second owed trim is never due while it runs."""
    import threading

    clock = Clock()
    done = [threading.Event() for _ in range(3)]
    calls: list[int] = []

    def trim() -> None:
        calls.append(len(calls))
        done[len(calls) - 1].set()
        if len(calls) == 2:
            raise OSError("malloc_trim failed")

    t = HeapTrims(60.0, trim=trim, clock=clock)
    thread = t.start()
    assert thread.daemon
    assert thread.name == "heap-trims"
    assert t.due_in() is None  # nothing owed: the thread waits for a take-up
    assert calls == []
    t.taken_up()
    assert done[0].wait(30), "the take-up did not wake the thread"
    clock.now += 60.0  # the second owed trim is due; a new take-up wakes the thread for it
    t.taken_up()
    assert done[1].wait(30)  # this one raises
    clock.now += 60.0
    t.taken_up()
    assert done[2].wait(30), "a failing trim stopped the thread"
    assert thread.is_alive()
    assert t.trims == 3
    assert calls == [0, 1, 2]
