"""How the page keeps its memory in bounds: glibc's malloc arenas and trim (nothing elsewhere)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS, Windows): nothing to do
        return None


def limit_malloc_arenas(arenas: int) -> bool:
    """Let glibc's malloc keep at most ``arenas`` heaps (0: glibc's default, 8 per core).

    Each thread that allocates gets an arena of its own while there are fewer than the
    limit; the page runs tens of worker threads, and each arena keeps what it freed. Call it
    before the server's threads start. True when the limit was set.
    """
    lib = _libc()
    if lib is None or arenas <= 0:
        return False
    with contextlib.suppress(AttributeError):
        return bool(lib.mallopt(M_ARENA_MAX, int(arenas)))
    return False


def forget_deep_link_copies() -> None:
    """Gradio sessions stop keeping a copy of every component's settings.

    For each session gradio keeps the settings of all the page's components (about 110) with
    the last value sent to each (the chat, the sources), 0.2-0.3 MB a session, only so that
    ``/gradio_api/deep_link`` (a ``gr.DeepLinkButton``; this page has none) can rebuild the
    page. The sessions' ``gr.State`` values and per-session component updates are kept as
    before. Checked against gradio 6.31 (``gradio.state_holder``); idempotent.
    """
    from gradio import state_holder

    base = state_holder.SessionState
    if getattr(base, "keeps_deep_link_copies", True) is False:
        return

    class _Forgotten(dict):  # type: ignore[type-arg]
        def __setitem__(self, key: Any, value: Any) -> None:
            pass  # nothing is kept

    class SessionWithoutDeepLinks(base):  # type: ignore[misc, valid-type]
        keeps_deep_link_copies = False

        def __init__(self, blocks: Any) -> None:
            super().__init__(blocks)
            self.config_values = _Forgotten()

        def _update_config(self, key: int) -> None:
            pass

        def _update_value_in_config(self, key: int, value: Any) -> None:
            pass

    state_holder.SessionState = SessionWithoutDeepLinks  # type: ignore[misc]


def trim_heap() -> None:
    """Give the heap glibc keeps freed back to the system (``malloc_trim``; nothing elsewhere)."""
    lib = _libc()
    if lib is not None:
        with contextlib.suppress(AttributeError):
            lib.malloc_trim(0)


class HeapTrims:
    """Trims the heap after the page takes up a new index generation, off the request path.

    A take-up builds a new lexicon while questions still hold the previous one, which is freed
    only when they finish; glibc keeps what was freed (in a soak, a trim 20 s after a take-up
    still returned 20 MB). So a take-up owes two trims: one as soon as allowed and one
    ``interval_s`` after it, and two trims are never less than ``interval_s`` apart (a long
    ingest beside the page is taken up every few seconds). ``start`` runs them on a thread of
    their own; ``tick`` is the decision, with the clock injected for tests.
    """

    def __init__(self, interval_s: float, trim: Callable[[], None] = trim_heap,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.trims = 0
        self._trim, self._clock = trim, clock
        self._owed = 0
        self._last: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def taken_up(self) -> None:
        """A new index generation is in use: two trims are owed (again)."""
        if self.interval_s <= 0:
            return
        with self._lock:
            self._owed = 2
        self._wake.set()

    def due_in(self) -> float | None:
        """Seconds until an owed trim may run (0: now), or None when none is owed."""
        with self._lock:
            if not self._owed:
                return None
            if self._last is None:
                return 0.0
            return max(0.0, self._last + self.interval_s - self._clock())

    def tick(self) -> bool:
        """Run an owed trim if one may run now; True when it ran."""
        with self._lock:
            now = self._clock()
            if not self._owed or (self._last is not None and now - self._last < self.interval_s):
                return False
            self._owed -= 1
            self._last = now
            self.trims += 1
        self._trim()
        return True

    def start(self) -> threading.Thread:
        """Run owed trims on a daemon thread that sleeps until one is due or a take-up wakes it."""

        def run() -> None:
            while True:
                self._wake.wait(self.due_in())
                self._wake.clear()
                try:
                    self.tick()
                except Exception:  # a trim must never stop the page
                    log.exception("trimming the heap failed")

        thread = threading.Thread(target=run, daemon=True, name="heap-trims")
        thread.start()
        return thread


def trim_after_take_ups(bot: Any, interval_s: float) -> HeapTrims:
    """Trim the page's heap after each new index generation its retriever takes up."""
    trims = HeapTrims(interval_s)
    bot.retriever.on_new_generation.append(trims.taken_up)
    trims.start()
    return trims
