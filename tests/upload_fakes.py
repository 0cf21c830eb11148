"""Fakes that run inside the page's upload process (assistant/web/upload_worker.py).

The child imports them by name, so they live in a module of their own (tests/ is on the path
the page hands to its child). None of them sleeps: a fake that must stay busy blocks on a FIFO
or an event until the test releases it or kills the process.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from conftest import BagOfWordsEmbeddings

from assistant.store.ingest import IngestReport


def child_facts(settings: Any, paths: Any, index: Any = None, progress: Any = None,
                uploader: str | None = None, notify: Any = None, **_: Any) -> IngestReport:
    """Report, as the one note of its report, what the child process is and inherited."""
    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    facts = {
        "pid": os.getpid(),
        "nice": os.nice(0),
        "env": sorted(os.environ),
        "fds": fds,
        "sockets": [fd for fd in fds if _is_socket(fd)],
        "api_key": settings.llm_api_key.get_secret_value(),
        "base_url": settings.llm_base_url,
        "password": settings.password,
        "uploader": uploader,
        "paths": [str(p) for p in paths],
    }
    for i in range(1, 4):
        progress(i, 3, "facts")
    return IngestReport(added=["facts"], chunks_added=0, notes=[json.dumps(facts)])


def _is_socket(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    except OSError:
        return False


def pid_note(settings: Any, paths: Any, progress: Any = None, **_: Any) -> IngestReport:
    """A report whose one note names the process that made it, after three progress steps."""
    for i in range(1, 4):
        progress(i, 3, "fake-doc")
    return IngestReport(added=["fake-doc"], chunks_added=3, notes=[f"pid {os.getpid()}"])


def crash(settings: Any, paths: Any, **_: Any) -> IngestReport:
    """The process ends at once, with no result and no error message (as a segfault would)."""
    os._exit(3)


def fails_with_a_bug(settings: Any, paths: Any, **_: Any) -> IngestReport:
    raise ZeroDivisionError("a bug in the ingest")


def held(settings: Any, paths: Any, progress: Any = None, **_: Any) -> IngestReport:
    """Report one step, then wait until the test writes a line to ``paths[0]`` + ".fifo"."""
    progress(0, 1, Path(paths[0]).name)
    with open(f"{paths[0]}.fifo", encoding="utf-8") as fifo:
        fifo.readline()
    return IngestReport(added=[Path(paths[0]).name])


class BlockingEmbeddings(BagOfWordsEmbeddings):
    """Bag-of-words vectors; in any process but the test's own, while ``gate`` exists, the
    second batch of passages writes the process's pid to ``reached`` and then never returns
    (the test kills that process)."""

    def __init__(self, gate: Path, reached: Path) -> None:
        super().__init__()
        self.owner = os.getpid()
        self.gate, self.reached = gate, reached
        self.child_batches = 0  # counted in the other process only (it gets a pickled copy)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if os.getpid() != self.owner:
            self.child_batches += 1
        if self.child_batches >= 2 and self.gate.exists():
            self.reached.write_text(str(os.getpid()), encoding="utf-8")
            threading.Event().wait()
        return super().embed_documents(texts)
