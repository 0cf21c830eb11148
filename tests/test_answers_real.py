"""The "Why" of issue 8, each as a test on the real model and the bundled reports.

Questions phrased the way people ask: the answer must be a sentence that answers, or a plain
abstention that says what the documents lack; never a sentence that only mentions the subject.
"""

from __future__ import annotations

import pytest

from assistant.answer import Assistant
from assistant.prompts import ABSTAIN_TEXT, EVIDENCE_TEXT

pytestmark = pytest.mark.integration
# Issue 16, a known gap: the calibrated answer threshold (chosen on the tune part) shows these
# as `evidence`, not as an answer. Strict: the run fails as soon as they answer again.
RECALL_GAP = pytest.mark.xfail(strict=True, reason="issue 16 known gap: shown as evidence, not "
                               "an answer; see docs/known-gaps.md")


def test_the_minister_question_abstains(real_assistant: Assistant) -> None:
    ans = real_assistant.ask("Who is the Minister of Education of Armenia?")
    assert ans.abstained, ans.text
    # Issue 16: a near-miss is `evidence` (the closest passage, not quoted as an answer) or `none`.
    assert ans.outcome in {"evidence", "none"}
    assert ans.text.startswith(EVIDENCE_TEXT if ans.outcome == "evidence" else ABSTAIN_TEXT)
    assert not ans.citations


@RECALL_GAP
def test_obstacles_in_georgia_answers_with_the_legal_framework(real_assistant: Assistant) -> None:
    ans = real_assistant.ask(
        "What are the main obstacles to introducing micro-credentials in Georgia?")
    assert not ans.abstained, ans.text
    assert any("legal framework" in c.quote for c in ans.citations), ans.text
    assert all(c.passage.country == "GE" for c in ans.citations)


def test_follow_up_and_in_armenia(real_assistant: Assistant) -> None:
    first = real_assistant.ask(
        "What are the main obstacles to introducing micro-credentials in Georgia?")
    ans = real_assistant.ask("and in Armenia?", history=[(first.question, first.text)])
    assert "Armenia" in ans.standalone_question
    assert not ans.abstained, ans.text
    assert all(c.passage.country == "AM" for c in ans.citations)
    # about obstacles, not any Armenian sentence
    assert any(w in c.quote.lower() for c in ans.citations
               for w in ("challenge", "obstacle", "barrier", "legal framework")), ans.text


def test_main_challenges_is_a_sentence_not_a_heading(real_assistant: Assistant) -> None:
    ans = real_assistant.ask("What are the main challenges in Georgia?")
    assert not ans.abstained, ans.text
    for c in ans.citations:
        assert len(c.quote.split()) >= 8, c.quote  # a statement, not "Main challenges"
    assert any("legal framework" in c.quote for c in ans.citations), ans.text


def test_the_eu_recommendation_is_said_to_be_missing(real_assistant: Assistant) -> None:
    ans = real_assistant.ask(
        "What does the EU Council Recommendation say about the size of micro-credentials?")
    head = ans.text.split("\n\n")[0] if not ans.abstained else ans.text
    assert "Council Recommendation of 16 June 2022" in ans.text
    assert "not in the index" in ans.text
    assert "assistant corpus fetch" in ans.text
    if not ans.abstained:
        assert "not in the index" in head  # said first, before any quote


@RECALL_GAP
def test_a_comparison_speaks_for_both_countries_or_says_which_is_silent(
    real_assistant: Assistant,
) -> None:
    ans = real_assistant.ask("Compare how Armenia and Georgia recognise prior learning")
    assert not ans.abstained, ans.text
    countries = {c.passage.country for c in ans.citations}
    assert countries == {"AM", "GE"} or "do not answer this for" in ans.text, ans.text
    # every quote speaks of recognition, not merely of the right country
    for c in ans.citations:
        assert "recogni" in c.quote.lower(), (c.quote, ans.text)


@RECALL_GAP
@pytest.mark.parametrize(
    ("question", "must"),
    [
        # Russian: how many scientific institutions took part in the Armenian survey?
        ("Сколько научных учреждений приняли участие в опросе в Армении?", "22"),
        # Georgian: what is the main challenge for micro-credentials in Georgia?
        ("რა არის მიკროკვალიფიკაციების დანერგვის მთავარი გამოწვევა საქართველოში?",
         "legal framework"),
        # Armenian: how many scientific institutions took part in the Armenian survey?
        ("Քանի՞ գիտական հաստատություն է մասնակցել Հայաստանի հարցմանը?", "22"),
    ],
)
def test_questions_in_russian_georgian_and_armenian(
    real_assistant: Assistant, question: str, must: str
) -> None:
    ans = real_assistant.ask(question)
    assert not ans.abstained, ans.text
    assert any(must in c.quote for c in ans.citations), ans.text
    assert "The documents are in English" in ans.text
    for c in ans.citations:
        assert c.verified
