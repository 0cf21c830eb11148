"""What ingest embeds: each sentence once, never the passage text; a passage's vector is made
from its sentences' vectors; an edited document's unchanged sentences are not embedded again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import BagOfWordsEmbeddings, make_settings

from assistant.store.index import Index
from assistant.store.ingest import embed_passages, ingest
from assistant.types import Passage


class Counting(BagOfWordsEmbeddings):
    """Records every text it embeds; float32 vectors, as the real model returns."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        got = np.asarray(super().embed_documents(texts), dtype=np.float32)
        return [row.tolist() for row in got]


def test_the_passage_text_is_not_embedded_and_its_vector_is_the_mean_of_its_sentences() -> None:
    texts = ["Armenia adopted the framework in 2021. It has eight levels. Credits are ECTS.",
             "Georgia counts workload in hours. A short course gives three credits."]
    passages = [Passage(id=f"p{i}", doc_id="d", title="d", text=t, country="AM")
                for i, t in enumerate(texts)]
    fake = Counting()
    vectors, rows = embed_passages(passages, fake)
    assert len(fake.texts) == 5  # one text per sentence
    assert not any(t in " ".join(fake.texts) for t in texts)  # no passage embedded whole
    assert all(t.startswith("Armenia: ") for t in fake.texts)
    for p, vector in zip(passages, vectors, strict=True):
        mine = np.asarray([r.vector for r in rows if r.passage_id == p.id])
        mean = mine.mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), rtol=0, atol=1e-12)
        assert len(mine) == p.text.count(".")


def _edit(path: Path) -> str:
    """Change one sentence early in the document (every later passage id changes with it)."""
    text = path.read_text(encoding="utf-8")
    old = "The Micro-GEAR project supports structural reforms"
    path.write_text(text.replace(old, "The Micro-GEAR project, begun in 2023, supports "
                                      "structural reforms", 1), encoding="utf-8")
    return "begun in 2023"


def _stored(index: Index, doc_id: str) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    got = index.collection.get(where={"doc_id": doc_id}, include=["embeddings"])
    passages = {pid: list(v) for pid, v in zip(got["ids"], got["embeddings"], strict=True)}
    sentences = {f"{r.passage_id}:{r.start}": list(r.vector)
                 for r in index.sentence_rows(where={"doc_id": doc_id})}
    return passages, sentences


def test_an_edited_document_embeds_only_its_changed_sentences(tmp_path: Path) -> None:
    s = make_settings(tmp_path / "a")
    index = Index(s, embeddings=Counting())
    ingest(s, index=index)
    doc = s.corpus_path / "documents" / "d11-armenia.md"
    changed = _edit(doc)

    fake = Counting()
    index = Index(s, embeddings=fake)
    report = ingest(s, index=index)
    assert report.updated == ["d11-armenia"]
    assert report.chunks_added > 20  # nearly every passage has a new id ...
    assert len(fake.texts) == 1  # ... but one sentence is new
    assert changed in fake.texts[0]
    assert report.sentences_kept > 100
    assert "sentences unchanged, not embedded again" in report.summary()

    # The same vectors as an index built from the edited file at once, to float32's last bit
    # (Chroma normalises what it stores again, so a reused vector can move by one unit).
    fresh = make_settings(tmp_path / "b")
    (fresh.corpus_path / "documents" / "d11-armenia.md").write_text(
        doc.read_text(encoding="utf-8"), encoding="utf-8")
    whole = Index(fresh, embeddings=Counting())
    ingest(fresh, index=whole)
    for got, want in zip(_stored(index, "d11-armenia"), _stored(whole, "d11-armenia"),
                         strict=True):
        assert got.keys() == want.keys()
        for key, vector in got.items():
            np.testing.assert_allclose(vector, want[key], rtol=0, atol=2e-7)
