"""A reference entry, a URL line, a contents line, a heading or the questionnaire's form is the
document's apparatus, never an answer nor a highlighted sentence (a trial: "Council of the
European Union." from a reference list shown as the closest passage). Unit tests on fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SURVEY_BETA as BETA
from conftest import two_reports

from assistant.answer import Assistant, abstain, verify_quote
from assistant.answer.evidence import highlights, what_documents_say
from assistant.answer.scorer import ScoredSpan
from assistant.answer.spans import apparatus, build_spans
from assistant.compare.cells import states_a_position
from assistant.types import Passage, ScoredPassage

REFERENCES = """## References

Council of the European Union. (2022, May 25). Proposal for a Council Recommendation. \
Retrieved October 19, 2023, from europa.eu: <https://data.consilium.europa.eu/doc/ST-9237.pdf>

Smith, J. (2021). Micro-credentials in Europe. Brussels: Publications Office.
"""
BODY = "Micro-credentials in Europe were recognised by 41 universities in 2021."
QUESTIONNAIRE = "Appendix 1 › Questionnaire on current practices › 6. Do you have a register?"


def _at(text: str, unit: str, section: str = "Introduction") -> str | None:
    s = text.index(unit)
    return apparatus(text, s, s + len(unit), section)


@pytest.mark.parametrize(("text", "unit", "section", "kind"), [
    # an entry of a reference list, by the list's heading: every fragment of it
    (REFERENCES, "Council of the European Union.", "References", "reference"),
    (REFERENCES, "Smith, J. (2021).", "VI. Bibliography", "reference"),
    # … and by the shape of its line, wherever it stands
    (REFERENCES, "Council of the European Union.", "Introduction", "reference"),
    (REFERENCES, "Micro-credentials in Europe.", "Introduction", "reference"),
    ("Doe, A. and Roe, B. (2020). Stackable credentials. Journal 4, pp. 12-30.",
     "Stackable credentials.", "Annex", "reference"),
    ("See the study, doi: 10.1234/abcd.5678 for details.", "See the study, doi: 10.1234/abcd.5678 "
     "for details.", "Introduction", "reference"),
    # a line of links alone
    ("Text.\n\n<https://escs.am/files/a.pdf>\n", "<https://escs.am/files/a.pdf>", "Intro", "url"),
    ("[https://x.org/a\\_b.pdf](https://x.org/a_b.pdf)", "[https://x.org/a\\_b.pdf](https://x.org"
     "/a_b.pdf)", "Intro", "url"),
    # contents: dot leaders and a page number, or a page number glued on in a list of contents
    ("I. Introduction .....\t4\nII. Methodology .....\t9", "II. Methodology .....", "Contents",
     "contents"),
    ("Diagram 3. The main challenges for institutions.....\t15", "The main challenges for "
     "institutions.....", "Diagrams", "contents"),
    ("The main challenges facing your institution23", "The main challenges facing your "
     "institution23", "Diagrams", "contents"),
    ("## Survey results\n\nText.", "## Survey results", "Survey results", "heading"),
    # the questionnaire's form: options, questions, words to the respondents
    ("- ☐ I do not know\n- ☐ Yes, we have a register", "- ☐ Yes, we have a register",
     QUESTIONNAIRE, "questionnaire"),
    ("In this section, we want to collect information about ECTS in your country.",
     "In this section, we want to collect information about ECTS in your country.",
     "Appendix 1 › RECOGNITION", "questionnaire"),
    ("- ☐ To recognise credits or prior learning", "- ☐ To recognise credits or prior learning",
     "Appendix 1 › 12. For what purpose do you recognise them? (multiple answers)",
     "questionnaire"),
])
def test_the_documents_apparatus_is_recognised_by_structure(
        text: str, unit: str, section: str, kind: str) -> None:
    assert _at(text, unit, section) == kind


@pytest.mark.parametrize(("text", "section"), [
    (BODY, "Introduction"),
    # a statement that cites a source or gives a link inside it says something
    ("Graduation documents are issued in electronic form (Source: <https://escs.am/news/13>).",
     "II. Survey results"),
    ("Stackability means that micro-credentials can be accumulated (Kazin and Clerkin, 2018, "
     "p. 7).", "II. Survey results"),
    # … and so does a paragraph that cites pages in passing
    ("Stackable credentials are spreading across the region's universities, and the ministry "
     "has said that it will fund them from next year on. " * 3
     + "Their volume is set in ECTS (Smith, 2020, pp. 12-15).", "Introduction"),
    # a survey result with its count is a finding, not the form
    ("We do not (yet) recognise micro-credentials in my country -44", "II. Survey results"),
    # a funding note beside the contents is a sentence, not a contents line
    ("This project has been funded with support from the EC.", "Contents"),
    # a definition printed in the questionnaire is a statement
    ("Micro-credentials are digital certification of assessed knowledge (OECD, 2021).",
     QUESTIONNAIRE),
])
def test_what_the_documents_say_is_not_apparatus(text: str, section: str) -> None:
    assert _at(text, text, section) is None


def _scored(text: str, section: str, pid: str = "p1") -> list[ScoredSpan]:
    p = Passage(id=pid, doc_id="d1", title="Report", text=text, country="AM", section=section)
    spans = [s for s in build_spans(ScoredPassage(p, score=1.0, rank=1)) if s.kind == "sentence"]
    # the reference fragments score highest, as a trial saw
    return [ScoredSpan(s, 0.9 if "Council" in s.raw or "Smith" in s.raw else 0.5) for s in spans]


def test_a_reference_entry_is_never_highlighted() -> None:
    text = f"{BODY}\n\n{REFERENCES}"
    scored = sorted(_scored(text, "Introduction"), key=lambda c: -c.probability)
    assert scored[0].span.apparatus == "reference"
    top = scored[0].span.sp.passage
    hs = highlights(top, scored, verify_quote)
    assert [h.quote for h in hs] == [BODY]


def test_only_what_the_documents_say_is_a_candidate() -> None:
    refs = _scored(REFERENCES, "References", "refs")
    body = _scored(BODY, "Introduction", "body")
    kept = what_documents_say([*refs, *body])
    assert [c.span.raw for c in kept] == [BODY]
    assert what_documents_say(refs) == []


def test_compare_and_answers_share_the_questionnaire_rule() -> None:
    # the cells' rule reads the same patterns (moved, not copied)
    from assistant.answer import spans
    from assistant.compare import cells

    assert cells.QUESTIONNAIRE is spans.QUESTIONNAIRE
    assert not states_a_position("Diagram 2. The challenges ..... 14", ["The challenges"], "Intro")


# -- the answer step, on the synthetic corpus -----------------------------------------------------
ALPHA_REFS = """# Alpha country report

## References

Smith, J. (2021). Micro-credentials in Europe. Brussels: Publications Office.

Jones, K. (2020). Micro-credentials in Europe and Alpha. Retrieved March 3, 2021, from \
<https://example.org/mc>
"""
ASK = "Micro-credentials in Europe: what did Smith and Jones write?"


ALPHA_BODY = ALPHA_REFS.replace("## References", f"## Survey\n\n{BODY}\n\n## References")


def _assistant(tmp_path: Path, bow_embeddings, alpha: str = ALPHA_REFS,  # noqa: ANN001
               **overrides: object) -> Assistant:
    s, index = two_reports(tmp_path, alpha, BETA, bow_embeddings, **overrides)
    return Assistant(s, index=index)


def test_a_reference_list_alone_is_no_answer_and_no_evidence(
        tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    a = _assistant(tmp_path, bow_embeddings, answer_threshold=0.0)
    ans = a.ask(ASK, filters={"country": ["AM"]})
    # before: "Smith, J. (2021)." quoted as the answer; now the honest outcome `none`
    assert ans.outcome == "none"
    assert ans.audit["abstain_code"] == abstain.APPARATUS_ONLY
    assert "a reference list" in ans.text
    assert not ans.citations
    assert not ans.highlights


def test_below_the_threshold_the_closest_evidence_is_a_statement(
        tmp_path: Path, bow_embeddings) -> None:  # noqa: ANN001
    a = _assistant(tmp_path, bow_embeddings, ALPHA_BODY, answer_threshold=1.0)
    ans = a.ask(ASK, filters={"country": ["AM"]})
    assert ans.outcome == "evidence"
    assert ans.highlights
    for h in ans.highlights:
        assert h.passage.section != "References"
        assert "(2021)" not in h.quote
        assert "(2020)" not in h.quote
    assert ans.highlights[0].quote == BODY
