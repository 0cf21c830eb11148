"""Start ``python app.py`` on 127.0.0.1 for tests and benchmarks, and stop it by its pid."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(
    workdir: Path, settings_env: dict[str, str], timeout: float = 300.0
) -> tuple[subprocess.Popen[bytes], str]:
    """The app on a free loopback port with ``settings_env`` (ASSISTANT_*), once it answers.

    Its output goes to ``workdir/server.log``; RuntimeError (with the log's tail) if it does not
    come up within ``timeout`` seconds (it indexes the corpus at start when the index is empty).
    """
    port = free_port()
    env = {**os.environ, **settings_env, "ASSISTANT_HOST": "127.0.0.1"}
    log = workdir / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(1)
    stop_app(proc)
    raise RuntimeError(f"the app did not come up:\n{log.read_text()[-3000:]}")


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server by its pid: terminate, wait, kill."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def running_app(workdir: Path, settings_env: dict[str, str]) -> Iterator[str]:
    """A fixture's body: the app's URL while it runs; the test fails if it does not come up."""
    import pytest

    try:
        proc, url = start_app(workdir, settings_env)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url
    finally:
        stop_app(proc)
