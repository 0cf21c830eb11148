"""benchmarks/scale.py's hit@5: a generated variant's copy of the gold passage counts only
when the question cannot tell the two documents apart and the copy states the same fact."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from variants import holds_answer, variant_text  # noqa: E402

from assistant.evaluation.qa import Source  # noqa: E402
from assistant.types import Passage  # noqa: E402

TEXT = ("In the thematic analysis prepared by the NCEQE in 2023, a micro-credential is defined "
        "as documented evidence of the achievement of learning outcomes. In Georgia, 27 "
        "respondents answered the questionnaire.")
DEFINITION = ("a micro-credential is defined as documented evidence of the achievement of "
              "learning outcomes")
COUNT = "In Georgia, 27 respondents answered the questionnaire."


def passage(doc: str, v: int = 0) -> Passage:
    return Passage(id=f"{doc}-p", doc_id=doc, title=doc, text=variant_text(TEXT, v) if v else TEXT,
                   country="XX" if v else "GE")


def test_the_gold_documents_own_passage_counts() -> None:
    assert holds_answer(passage("d11-georgia"), [Source("d11-georgia", DEFINITION)],
                        "How does the NCEQE's 2023 thematic analysis define a micro-credential?")


def test_a_variants_copy_counts_when_it_changes_neither_question_nor_quote() -> None:
    question = "How does the NCEQE's 2023 thematic analysis define a micro-credential?"
    copy = passage("d11-georgia-v007", 7)
    assert holds_answer(copy, [Source("d11-georgia", DEFINITION)], question)
    # ... and only a copy of the gold document, not of another report
    assert not holds_answer(copy, [Source("d11-armenia", DEFINITION)], question)


def test_a_variants_copy_never_counts_when_the_question_or_the_fact_differs() -> None:
    copy = passage("d11-georgia-v007", 7)
    # The question names the country the variant renamed.
    assert not holds_answer(copy, [Source("d11-georgia", DEFINITION)],
                            "How does Georgia's NCEQE define a micro-credential?")
    # The quote holds a number the variant shifted (27 -> 34): another fact.
    assert not holds_answer(copy, [Source("d11-georgia", "27 respondents answered")],
                            "How many respondents answered the questionnaire?")
    # The quote names the renamed country.
    assert not holds_answer(copy, [Source("d11-georgia", COUNT)], "Who answered?")
