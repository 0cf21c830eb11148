"""`none` for a question in the documents' language none of whose words they use.

"How do I bake a chocolate cake?" shares no word with the reports, yet the ranker, reading a
question without corpus words as one in another language, gave the title page a relevance of
0.17, above the `none` floor, and the page showed "Project #101127144" as the closest passage.
A question in the documents' own language whose every searchable word is absent from them
cannot be answered by them; a question in another language is left to the other rules (its
words are expected to be absent).
"""

from __future__ import annotations

from assistant.answer import abstain
from assistant.answer.questions import read_question
from assistant.retrieve.hybrid import QueryTerms, Retrieval
from assistant.types import Passage, ScoredPassage

ENGLISH = "A micro-credential is the record of the learning outcomes of a short course."


def _retrieval(question: str, known: tuple[str, ...], unknown: tuple[str, ...]) -> Retrieval:
    passages = tuple(
        ScoredPassage(Passage(id=f"p{i}", doc_id="d1", title="Report", text=ENGLISH,
                              country="AM"),
                      score=1.0, rank=i + 1, dense=0.6, evidence=True, relevance=0.17)
        for i in range(2))
    return Retrieval(question, passages, QueryTerms(known=known, unknown=unknown))


def test_a_question_none_of_whose_words_the_documents_use_is_none() -> None:
    asked = "How do I bake a chocolate cake?"
    stop = abstain.before_answering(read_question(asked, asked),
                                    _retrieval(asked, (), ("bake", "chocolat", "cake")))
    assert stop is not None
    assert stop.code == abstain.NO_KNOWN_WORDS
    # the words as the reader wrote them, not their stems
    assert "bake, chocolate, cake" in stop.message
    assert "chocolat," not in stop.message


def test_one_word_the_documents_use_is_enough_to_go_on() -> None:
    asked = "What is the fee for a micro-credential?"
    assert abstain.before_answering(
        read_question(asked, asked),
        _retrieval(asked, ("micro-credential",), ("fee",))) is None


def test_a_question_in_another_language_is_not_refused_for_its_words() -> None:
    asked = "Что такое микроквалификация?"  # "What is a micro-credential?" in Russian
    assert abstain.before_answering(read_question(asked, asked), _retrieval(asked, (), ())) is None
    assert abstain.before_answering(
        read_question(asked, asked), _retrieval(asked, (), ("микроквалификац",))) is None


def test_a_passage_shown_as_not_an_answer_keeps_its_scores() -> None:
    # `ask --json` showed "relevance": null for every passage of an evidence or none outcome:
    # marking a passage "not an answer" rebuilt it without the ranker's probability.
    from assistant.answer.evidence import not_evidence

    sp = _retrieval("q", ("x",), ()).passages[0]
    shown = not_evidence(sp)
    assert shown.evidence is False
    assert shown.relevance == 0.17
    assert (shown.score, shown.dense, shown.rank) == (sp.score, sp.dense, sp.rank)


def test_a_short_form_or_a_compound_is_not_a_name_the_documents_never_mention() -> None:
    # On the tune part the name rule denied three answerable questions for "MC", "Uni" and
    # "QA-related" (short forms and a compound of corpus words) while it caught three
    # unanswerable ones, a loss at the cost `none` is weighed with (two for one).
    for asked, unknown in [
        ("A university wants to launch an MC programme, what is the first step?", ("mc",)),
        ("Those summer schools at Eurasia International Uni - how many credits?", ("uni",)),
        ("What QA-related things is the project supposed to work on?", ("qa-related",)),
    ]:
        stop = abstain.before_answering(read_question(asked, asked),
                                        _retrieval(asked, ("programm", "step"), unknown))
        assert stop is None, (asked, stop)


def test_a_name_the_documents_never_mention_is_still_none() -> None:
    asked = "What is the minimum of ECTS credits for a micro-credential in Azerbaijan?"
    stop = abstain.before_answering(read_question(asked, asked),
                                    _retrieval(asked, ("ects", "credit"), ("azerbaijan",)))
    assert stop is not None
    assert stop.code == abstain.UNKNOWN_NAME
    assert "Azerbaijan" in stop.message
