"""How the page keeps its memory in bounds: glibc's malloc arenas and trim (nothing elsewhere)."""

from __future__ import annotations

import contextlib
import ctypes
import logging

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
