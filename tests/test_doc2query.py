"""Generated questions (doc2query): parsing the model's reply, the cache (resume, keyed by the
passage text), the lexical expansion, the dense feature and its imputation. All on fakes: the
local model is a function that records its prompts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO, BagOfWordsEmbeddings, two_reports

from assistant.prompts import load_prompt
from assistant.retrieve import expansion
from assistant.retrieve.hybrid import HybridRetriever
from assistant.store import doc2query
from assistant.store.embeddings import Profile
from assistant.types import Passage

sys.path.insert(0, str(REPO))
from scripts.doc2query import generate  # noqa: E402

ALPHA = "# Alpha\n\nThe survey was answered by 50 institutions in Yerevan during the spring.\n"
BETA = "# Beta\n\nThe ministry adopted a regulation on short learning programmes last year.\n"


def passage(pid: str, text: str) -> Passage:
    return Passage(id=pid, doc_id=f"d-{pid}", title="Report", text=text)


def test_parse_questions_strips_numbering_and_drops_what_is_not_a_question() -> None:
    reply = ("Here are the questions:\n1. How many institutions answered the survey?\n"
             "2) When was it run?\n- How many institutions answered the survey?\n"
             "* Which city hosted it?\nQuestion 4: Who paid?\n" + "Why " + "x" * 300 + "?")
    assert doc2query.parse_questions(reply, 3) == [
        "How many institutions answered the survey?", "When was it run?",
        "Which city hosted it?"]
    assert doc2query.parse_questions(reply, 5)[-1] == "Who paid?"
    assert doc2query.parse_questions("No questions here.", 3) == []
    two_on_a_line = "What is the business case? How can resources be allocated?\nWhy now?"
    assert doc2query.parse_questions(two_on_a_line, 2) == [
        "What is the business case?", "How can resources be allocated?"]


def test_cache_resumes_and_is_keyed_by_the_passage_text(tmp_path: Path) -> None:
    cache = tmp_path / "questions.jsonl"
    prompt = load_prompt(REPO / "prompts", "doc2query", ("passage", "n"))
    asked: list[str] = []

    def write(text: str) -> str:
        asked.append(text)
        return "1. What does this passage say?\n2. Why does it matter?"

    first = [passage("a", "Text one."), passage("b", "Text two."),
             passage("a-copy", "Text one.")]  # same text, other id: asked once
    generate(first, write, prompt, 2, cache, "sha", log=lambda s: None)
    assert len(asked) == 2
    got = doc2query.load(cache)
    assert set(got) == {doc2query.text_key("Text one."), doc2query.text_key("Text two.")}
    assert got[doc2query.text_key("Text one.")].questions == (
        "What does this passage say?", "Why does it matter?")
    assert got[doc2query.text_key("Text one.")].prompt_version == prompt.version
    # A re-ingest gives passages new ids: their texts are cached, only the new text is asked.
    with cache.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "torn')  # a run stopped mid-line loses nothing else
    generate([passage("x", "Text two."), passage("y", "Text three.")], write, prompt, 2, cache,
             "sha", log=lambda s: None)
    assert len(asked) == 3 and "Text three." in asked[-1]
    assert len(doc2query.load(cache)) == 3


def test_lexical_expansion_adds_the_questions_words() -> None:
    p, q = passage("p", "Fifty institutions answered."), passage("q", "Nothing else.")
    docs = expansion.lexical_docs([p, q], {"p": ("Which universities took part?",)})
    assert "univers" in " ".join(docs[0]) and "univers" not in " ".join(docs[1])
    assert docs[1] == expansion.lexical_docs([q], {})[0]


def test_a_passage_without_questions_gets_its_sentence_cosine_plus_the_offset() -> None:
    import numpy as np

    prof = Profile(relevance_floor=0.3)
    vectors = {"p": np.asarray([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)}
    got = expansion.question_similarity(vectors, ["p", "u"], [0.6, 0.8], prof,
                                        {"p": 0.2, "u": 0.45}, offset=-0.05)
    assert got["p"] == pytest.approx(1.0)  # the best of its questions, not the first
    assert got["u"] == pytest.approx(0.40)


def _with_questions(tmp_path: Path, **overrides: object) -> HybridRetriever:
    """Alpha and beta ingested with a fake embedding; alpha has generated questions."""
    emb = BagOfWordsEmbeddings()
    s, index = two_reports(tmp_path, ALPHA, BETA, emb, **overrides)
    alpha = next(p for p in index.passages() if p.doc_id == "alpha")
    doc2query.append(doc2query.cache_path(s), [doc2query.Entry(
        doc2query.text_key(alpha.text), "alpha", ("Which cathedral hosted the orchestra?",),
        "sha", "v")])
    return HybridRetriever(index, s)


def test_generated_questions_reach_bm25_only_when_the_lexical_expansion_is_on(
        tmp_path: Path) -> None:
    on = _with_questions(tmp_path / "on", doc2query_lexical=True).first_stage(
        "cathedral orchestra")
    off = _with_questions(tmp_path / "off").first_stage("cathedral orchestra")
    assert {on.by_id[pid].doc_id for pid in on.lexs} == {"alpha"}
    assert not off.lexs  # no passage holds these words itself


def test_a_mixed_index_does_not_rank_passages_down_for_lacking_questions(
        tmp_path: Path) -> None:
    retriever = _with_questions(tmp_path)
    first = retriever.first_stage("Which ministry adopted a regulation?")
    beta = next(pid for pid in first.order if first.by_id[pid].doc_id == "beta")
    best = max(c for _, _, c in first.sentences[beta])
    assert first.questions[beta] == pytest.approx(best + expansion.QUESTION_OFFSET)
    # Two candidates alike but for their questions: one whose questions match the question as
    # typically as a passage's do, one without any. The ranker must not tell them apart.
    from dataclasses import replace

    from assistant.retrieve.rerank import feature_rows, load_ranker

    cand = next(c for c in first.candidates(10) if c.passage.id == beta)
    typical = replace(cand, question_sim=cand.sentence + expansion.QUESTION_OFFSET)
    imputed = replace(cand, question_sim=first.questions[beta])
    rel = load_ranker().relevance(feature_rows("q", [typical, imputed], no_terms=False))
    assert rel[0] == pytest.approx(rel[1])
