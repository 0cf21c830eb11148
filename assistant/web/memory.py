"""How the page keeps its memory in bounds: glibc's malloc arenas and trim (nothing elsewhere)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
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
