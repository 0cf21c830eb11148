"""Whole-collection reads go in pages (one get of 60,000 rows failed in Chroma's SQLite)."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.config import Settings
from assistant.store import index as index_module
from assistant.store.index import Index
from assistant.store.ingest import ingest


def test_whole_collection_reads_are_paged_and_complete(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = Index(settings, embeddings=DeterministicFakeEmbedding(size=16))
    ingest(settings, index=index)
    want_passages = index.passages()
    want_rows = index.sentence_rows()
    assert len(want_rows) > 7
    calls: list[int | None] = []
    real_get = type(index.sentences).get

    def counting_get(self: object, *a: object, **k: object) -> object:
        calls.append(k.get("limit"))  # type: ignore[arg-type]
        return real_get(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(type(index.sentences), "get", counting_get)
    monkeypatch.setattr(index_module, "GET_PAGE", 7)
    rows = index.sentence_rows()
    assert len(calls) >= len(want_rows) // 7  # many pages, each of at most 7 rows
    assert set(calls) == {7}
    assert [(r.passage_id, r.start) for r in rows] == [(r.passage_id, r.start) for r in want_rows]
    assert rows[0].vector.shape == (16,)
    assert [p.id for p in index.passages()] == [p.id for p in want_passages]
    assert sum(s["chunks"] for s in index.doc_states().values()) == len(want_passages)
