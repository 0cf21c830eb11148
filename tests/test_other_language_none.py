"""`none` for a question in another language than the documents (abstain.off_subject).

A trial asked "What is a micro-credential?" in Armenian and got `none` ("nothing relevant in
the documents") although the English reports define it. `none` came from the reranker's
relevance, whose word signals (BM25, the share of the question's terms a passage holds) cannot
fire when the question's words are in another language than the passages. Across languages the
relevance floor does not decide `none`; the dense floor (no passage close enough) still does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SURVEY_ALPHA as ALPHA
from conftest import SURVEY_BETA as BETA
from conftest import two_reports

from assistant.answer import Assistant, abstain
from assistant.answer.questions import read_question
from assistant.retrieve.hybrid import QueryTerms, Retrieval
from assistant.types import Passage, ScoredPassage

ENGLISH = "A micro-credential is the record of the learning outcomes of a short course."
ARMENIAN = "Միկրոհավաստագիրը կարճ դասընթացի ուսումնառության արդյունքների գրառումն է։"
ASKED_HY = "Ի՞նչ է միկրոհավաստագիրը:"  # "What is a micro-credential?"
ASKED_EN = "What is a micro-credential?"


def _retrieval(question: str, *texts: str, relevance: float = 0.05) -> Retrieval:
    passages = tuple(
        ScoredPassage(Passage(id=f"p{i}", doc_id="d1", title="Report", text=t, country="AM"),
                      score=1.0, rank=i + 1, dense=0.6, evidence=True, relevance=relevance)
        for i, t in enumerate(texts))
    return Retrieval(question, passages, QueryTerms())


@pytest.mark.parametrize(("asked", "texts"), [
    (ASKED_EN, (ENGLISH, ENGLISH)),  # a question in the documents' language
    (ASKED_HY, (ENGLISH, ARMENIAN)),  # an uploaded Armenian document: word signals can fire
])
def test_a_low_relevance_gives_none_where_word_signals_can_fire(
        asked: str, texts: tuple[str, str]) -> None:
    info = read_question(asked, asked)
    off = abstain.off_subject(info, _retrieval(asked, *texts), floor=0.11)
    assert off is not None
    assert off.code == abstain.OFF_SUBJECT


def test_a_low_relevance_gives_no_none_for_a_question_in_another_language() -> None:
    info = read_question(ASKED_HY, ASKED_HY)
    assert info.lang == "hy"
    assert abstain.off_subject(info, _retrieval(ASKED_HY, ENGLISH, ENGLISH), floor=0.11) is None



def test_a_relevance_above_the_floor_is_never_none() -> None:
    info = read_question(ASKED_EN, ASKED_EN)
    assert abstain.off_subject(info, _retrieval(ASKED_EN, ENGLISH, relevance=0.5),
                               floor=0.11) is None


# -- end to end on the synthetic reports (bag-of-words embeddings) -------------------------------
# "Alpha" and "2024" are the only words the Armenian question shares with the reports, so the
# fake embedding finds the Alpha passages close; the relevance floor of 1.0 is missed by all.
ASKED_ALPHA_HY = "Քանի՞ համալսարան է պատասխանել Alpha 2024 հարցմանը:"


def test_another_language_question_with_close_passages_gets_evidence(
        tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings, answer_threshold=1.0,
                           answer_none_below=1.0)
    ans = Assistant(s, index=index).ask(ASKED_ALPHA_HY)
    assert ans.outcome == "evidence", ans.audit.get("abstain_reason")
    assert ans.audit["abstain_code"] == abstain.BELOW_THRESHOLD
    assert "Alpha" in ans.passages[0].passage.text


def test_another_language_question_with_nothing_close_still_gets_none(
        tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings, answer_threshold=1.0,
                           answer_none_below=1.0, relevance_floor=1.01)
    ans = Assistant(s, index=index).ask(ASKED_ALPHA_HY)
    assert ans.outcome == "none"
    assert ans.audit["abstain_code"] == abstain.NO_EVIDENCE
