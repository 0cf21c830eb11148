"""The lexical index (bm25s behind assistant.retrieve.lexical): ranking, persistence, updates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.config import Settings
from assistant.retrieve.lexical import LexicalIndex, cached, store_key
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.text import tokens

DOCS = {
    "a": "The survey of institutions in Armenia: fifty institutions responded to the survey.",
    "b": "Georgian universities issue micro-credentials for lifelong learning.",
    "c": "The council recommendation defines a micro-credential and its standard elements.",
    "d": "Quality assurance of micro-credentials follows the standards of the recommendation.",
}


def reference_bm25(docs: list[list[str]], query: list[str], k1: float = 1.5,
                   b: float = 0.75) -> list[float]:
    """Okapi BM25 as the hand-written engine scored it (Lucene idf)."""
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    out = []
    for d in docs:
        s = 0.0
        for t in dict.fromkeys(query):
            f = d.count(t)
            if f:
                df = sum(1 for x in docs if t in x)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                s += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / avgdl))
        out.append(s)
    return out


@pytest.fixture
def lex() -> LexicalIndex:
    return LexicalIndex.build(list(DOCS), [tokens(t) for t in DOCS.values()])


def test_scores_are_okapi_bm25_of_the_project_tokens(lex: LexicalIndex) -> None:
    docs = [tokens(t) for t in DOCS.values()]
    query = tokens("micro-credentials recommendation standards")
    want = reference_bm25(docs, query)
    got = lex.scores(query)
    assert got.tolist() == pytest.approx(want, rel=1e-5)
    assert [i for i, _ in lex.top(query, 4)] == sorted(
        (i for i in range(4) if want[i] > 0), key=lambda i: -want[i])


def test_top_ranks_the_passage_that_uses_the_rare_words_first(lex: LexicalIndex) -> None:
    hits = lex.top(tokens("How many institutions responded to the survey?"), 3)
    assert [lex.ids[i] for i, _ in hits] == ["a"]  # the only passage with these words
    assert lex.top(tokens("zebra"), 3) == []


def test_boost_scales_a_terms_part_and_accept_filters(lex: LexicalIndex) -> None:
    council, quality = tokens("council quality")
    q = [council, quality]
    plain = lex.scores(q)
    half = lex.scores(q, {quality: 0.5})
    c, d = lex.ids.index("c"), lex.ids.index("d")
    assert plain[c] > 0
    assert plain[d] > 0
    assert half[c] == pytest.approx(plain[c])  # "council" is not boosted
    assert half[d] == pytest.approx(plain[d] * 0.5)
    assert [lex.ids[i] for i, _ in lex.top(q, 4, accept=lambda i: lex.ids[i] != "c")] == ["d"]


def test_statistics_answers_use(lex: LexicalIndex) -> None:
    assert "survey" in lex.vocab
    assert "the" not in lex.vocab
    assert lex.weight("survey") == pytest.approx(math.log(1 + (4 - 1 + 0.5) / 1.5))
    assert lex.weight("neverused") == lex.max_idf > lex.weight("survey")
    assert min(lex.idf.values()) <= lex.typical_weight() <= max(lex.idf.values())


def test_equal_scores_keep_row_order() -> None:
    same = tokens("accreditation of micro-credentials")
    lex = LexicalIndex.build(["x", "y", "z"], [tokens("unrelated words here"), same, same])
    assert [lex.ids[i] for i, _ in lex.top(tokens("accreditation"), 5)] == ["y", "z"]


def test_saved_index_is_loaded_for_the_same_generation_and_replaced_for_a_new_one(
    tmp_path: Path, lex: LexicalIndex
) -> None:
    builds: list[int] = []

    def build() -> LexicalIndex:
        builds.append(1)
        return lex

    first = cached(tmp_path, (4, 9, "stamp-1"), build)
    again = cached(tmp_path, (4, 9, "stamp-1"), build)
    assert len(builds) == 1  # the second came from disk
    assert again is not first
    assert again.ids == lex.ids
    q = tokens("micro-credentials standards")
    assert again.scores(q).tolist() == pytest.approx(lex.scores(q).tolist())
    cached(tmp_path, (5, 9, "stamp-2"), build)
    assert len(builds) == 2
    assert [p.name for p in tmp_path.iterdir()] == [store_key((5, 9, "stamp-2"))]


def test_a_damaged_save_is_rebuilt(tmp_path: Path, lex: LexicalIndex) -> None:
    gen = (1, 1, "s")
    cached(tmp_path, gen, lambda: lex)
    for f in (tmp_path / store_key(gen)).glob("*.npy"):
        f.write_bytes(b"not numpy")
    rebuilt = cached(tmp_path, gen, lambda: LexicalIndex.build(["only"], [["word"]]))
    assert rebuilt.ids == ["only"]


def test_ingest_and_removal_update_the_retrievers_postings(settings: Settings,
                                                           tmp_path: Path) -> None:
    from assistant.retrieve.hybrid import HybridRetriever

    index = Index(settings, embeddings=DeterministicFakeEmbedding(size=32))
    ingest(settings, index=index)
    retriever = HybridRetriever(index, settings)
    assert "zorvian" not in retriever.lexicon().vocab
    src = tmp_path / "zorvian.md"
    src.write_text("The Zorvian council approved seventeen micro-credentials in 2031.\n")
    ingest(settings, paths=[src], index=index)
    retriever.refresh()
    lex = retriever.lexicon()
    assert "zorvian" in lex.vocab
    top = lex.bm25.top(tokens("Zorvian"), 5)
    assert len(top) == 1
    new = lex.passages[top[0][0]]
    assert new.text.startswith("The Zorvian council")
    hits = retriever.retrieve("Zorvian council", {"doc_id": new.doc_id})
    assert hits[0].lexical
    assert hits[0].lexical > 0
    saved = list((settings.index_path / "lexical").iterdir())
    assert [p.name for p in saved] == [store_key(lex.generation)]

    doc_id = new.doc_id
    index.delete(sorted(index.doc_states()[doc_id]["ids"]))
    retriever.refresh()
    after = retriever.lexicon()
    assert "zorvian" not in after.vocab
    assert all(p.doc_id != doc_id for p in after.passages)
    assert after.bm25.top(tokens("Zorvian"), 5) == []
    assert not any(sp.passage.doc_id == doc_id for sp in retriever.retrieve("Zorvian council"))


def test_a_restart_reads_saved_sentence_vectors_not_the_index(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.retrieve.hybrid import HybridRetriever

    index = Index(settings, embeddings=DeterministicFakeEmbedding(size=32))
    ingest(settings, index=index)
    first = HybridRetriever(index, settings).lexicon()
    saved = settings.index_path / "lexical" / store_key(first.generation)
    assert (saved / "sentences.npy").exists()

    def fail() -> None:
        raise AssertionError("read the sentence vectors from Chroma again")

    monkeypatch.setattr(index, "sentence_rows", fail)
    again = HybridRetriever(index, settings).lexicon()
    assert again.sentences.keys() == first.sentences.keys()
    pid = next(iter(first.sentences))
    assert again.sentences[pid][0] == first.sentences[pid][0]
    assert (again.sentences[pid][1] == first.sentences[pid][1]).all()
