"""Two verified-looking wrong verdicts a new user found in the draft check, each mended.

1. "Armenia has adopted a national law defining micro-credentials." was *supported* by
   "Complimentary education is defined in Article 26 of the Law on Education:", a sentence on
   the same subject that adopts nothing, while the report says there is no such legislation.
2. "The Georgian questionnaire was available from 1 March to 30 April 2024." was contradicted
   by a bibliography line, "(2022, March 22).", its days compared with the line's bare 22.

Unit tests on fakes (a synthetic report with the bag-of-words embedding, and ``compare`` /
``judge`` on sentences), one test with the real model on the bundled reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings

from assistant.answer import Assistant
from assistant.check.draft import check_draft
from assistant.check.evidence import _Cand, _states, judge
from assistant.check.facts import compare, facts
from assistant.check.report import CONTRADICTED, NOT_FOUND, SUPPORTED
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.types import Passage, ScoredPassage

# A synthetic report written for these tests (its sentences shaped like the Armenian and
# Georgian reports' own).
GAMMA = """# Gamma country report

## Legislation

Complimentary education is defined in Article 26 of the Law on Education:

- Complimentary programmes are implemented by universities and colleges of Gamma.

Thus, there is no national legislation related to micro-credentials in Gamma and there is no
common definition of the term.

## Survey

The questionnaire for potential implementers in Gamma was available from May 2<sup>nd</sup> to
May 18<sup>th</sup>, 2024.

## References

European project MICROBOL. (2022, March 22). News & Events. Retrieved September 11, 2023, from
MICROBOL.

Gamma questionnaire of implementers. Retrieved April 8, 2024 from: <https://example.org/q>
"""

MANIFEST = ('[[document]]\nid = "gamma"\ntitle = "Micro-GEAR D1.1: Gamma report"\n'
            'country = "AM"\ndoc_type = "report"\nyear = 2024\npath = "documents/gamma.md"\n')


@pytest.fixture
def assistant(tmp_path: Path, bow_embeddings) -> Assistant:  # noqa: ANN001
    s = make_settings(tmp_path, copy_corpus=False)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    (docs / "gamma.md").write_text(GAMMA.replace("Gamma", "Armenia"), encoding="utf-8")
    s.manifest_path.write_text(MANIFEST, encoding="utf-8")
    index = Index(s, embeddings=bow_embeddings)
    assert ingest(s, index=index).added == ["gamma"]
    return Assistant(s, index=index)


def _p(text: str, country: str = "AM", section: str = "Legislation") -> Passage:
    return Passage(id="x", doc_id="alpha", title="Micro-GEAR D1.1: Alpha report", text=text,
                   country=country, doc_type="report", section=section)


def _cand(text: str, topic: float, country: str = "AM") -> Any:
    return _Cand(ScoredPassage(passage=_p(text, country), score=topic), 0, len(text), topic)


ADOPTED = "Armenia has adopted a national law defining micro-credentials."
ARTICLE = "Complimentary education is defined in Article 26 of the Law on Education:"
DENIAL = ("Thus, there is no national legislation related to micro-credentials and there is "
          "no common definition of the term.")
QUESTIONNAIRE = "The Georgian questionnaire was available from 1 March to 30 April 2024."
REAL_DATES = ("The questionnaire for potential implementers of micro-credentials was available "
              "from May 2<sup>nd</sup> to May 18<sup>th</sup>, 2024.")


# -- 1. a claim of an act needs a sentence that states such an act ------------------------------
def test_a_claim_of_adoption_is_not_supported_by_a_sentence_that_adopts_nothing() -> None:
    p = _p(ARTICLE)
    v = compare(ADOPTED, ARTICLE, p)
    assert not v.agrees
    assert v.mismatches == []  # not a contradiction either: it says nothing of an adoption
    # analogous: an approval is not stated by a description, a founding not by a mention
    q = _p("The national register of micro-credentials is described in the Law on Education.")
    assert not compare("Georgia has approved a national register of micro-credentials.",
                       q.text, q).agrees
    r = _p("The agency keeps a list of accredited short programmes.")
    assert not compare("The agency has established a list of accredited short programmes.",
                       r.text, r).agrees
    # the act done to something else is not it either
    eu = _p("The EUCO, which in May 2022 adopted the proposal for a Council Recommendation on "
            "micro-credentials.")
    assert not compare(ADOPTED, eu.text, eu).agrees
    # the act stated in other words still supports ("passed" for "adopted")
    s = _p("The Law on Education was passed by the Parliament in 2023.")
    assert compare("The Parliament adopted the Law on Education in 2023.", s.text, s).agrees
    t = _p("The agency set up a list of accredited short programmes.")
    assert compare("The agency has established a list of accredited short programmes.",
                   t.text, t).agrees


def test_another_country_is_shown_only_by_a_sentence_that_states_the_claim() -> None:
    """A sentence of the other country's report that states no such act (a section title, a
    sentence about the EU) is no evidence that the claim names the wrong country."""
    ge = _p("Unified database/register of micro-credentials", country="GE")
    v = compare("Armenia has established a national register of micro-credential providers.",
                ge.text, ge)
    assert v.mismatches == []
    assert not v.agrees
    eu = _p("The EUCO, which in May 2022, adopted the proposal for a Council Recommendation.")
    assert compare("Georgia has adopted a national definition of micro-credentials.",
                   eu.text, eu).mismatches == []
    # the claim stated of the other country still shows it
    swap = _p("Georgia has established a national register of micro-credential providers.",
              country="GE")
    got = compare("Armenia has established a national register of micro-credential providers.",
                  swap.text, swap)
    assert [(c.kind, c.draft, c.document) for c in got.mismatches] == [
        ("country", "Armenia", "Georgia")]


def test_a_denial_is_not_hidden_by_another_kind_of_contradiction() -> None:
    """A country clash met first must not keep the report's denial out of the judgement."""
    other = _cand("The potential of micro-credentials has been recognized by the Council of "
                  "the European Union which adopted a recommendation.", 0.586, country="GE")
    article = _cand(ARTICLE, 0.558)
    denial = _cand(DENIAL, 0.510)
    got = judge(ADOPTED, [other, article, denial])
    assert got.status == CONTRADICTED
    assert got.best is denial
    assert [m.kind for m in got.comparisons] == ["polarity"]


# -- 2. a reference line is no evidence; dates compare as dates ---------------------------------
def test_a_bibliography_line_states_nothing() -> None:
    assert not _states("(2022, March 22).")
    assert not _states("European project MICROBOL. (2022, March 22). News & Events.")
    assert not _states("Retrived April 8, 2024 from:")
    assert not _states("Retrieved September 11, 2023, from MICROBOL: https://example.org/x")
    # a sentence with a date in brackets still states something
    assert _states("The law was adopted by the Parliament (2022, after a long debate).")
    assert _states(REAL_DATES)


def test_dates_compare_as_dates_not_as_bare_numbers() -> None:
    f = facts(QUESTIONNAIRE)
    assert f.dates == (("1", "March"), ("30", "April"))
    assert f.figures == ()  # a day of a month is not a count
    assert facts(REAL_DATES).dates == (("2", "May"), ("18", "May"))
    assert facts("It was adopted on 16.06.2022.").dates == (("16", "June"),)
    assert facts("It ran from 2 to 18 May 2024.").dates == (("2", "May"), ("18", "May"))
    assert facts("It ran from 2 to 18 May 2024.").figures == ()
    g = _p(REAL_DATES, country="GE", section="2.2. Selection")
    v = compare(QUESTIONNAIRE, REAL_DATES, g)
    assert [(c.kind, c.draft, c.document) for c in v.mismatches] == [
        ("date", "1 March", "2 May"), ("date", "30 April", "18 May")]
    # a day is never compared with a bare figure of another kind
    ref = _p("European project MICROBOL. (2022, March 22).", country="GE")
    assert not [c for c in compare(QUESTIONNAIRE, ref.text, ref).mismatches
                if c.kind == "figure"]
    counts = _p("The questionnaire was answered by 30 universities in 2024.")
    v = compare("The questionnaire closed on 30 April 2024.", counts.text, counts)
    assert not v.agrees
    assert [c for c in v.mismatches if c.kind == "figure"] == []
    # a log of many dates does not date the claim's thing (and the other country's sentence
    # that does not state the claim's dates is about something else): no contradiction
    log = _p("V-1 01.02.2024 Developing V-2 12.02.2024 Workshop V-3 11.04.2024 Meeting")
    assert compare(QUESTIONNAIRE, log.text, log).mismatches == []
    # the same dates, written otherwise, agree
    same = compare("The Georgian questionnaire was available from 2 May to 18 May 2024.",
                   REAL_DATES, g)
    assert same.agrees


# -- the two faults on a synthetic report, as a draft --------------------------------------------
def test_the_trials_two_sentences_on_a_synthetic_report(assistant: Assistant) -> None:
    text = ("Armenia has adopted a national law defining micro-credentials.\n\n"
            "The Armenian questionnaire for potential implementers was available from 1 March "
            "to 30 April 2024.\n")
    report = check_draft(assistant, text)
    law = next(c for c in report.claims if "adopted" in c.text)
    assert law.status != SUPPORTED
    dates = next(c for c in report.claims if "questionnaire" in c.text)
    assert dates.status == CONTRADICTED
    assert "May 2" in dates.evidence[0].quote
    assert all(e.passage.section != "References" for e in dates.evidence)
    assert [(c.kind, c.draft, c.document) for c in dates.comparisons] == [
        ("date", "1 March", "2 May"), ("date", "30 April", "18 May")]


@pytest.mark.integration
def test_the_trials_two_sentences_on_the_real_reports(real_assistant: Assistant) -> None:
    text = ("Armenia has adopted a national law defining micro-credentials.\n\n"
            "The Georgian questionnaire was available from 1 March to 30 April 2024.\n")
    report = check_draft(real_assistant, text)
    law = next(c for c in report.claims if "adopted" in c.text)
    assert law.status in {CONTRADICTED, NOT_FOUND}
    if law.status == CONTRADICTED:
        assert "no national legislation" in law.evidence[0].quote \
            or "not yet defined" in law.evidence[0].quote
    dates = next(c for c in report.claims if "questionnaire" in c.text)
    assert dates.status == CONTRADICTED
    assert "May 2" in dates.evidence[0].quote
    assert dates.evidence[0].passage.doc_id == "d11-georgia"
    assert {c.kind for c in dates.comparisons} == {"date"}
