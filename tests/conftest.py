"""Shared fixtures. Unit tests run on fakes; ``integration`` tests use the real model and Chroma.

No test may reach outside this machine: connections to anything but loopback are refused.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import assistant  # noqa: F401  (applies the offline settings)
from assistant.config import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            ip = ipaddress.ip_address(socket.gethostbyname(str(host)))
        except (OSError, ValueError):
            ip = None
        if ip is None or not ip.is_loopback:
            raise OSError(f"tests may not connect outside this machine (tried {host})")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


def make_settings(tmp_path: Path, copy_corpus: bool = True, **overrides: object) -> Settings:
    """Settings whose corpus, index and data live under tmp_path."""
    corpus = tmp_path / "corpus"
    if copy_corpus:
        shutil.copytree(REPO / "corpus", corpus, ignore=shutil.ignore_patterns("eval"))
    else:
        corpus.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = dict(
        home=REPO,
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        collection=f"t_{uuid.uuid4().hex[:12]}",
        # The reranker's relevance of a fake embedding's passages means nothing: no `none`
        # from the relevance floor unless a test asks for it (the real assistant does).
        answer_none_below=0.0,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# Two small survey reports, Alpha (AM) and Beta (GE), for the answer step's tests.
SURVEY_ALPHA = """# Alpha country report

## Survey

The Alpha survey was answered by 41 universities and 9 colleges in total.

The Alpha questionnaire was open from March 3rd to April 9th, 2024.
"""

SURVEY_BETA = """# Beta country report

## Survey

The Beta survey was answered by 17 universities.

The Beta questionnaire was open from May 5th to May 20th, 2024.
"""


def two_reports(tmp_path: Path, alpha: str, beta: str, embeddings: object,
                **overrides: object) -> tuple[Settings, Any]:
    """Settings and an ingested Index of two small reports: ``alpha`` (AM) and ``beta`` (GE)."""
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path, copy_corpus=False, **overrides)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    (docs / "alpha.md").write_text(alpha, encoding="utf-8")
    (docs / "beta.md").write_text(beta, encoding="utf-8")
    s.manifest_path.write_text(
        '[[document]]\nid = "alpha"\ntitle = "Alpha report"\ncountry = "AM"\n'
        'doc_type = "report"\npath = "documents/alpha.md"\n\n'
        '[[document]]\nid = "beta"\ntitle = "Beta report"\ncountry = "GE"\n'
        'doc_type = "report"\npath = "documents/beta.md"\n', encoding="utf-8")
    index = Index(s, embeddings=embeddings)
    assert ingest(s, index=index).added == ["alpha", "beta"]
    return s, index


def settings_env(s: Settings) -> dict[str, str]:
    """The environment variables that give another process the same corpus, index and data."""
    return {
        "ASSISTANT_INDEX_DIR": str(s.index_path),
        "ASSISTANT_DATA_DIR": str(s.data_path),
        "ASSISTANT_CORPUS_DIR": str(s.corpus_path),
        "ASSISTANT_COLLECTION": s.collection,
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def fake_embeddings():  # noqa: ANN201
    from langchain_core.embeddings import DeterministicFakeEmbedding

    return DeterministicFakeEmbedding(size=32)


class BagOfWordsEmbeddings:
    """A fake with meaning: hashed word counts, normalised. Similar wording, similar vectors."""

    def __init__(self, size: int = 256) -> None:
        self.size = size

    def _vec(self, text: str) -> list[float]:
        import hashlib
        import math

        from assistant.text import tokens

        v = [0.0] * self.size
        for t in tokens(text):
            v[int(hashlib.md5(t.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


@pytest.fixture
def bow_embeddings() -> BagOfWordsEmbeddings:
    return BagOfWordsEmbeddings()


@pytest.fixture(scope="session")
def real_embeddings():  # noqa: ANN201
    from assistant.store.index import load_embeddings

    return load_embeddings(Settings())


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory, real_embeddings):  # noqa: ANN001, ANN201
    """The bundled corpus ingested once with the real model into a temporary Chroma."""
    from assistant.answer import Assistant
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path_factory.mktemp("real"), answer_none_below=None)
    index = Index(s, embeddings=real_embeddings)
    report = ingest(s, index=index)
    assert report.ok, report.summary()
    assert report.chunks_added > 100, report.summary()
    return Assistant(s, index=index)


def full_disk_after_half(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next writes behave like a disk that fills half-way through: half of the bytes
    land, then OSError(ENOSPC) (what a plain ``write`` leaves behind as a torn line)."""
    import errno
    import os

    real_write = os.write

    def half(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half)


def handler_steps(fn: Any, *args: Any) -> list[Any]:
    """Every output a page handler yields, as gradio iterates it (a sync or async generator)."""
    import inspect

    import anyio

    if not inspect.isasyncgenfunction(fn):
        return list(fn(*args))

    async def collect() -> list[Any]:
        return [out async for out in fn(*args)]

    return anyio.run(collect)


def wait_until(ready: Callable[[], object], deadline_s: float, what: str) -> None:
    """Poll ``ready()`` until it holds (progress, not a clock); fail naming ``what`` after a
    generous ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while not ready():
        assert time.monotonic() < end, f"gave up waiting ({deadline_s:g} s): {what}"
        time.sleep(0.05)


def noisy_answer_items(n: int = 120, seed: int = 3, bent: bool = False,
                       right_share: float = 0.7) -> tuple[Any, Any, Any, dict[int, bool]]:
    """Spans of ``n`` items, five each, three items in four answerable: features, labels, item
    groups and answerability, for the answer model's training scripts. A right span is told by
    its first feature's mean (``bent``: by its distance from 0, which no straight line draws)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows, labels, groups = [], [], []
    answerable = {}
    for g in range(n):
        answerable[g] = g % 4 != 0
        for s in range(5):
            right = answerable[g] and s == 0 and rng.random() < right_share
            if bent:
                v = rng.choice([-1, 1]) * rng.uniform(2.0, 3.0) if right else rng.uniform(-1.5, 1.5)
            else:
                v = rng.normal(1.0 if right else 0.0, 1.0)
            rows.append([v, rng.normal(0.0, 1.0)])
            labels.append(int(right))
            groups.append(g)
    return np.asarray(rows), np.asarray(labels), np.asarray(groups), answerable
