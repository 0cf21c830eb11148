"""Faults of a new user's trial of the draft check (2026-12-01), each mended.

1. "Both countries have already adopted a national law on micro-credentials." was *supported*
   by one Armenian survey passage: a claim about both countries needs each country's own
   evidence; and a *draft* law is no adopted law.
2. A right contradiction was shown with the wrong document figure ("45 are" against the 19
   public universities of a sentence that also gives the 37 private institutions).

Unit tests on fakes (``compare`` / ``judge`` on sentences, as the other check tests).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from assistant.check.evidence import _Cand, judge
from assistant.check.facts import compare
from assistant.check.report import CONTRADICTED, NOT_FOUND, PARTLY, SUPPORTED
from assistant.types import Passage, ScoredPassage


def _p(text: str, country: str = "AM") -> Passage:
    return Passage(id=f"x-{country}", doc_id=f"d-{country}", title="Micro-GEAR D1.1 report",
                   text=text, country=country, doc_type="report", section="Policy")


def _cand(text: str, topic: float, country: str = "AM") -> Any:
    return _Cand(ScoredPassage(passage=_p(text, country), score=topic), 0, len(text), topic)


INCLUDED = "Micro-credentials have been included in the national qualifications framework."


# -- 1a. a claim about both countries needs each country's evidence -----------------------------
def test_a_claim_about_both_countries_is_not_supported_by_one_countrys_report() -> None:
    am = _cand(INCLUDED, 0.62, "AM")
    for claim in ("Both countries have included micro-credentials in their national "
                  "qualifications framework.",
                  "Armenia and Georgia have included micro-credentials in their national "
                  "qualifications framework.",
                  "Micro-credentials have been included in the national qualifications "
                  "framework in each country."):
        got = judge(claim, [am])
        assert got.status == PARTLY, claim
        assert got.best is am
        assert got.missing == ["in Georgia"]
        # nothing in either country's documents: not found
        assert judge(claim, [_cand("The survey had 27 respondents.", 0.3)]).status == NOT_FOUND
        # each country's own sentence: supported, with both quoted
        ge = _cand(INCLUDED, 0.60, "GE")
        both = judge(claim, [am, ge])
        assert both.status == SUPPORTED, claim
        assert {c.sp.passage.country for c in (both.best, *both.also)} == {"AM", "GE"}
    # one sentence that names both countries speaks for both
    one = _cand("Both Armenia and Georgia have included micro-credentials in the national "
                "qualifications framework.", 0.7, "GE")
    claim = ("Armenia and Georgia have included micro-credentials in their national "
             "qualifications framework.")
    assert judge(claim, [one]).status == SUPPORTED
    # and is the sentence quoted, before one country's own
    got = judge(claim, [_cand(INCLUDED, 0.72, "AM"), one, _cand(INCLUDED, 0.6, "GE")])
    assert got.status == SUPPORTED
    assert got.best is one
    # a claim about one country is judged as before
    assert judge("Armenia has included micro-credentials in its national qualifications "
                 "framework.", [am]).status == SUPPORTED


def test_a_denial_in_one_country_contradicts_a_claim_about_both() -> None:
    claim = "Both countries have already adopted a national law on micro-credentials."
    am_denial = _cand("Thus, there is no national legislation related to micro-credentials.",
                      0.55, "AM")
    ge = _cand("Georgia adopted a national law on micro-credentials in 2023.", 0.6, "GE")
    got = judge(claim, [ge, am_denial])
    assert got.status == CONTRADICTED
    assert got.best is am_denial
    # both countries' documents deny it: the closer denial is shown
    ge_denial = _cand("There is no national legislation on micro-credentials in Georgia.",
                      0.6, "GE")
    got = judge(claim, [ge_denial, am_denial])
    assert got.status == CONTRADICTED
    assert got.best is ge_denial


# -- 1b. a draft of a law is not an adopted law -------------------------------------------------
def test_a_draft_law_does_not_support_an_adopted_law() -> None:
    survey = ('The majority of the respondents answered "Yes", as changes are taking place '
              'based on the new draft law of the RA "Higher Education and Science" and "On '
              'Approving the State Development Plan of Education until 2030".')
    p = _p(survey)
    v = compare("Armenia has already adopted a national law on micro-credentials.", survey, p)
    assert not v.agrees
    assert v.mismatches == []  # nor a contradiction: a draft says nothing of the adoption
    for drafted in ("The proposed regulation on short courses was approved by the ministry.",
                    "A draft decree on short courses was approved by the government."):
        assert not compare("The government has approved a decree on short courses.",
                           drafted, _p(drafted)).agrees
    # the law itself, adopted, still supports; a claim about a draft law is supported by one
    law = "The Parliament adopted the Law on Higher Education and Science in 2023."
    assert compare("Armenia adopted a law on higher education and science in 2023.", law,
                   _p(law)).agrees
    drafted = "The ministry approved the draft law on higher education and science."
    assert compare("The ministry approved a draft law on higher education and science.",
                   drafted, _p(drafted)).agrees


# -- 2. the document's figure shown is the one for the same thing -------------------------------
def test_the_contradicting_figure_shown_is_the_one_for_the_claims_thing() -> None:
    unit = ("It is worth acknowledging that among the authorized 63 higher education "
            "institutions, 19 are public universities, 37 are private institutions, and 7 are "
            "religious higher education institutions.")
    p = _p(unit, "GE")
    v = compare("Among the 63 authorised higher education institutions in Georgia, 45 are "
                "private institutions.", unit, p)
    assert [(c.kind, c.draft, c.document) for c in v.mismatches] == [("figure", "45 are", "37")]
    v = compare("Among the 63 authorised higher education institutions in Georgia, 25 are "
                "public universities.", unit, p)
    assert [(c.kind, c.document) for c in v.mismatches] == [("figure", "19")]
    # no neighbouring word in common: the first figure of the same kind, as before
    v = compare("Among the 63 authorised higher education institutions in Georgia, 25 are "
                "state-run.", unit, p)
    assert [(c.kind, c.document) for c in v.mismatches] == [("figure", "19")]



# -- 3. a verb that only says something was done names no subject ------------------------------
class _Weights:
    """The retriever's lexicon as ``candidates`` reads it: a word's rarity weight."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def weight(self, t: str) -> float:
        return self.weights.get(t, 1.0)


class _FakeAssistant:
    def __init__(self, weights: dict[str, float]) -> None:
        lexicon = SimpleNamespace(bm25=_Weights(weights))
        self.retriever = SimpleNamespace(lexicon=lambda: lexicon)


def test_a_light_verb_of_doing_does_not_outweigh_the_claims_subject() -> None:
    """"The Georgian survey was carried out in 2024." against "The following educational
    institutions participated in the 2024 survey": "carried" is rare in the reports, so it
    took 85% of the coverage weight, and the sentence that states the survey's year stayed
    under the support threshold."""
    from assistant.check.evidence import TOPIC_SUPPORT, candidates

    a = _FakeAssistant({"survey": 0.55, "carry": 3.21, "conduct": 3.0, "held": 3.0,
                        "participat": 1.5})
    sentence = "The following educational institutions participated in the 2024 survey."
    sp = ScoredPassage(passage=_p(sentence, "GE"), score=0.5)
    for claim in ("The Georgian survey was carried out in 2024.",
                  "The Georgian survey was conducted in 2024.",
                  "The Georgian survey was held in 2024."):
        assert candidates(a, claim, [sp])[0].topic >= TOPIC_SUPPORT, claim
    # a verb that names what was done still counts
    assert candidates(a, "Georgian institutions participated in the survey.", [sp])[0].topic \
        > candidates(a, "Georgian institutions refused the survey.", [sp])[0].topic
    # "carry" with a thing carried is no light verb
    credits = ScoredPassage(passage=_p("Short courses usually do not carry ECTS credits.", "AM"),
                            score=0.5)
    assert candidates(a, "Short courses usually carry ECTS credits.", [credits])[0].topic \
        > candidates(a, "Short courses usually award ECTS credits.", [credits])[0].topic
