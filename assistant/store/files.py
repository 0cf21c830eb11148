"""Files on disk under faults: the ingest lock, whole-line logs, full disks, folder sizes.

- ``ingest_lock`` serialises ingests (command line, page, first run) with an ``flock`` on a lock
  file; the kernel releases it when the holder dies, so a kill -9 never leaves a stale lock.
- ``append_jsonl`` writes one record as one ``write`` on an ``O_APPEND`` descriptor and fsyncs
  it: a full disk leaves no half line for the next record to be glued onto.
  ``read_jsonl`` skips (and reports) any bad line it finds.
- ``disk_full_error`` turns "No space left on device" (from the file system, SQLite or Chroma)
  into one line that names the folder and the space needed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError


class StorageError(AssistantError):
    """A folder is full or cannot be written; reads keep working."""


class BusyError(AssistantError):
    """Another ingest holds the lock for longer than this one may wait."""


# --------------------------------------------------------------------------------------------
# The ingest lock
# --------------------------------------------------------------------------------------------
@contextmanager
def ingest_lock(
    folder: Path, timeout_s: float = 900.0, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``folder/.ingest.lock`` for the block; wait (telling ``notify``) while it is held."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".ingest.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            message = (f"Another ingest is running ({holder}); waiting for it to finish "
                       f"(at most {timeout_s:g} s, ASSISTANT_INGEST_LOCK_TIMEOUT_S).")
            (notify or _stderr)(message)
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BusyError(
                            f"Another ingest is still running ({holder}) after {timeout_s:g} s; "
                            "try again when it has finished (lock file "
                            f"{path})."
                        ) from None
                    time.sleep(0.2)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {stamp}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Whole-line JSON logs
# --------------------------------------------------------------------------------------------
def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line with a single write and an fsync; on a full disk, nothing is left."""
    data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write", str(path))
            os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, size)  # take back a partial line
            full = disk_full_error(exc, path.parent, len(data))
            if full is not None:
                raise full from exc
            raise
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a JSON-lines file, and one message per line that could not be read."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    if not path.exists():
        return records, problems
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                problems.append(f"{path}:{n}: skipped a bad line ({type(exc).__name__})")
                continue
            if isinstance(value, dict):
                records.append(value)
            else:
                problems.append(f"{path}:{n}: skipped a line that is not a JSON object")
    return records, problems


# --------------------------------------------------------------------------------------------
# Full disks
# --------------------------------------------------------------------------------------------
_FULL_MARKERS = ("no space left on device", "database or disk is full", "disk full",
                 "enospc", "quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """Is this error (or one it wraps) a full disk?"""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in {errno.ENOSPC, errno.EDQUOT}:
            return True
        if any(m in str(cur).lower() for m in _FULL_MARKERS):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def free_bytes(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return 0


def _mb(n: float) -> str:
    return f"{n / 1_000_000:.1f} MB"


LOW_SPACE = 4_000_000  # a write error with less free space than this is taken for a full disk


def disk_full_error(exc: BaseException, folder: Path, needed: int) -> StorageError | None:
    """One line for a full disk (naming the folder and the space needed), or None.

    Chroma does not always say so: on a full disk it may fail with "Error in compaction:
    Error purging logs". A write error on a folder with almost no free space is a full disk.
    """
    if not is_disk_full(exc) and free_bytes(folder) >= LOW_SPACE:
        return None
    return StorageError(
        f"The disk holding {folder} is full ({_mb(free_bytes(folder))} free; about "
        f"{_mb(needed)} more is needed). Free some space there or move the folder to a larger "
        "disk; reading and asking keep working."
    )


RESERVE_NAME = ".space-reserve"
RESERVE_BYTES = 8_000_000


def reserve_space(folder: Path, size: int = RESERVE_BYTES) -> bool:
    """Keep ``size`` bytes in a reserve file, to be given back when a write fills the disk.

    SQLite (and so Chroma) cannot even open an index for reading on a disk with no space
    left; releasing the reserve after a failed write keeps reads working.
    """
    path = folder / RESERVE_NAME
    try:
        if path.exists() and path.stat().st_size >= size:
            return True
        if free_bytes(folder) < 2 * size:
            return False
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.write(b"\0" * size)  # real blocks (not a sparse file)
            fh.flush()
            os.fsync(fh.fileno())
        return True
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return False


def release_space(folder: Path) -> None:
    """Give back the reserve (after a write failed on a full disk)."""
    with contextlib.suppress(OSError):
        (folder / RESERVE_NAME).unlink()


def folder_size(folder: Path) -> int:
    """Bytes used by the files under a folder."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
