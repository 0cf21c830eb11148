"""Benchmark-only memory probe for the page's process (``soak.py --probe``; never installed).

When ``MEMPROBE_OUT`` is set, SIGUSR1 appends one JSON line to that file: resident and
anonymous memory (``/proc/self/smaps_rollup``), glibc's heap (``mallinfo2``: arena bytes, in
use, free inside the arenas, mmapped) and its number of arenas (``malloc_info``), threads,
gradio's sessions with the mean size of their ``gr.State`` values and of the component
settings gradio keeps per session, gradio's monitoring events and the lexicons alive.
"""

import os

if os.environ.get("MEMPROBE_OUT"):
    import ctypes
    import gc
    import json
    import re
    import signal
    import sys
    import tempfile
    import time

    class _MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost")]

    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.mallinfo2.restype = _MallInfo2
    _LIBC.fopen.restype = ctypes.c_void_p
    _BUSY = []

    def _arenas() -> int:
        fd, path = tempfile.mkstemp()
        os.close(fd)
        fp = _LIBC.fopen(path.encode(), b"w")
        _LIBC.malloc_info(0, ctypes.c_void_p(fp))
        _LIBC.fclose(ctypes.c_void_p(fp))
        with open(path) as fh:
            n = len(re.findall(r"<heap nr=", fh.read()))
        os.unlink(path)
        return n

    def _deep(x, seen):  # bytes of containers and the project's dataclasses, shared once
        if id(x) in seen:
            return 0
        seen.add(id(x))
        n = sys.getsizeof(x)
        if isinstance(x, dict):
            n += sum(_deep(k, seen) + _deep(v, seen) for k, v in x.items())
        elif isinstance(x, (list, tuple, set, frozenset)):
            n += sum(_deep(v, seen) for v in x)
        elif hasattr(x, "__dataclass_fields__"):
            n += sum(_deep(getattr(x, f, None), seen) for f in x.__dataclass_fields__)
        return n

    def _probe() -> dict:
        out = {"t": time.time()}
        with open("/proc/self/smaps_rollup") as fh:
            for line in fh:
                k, *v = line.split()
                if k.rstrip(":") in ("Rss", "Anonymous"):
                    out[k.rstrip(":").lower()] = int(v[0]) // 1024
        mi = _LIBC.mallinfo2()
        out.update({f"malloc_{f}": getattr(mi, f) // 2**20
                    for f in ("arena", "uordblks", "fordblks", "hblkhd")})
        out["arenas"] = _arenas()
        out["threads"] = len(os.listdir("/proc/self/task"))
        gc.collect()
        lexicons = 0
        # gc.get_objects() also returns tuples that another thread is still building: while
        # this list holds them, that thread's tuple() fails with SystemError ("bad argument
        # to internal function", seen once in a soak). No other thread runs meanwhile.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        try:
            lexicons = _walk(out)
        finally:
            sys.setswitchinterval(interval)
        out["lexicons"] = lexicons
        out["took_s"] = round(time.time() - out["t"], 2)
        return out

    def _walk(out: dict) -> int:
        """Sessions, events and lexicons, found among every object the collector tracks."""
        lexicons = 0
        for o in gc.get_objects():
            name = type(o).__name__
            if name == "_Lexicon":
                lexicons += 1
            elif name == "StateHolder" and o.session_data:
                sessions = list(o.session_data.values())
                out["sessions"] = len(sessions)
                out["state_kb"] = sum(_deep(s.state_data, set()) for s in sessions) \
                    // len(sessions) // 1024
                out["config_kb"] = sum(_deep(s.config_values, set()) for s in sessions) \
                    // len(sessions) // 1024
            elif name == "Queue" and hasattr(o, "event_analytics"):
                out["events"] = len(o.event_analytics)
        return lexicons

    def _on_signal(signum, frame) -> None:
        if _BUSY:  # a probe still running: skip this one
            return
        _BUSY.append(1)
        try:
            with open(os.environ["MEMPROBE_OUT"], "a") as fh:
                fh.write(json.dumps(_probe()) + "\n")
        finally:
            _BUSY.clear()

    signal.signal(signal.SIGUSR1, _on_signal)
