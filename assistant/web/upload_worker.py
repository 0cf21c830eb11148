"""A page upload is ingested in a child process, so that its memory and CPU stay out of the page.

In the page's process an ingest left its memory behind (the ten-minute soak grew 65%) and its
Python work held the page's GIL while 20 people asked (p95 2.2 s). Now the page starts
``python -m assistant.web.upload_worker`` — a fresh interpreter that inherits nothing of the
page but the one pipe it reports on (no sockets, no credentials: :func:`child_env`,
:func:`scrubbed`) — at a lower CPU priority (``os.nice(settings.upload_nice)``). The child runs
the ingest the command line runs (``assistant.store.ingest.ingest``: the same lock, the same
index, the same checks), saves the lexicon for the next start as ``assistant ingest`` does, and
reports one JSON line per event on the pipe:

- ``{"event": "started", "pid": N}``
- ``{"event": "waiting", "text": "..."}``: another ingest holds the lock
- ``{"event": "progress", "done": n, "total": m, "label": "doc id"}``: after every stored group
- ``{"event": "preparing"}``: saving the lexicon for questions and the next start
- ``{"event": "done", "report": {...}}`` or ``{"event": "error", "kind": ..., "text": ...}``

While it runs the page keeps answering from the index as it was (``Index.holding_generation``);
when it ends the page takes the change up at once (``HybridRetriever.catch_up``), the way it
takes up an ``assistant ingest`` run beside it. A child that ends without a result (killed,
crashed) leaves the index as an interrupted ``assistant ingest`` does: the earlier documents
untouched, any part of the new one marked "partly indexed"; the page says how to finish it.
One child at a time per page.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.offline import OFFLINE_ENV

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.store.ingest import IngestReport

log = logging.getLogger(__name__)

Event = dict[str, Any]
# What the child keeps of the page's environment: where programs, libraries and Python are, the
# locale, and the threading and allocator settings. Nothing that names a server, a proxy or a key.
KEEP_ENV = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
            "LD_LIBRARY_PATH", "VIRTUAL_ENV", "HF_HOME"}
KEEP_ENV_PREFIXES = ("LC_", "PYTHON", "OMP_", "KMP_", "MKL_", "OPENBLAS_", "MALLOC_")

_ONE_CHILD = threading.Lock()
_child_pid: list[int] = []


class UploadInterrupted(AssistantError):
    """The ingest process ended before it reported a result (killed, crashed)."""


@dataclass
class UploadJob:
    """What the child is asked to do. ``embeddings``: None loads the model the settings name
    (a test gives its fake); ``target``: the ingest function (None: the command line's)."""

    settings: Settings
    paths: list[Path]
    uploader: str
    embeddings: Any = None
    target: Callable[..., IngestReport] | None = None


def running_child() -> int | None:
    """The pid of the ingest process running for this page, if one is."""
    return _child_pid[0] if _child_pid else None


def scrubbed(settings: Settings) -> Settings:
    """The settings without what the ingest never needs and must not carry: the language
    model's address and key, the page's login."""
    from pydantic import SecretStr

    return settings.model_copy(update={"llm_base_url": None, "llm_api_key": SecretStr(""),
                                       "username": None, "password": None})


def child_env() -> dict[str, str]:
    """The child's environment: the kept variables, the offline settings, and the folder this
    package is imported from first on its path."""
    import assistant

    env = {k: v for k, v in os.environ.items()
           if k in KEEP_ENV or k.startswith(KEEP_ENV_PREFIXES)}
    env.update(OFFLINE_ENV)
    root = str(Path(assistant.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (root, env.get("PYTHONPATH")) if x)
    return env


# --------------------------------------------------------------------------------------------
# The page's side
# --------------------------------------------------------------------------------------------
def ingest_upload(bot: Assistant, paths: list[Path], uploader: str,
                  on_event: Callable[[Event], None],
                  target: Callable[..., IngestReport] | None = None) -> IngestReport:
    """Add ``paths`` through a child process; the page's index and lexicon take the result up
    once it ends (also when it failed: a killed child may have stored part of a document)."""
    job = UploadJob(bot.settings, paths, uploader, bot.index.embeddings_given, target)
    try:
        return ingest_in_child(job, on_event, bot.index.holding_generation)
    finally:
        try:
            bot.retriever.catch_up()
        except AssistantError as exc:  # the next question's check rebuilds it
            log.warning("the lexicon was not rebuilt after the upload (%s)", exc)
            bot.retriever.refresh()


def ingest_in_child(job: UploadJob, on_event: Callable[[Event], None],
                    while_running: Callable[[], AbstractContextManager[Any]] = nullcontext,
                    ) -> IngestReport:
    """Run ``job`` in a child process, one at a time, passing its events to ``on_event``;
    ``while_running()`` is entered once this job's turn has come, until its child ends.

    Raises what the child's ingest raised: an ``AssistantError`` with its message, an
    ``OSError`` with its errno (a full disk), ``RuntimeError`` for anything else, and
    ``UploadInterrupted`` when the child ends without a result.
    """
    if not _ONE_CHILD.acquire(blocking=False):
        on_event({"event": "waiting",
                  "text": "Another upload on this page is being added; waiting for it."})
        timeout = job.settings.ingest_lock_timeout_s
        if not _ONE_CHILD.acquire(timeout=timeout):
            from assistant.store.files import BusyError

            raise BusyError(f"Another upload is still being added after {timeout:g} s; try "
                            "again when it has finished.")
    try:
        with while_running():
            return _run_child(job, on_event)
    finally:
        _ONE_CHILD.release()


def _run_child(job: UploadJob, on_event: Callable[[Event], None]) -> IngestReport:
    if job.target is None:
        import assistant.store.ingest as ingest_module  # looked up now: a test may replace it

        job.target = ingest_module.ingest
    job.settings = scrubbed(job.settings)
    payload = pickle.dumps((list(sys.path), pickle.dumps(job)))
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.web.upload_worker", str(write_fd)],
            stdin=subprocess.PIPE, stdout=2, pass_fds=(write_fd,), close_fds=True,
            env=child_env(),
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    _child_pid[:] = [proc.pid]
    result: Event | None = None
    try:
        _send_job(proc, payload)
        with os.fdopen(read_fd, encoding="utf-8") as events:
            for line in events:
                event = json.loads(line)
                if event.get("event") in {"done", "error"}:
                    result = event
                else:
                    on_event(event)
        returncode = proc.wait()
    finally:
        _child_pid.clear()
        if proc.poll() is None:  # the page gave up waiting: the child finishes on its own
            threading.Thread(target=proc.wait, daemon=True, name="upload-reaper").start()
    return _result(job, result, returncode)


def _send_job(proc: subprocess.Popen[bytes], payload: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except BrokenPipeError:  # it ended at once: reported as a child without a result
        pass


def _result(job: UploadJob, result: Event | None, returncode: int) -> IngestReport:
    from assistant.store.ingest import IngestReport

    if result is not None and result["event"] == "done":
        return IngestReport(**result["report"])
    if result is not None:
        if result["kind"] == "assistant":
            raise AssistantError(result["text"])
        if result["kind"] == "os":
            raise OSError(result["errno"], result["text"], result.get("filename"))
        raise RuntimeError(f"the ingest process failed: {result['text']}")
    names = ", ".join(p.name for p in job.paths)
    if returncode < 0:
        try:
            how = f"was stopped by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was stopped by signal {-returncode}"
    else:
        how = f"ended with status {returncode} without a result (details in the page's log)"
    raise UploadInterrupted(
        f"Adding {names} stopped before it finished: the ingest process {how}. The documents "
        "indexed before are unchanged; a part of it already stored is shown as partly indexed. "
        "Add the file again to finish it (or run: assistant ingest).")


# --------------------------------------------------------------------------------------------
# The child's side
# --------------------------------------------------------------------------------------------
def run_job(job: UploadJob, send: Callable[[Event], None]) -> IngestReport:
    """The ingest, then the lexicon saved for the page and the next start (as the command
    line's ``assistant ingest`` does)."""
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index

    assert job.target is not None
    index = Index(job.settings, embeddings=job.embeddings)
    report = job.target(
        job.settings, paths=job.paths, index=index, uploader=job.uploader,
        progress=lambda done, total, label: send(
            {"event": "progress", "done": done, "total": total, "label": label}),
        notify=lambda text: send({"event": "waiting", "text": text}),
    )
    if report.chunks_added or report.updated or report.removed:
        send({"event": "preparing"})
        try:
            HybridRetriever(index, job.settings).lexicon()
        except AssistantError as exc:  # the page builds it instead
            log.warning("the lexicon was not saved for the page: %s", exc)
    return report


def main(argv: list[str]) -> int:
    """The child: read the job from stdin, lower its priority, ingest, report on fd argv[0]."""
    out = os.fdopen(int(argv[0]), "w", encoding="utf-8")

    def send(event: Event) -> None:
        try:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            out.flush()
        except OSError:  # the page is gone: the ingest is finished all the same
            pass

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)  # also for libraries that set their loggers to DEBUG
    handler.setFormatter(logging.Formatter("upload ingest (pid %(process)d): %(levelname)s "
                                           "%(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    page_path, blob = pickle.loads(sys.stdin.buffer.read())
    sys.path[:] = [*page_path, *(p for p in sys.path if p not in page_path)]
    job: UploadJob = pickle.loads(blob)
    if job.settings.upload_nice and hasattr(os, "nice"):
        os.nice(job.settings.upload_nice)
    from assistant.safety import install_log_redaction

    install_log_redaction(job.settings)
    send({"event": "started", "pid": os.getpid()})
    try:
        report = run_job(job, send)
    except AssistantError as exc:
        send({"event": "error", "kind": "assistant", "text": str(exc)})
        return 1
    except OSError as exc:
        send({"event": "error", "kind": "os", "errno": exc.errno, "text": exc.strerror or str(exc),
              "filename": exc.filename})
        return 1
    except Exception as exc:
        log.exception("the upload's ingest failed")
        send({"event": "error", "kind": "other", "text": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"event": "done", "report": asdict(report)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
