"""The index on a real Chroma server (``chroma run``), started on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings

pytestmark = pytest.mark.integration

CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_heartbeat(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no heartbeat from {url} within {timeout:.0f} s")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A ``chroma run`` subprocess; yields its base URL and stops it by pid afterwards."""
    assert CHROMA.is_file(), f"{CHROMA} is missing: pip install chromadb"
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "chroma-server"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_heartbeat(f"{base}/api/v2/heartbeat", proc)
        yield base
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_ingest_and_retrieve_through_a_chroma_server(chroma_server: str, tmp_path: Path,
                                                     real_embeddings) -> None:  # noqa: ANN001
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path, chroma_url=chroma_server)
    index = Index(s, embeddings=real_embeddings)
    report = ingest(s, index=index)
    assert sorted(report.added) == ["d11-armenia", "d11-georgia"], report.summary()
    assert index.count() == report.chunks_added > 100
    assert not (tmp_path / "index").exists()  # nothing went to the embedded index folder

    # A second Index object (as another process would) sees the same collection on the server.
    again = Index(s, embeddings=real_embeddings)
    assert ingest(s, index=again).chunks_added == 0
    results = HybridRetriever(again, s).retrieve(
        "How many scientific institutions responded to the survey in Armenia?")
    assert any(r.passage.doc_id == "d11-armenia"
               and "22 Scientific institutions" in r.passage.text for r in results[:3]), [
        (r.passage.doc_id, r.passage.section) for r in results[:3]]


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from assistant.errors import IndexError_
    from assistant.store.index import Index

    s = make_settings(tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexError_, match="127.0.0.1"):
        Index(s).count()
