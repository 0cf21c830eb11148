"""Issue 16, item 4: a question about both countries answers, or shows its closest evidence,
per country ("Armenia — closest passage: “…” [1]"), and says which country's documents are
silent. Unit tests on fakes (the bag-of-words embedding, two small reports); the page's
rendering of the same answers on hand-made ones."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SURVEY_ALPHA as ALPHA
from conftest import SURVEY_BETA as BETA
from conftest import two_reports

from assistant.answer import Assistant, verify_quote
from assistant.prompts import EVIDENCE_COUNTRIES_TEXT
from assistant.types import Answer, Citation, Passage, ScoredPassage, cited

COMPARE = "When was the questionnaire open in Alpha and in Beta, compared?"


def _assistant(tmp_path: Path, bow_embeddings, **overrides: object) -> Assistant:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings, **overrides)
    return Assistant(s, index=index)


def _line(text: str, start: str) -> str:
    return next(x for x in text.split("\n\n") if x.startswith(start))


def _marker(line: str) -> int:
    return int(re.findall(r"\[(\d+)\]", line)[-1])


def test_below_the_threshold_a_comparison_shows_each_countrys_closest_passage(
    tmp_path: Path, bow_embeddings,  # noqa: ANN001
) -> None:
    ans = _assistant(tmp_path, bow_embeddings, answer_threshold=1.0).ask(COMPARE)
    assert ans.outcome == "evidence"
    assert ans.abstained
    assert ans.citations == []
    assert ans.text.startswith(EVIDENCE_COUNTRIES_TEXT)
    by_n = {h.n: h for h in ans.highlights}
    for name, code, doc in (("Armenia", "AM", "alpha"), ("Georgia", "GE", "beta")):
        line = _line(ans.text, f"{name} \u2014 closest passage: \u201c")
        h = by_n[_marker(line)]
        # chosen among that country's passages only, verified verbatim in it
        assert h.passage.country == code
        assert h.passage.doc_id == doc
        assert verify_quote(h.quote, h.passage)
        assert f"\u201c{h.display_quote}\u201d [{h.n}]" in line
    # both countries' passages are shown first, as cards
    assert [sp.passage.country for sp in ans.passages[:2]] == ["AM", "GE"]
    assert all(not sp.evidence for sp in ans.passages)
    d = ans.to_dict()
    assert d["outcome"] == "evidence"
    assert d["abstained"] is True
    assert {h["country"] for h in d["highlights"]} == {"AM", "GE"}
    # the questionnaire dates of each report, not any sentence of the right country
    assert "March 3rd to April 9th, 2024" in ans.text
    assert "May 5th to May 20th, 2024" in ans.text


def test_a_country_without_a_close_passage_is_named_as_silent(
    tmp_path: Path, bow_embeddings,  # noqa: ANN001
) -> None:
    # Only Alpha's documents can be searched: Georgia's have nothing to say.
    a = _assistant(tmp_path, bow_embeddings, answer_threshold=1.0)
    ans = a.ask(COMPARE, filters={"country": ["AM"]})
    assert ans.outcome == "evidence"
    am = _line(ans.text, "Armenia \u2014 closest passage: \u201c")
    assert {h.n: h for h in ans.highlights}[_marker(am)].passage.country == "AM"
    ge = _line(ans.text, "Georgia: ")
    assert "do not discuss this" in ge
    assert "[" not in ge  # a plain line: no quote, no marker
    assert all(h.passage.country == "AM" for h in ans.highlights)


def test_one_country_answered_the_other_shown_as_closest_evidence(
    tmp_path: Path, bow_embeddings,  # noqa: ANN001
) -> None:
    a = _assistant(tmp_path, bow_embeddings)
    info = a.read_question(COMPARE)
    scored = a.read(info, a.retriever.retrieve(info.standalone))
    best = {c: max(s.probability for s in scored if s.span.country == c) for c in ("AM", "GE")}
    lo, hi = sorted(best.values())
    assert lo < hi
    a.settings.answer_threshold = (lo + hi) / 2  # one country reaches it, the other does not
    ans = a.ask(COMPARE)
    spoken, silent = ("AM", "GE") if best["AM"] > best["GE"] else ("GE", "AM")
    names = {"AM": "Armenia", "GE": "Georgia"}
    assert ans.outcome == "answer"
    assert not ans.abstained
    answered = _line(ans.text, f"{names[spoken]}: \u201c")
    c = {c.n: c for c in ans.citations}[_marker(answered)]
    assert c.passage.country == spoken
    closest = _line(ans.text, f"{names[silent]} \u2014 closest passage, which may not answer "
                              "the exact question: \u201c")
    h = {h.n: h for h in ans.highlights}[_marker(closest)]
    assert h.passage.country == silent
    assert verify_quote(h.quote, h.passage)
    # the closest evidence is no citation of the answer, and its number is its own
    assert all(x.passage.country == spoken for x in ans.citations)
    assert h.n not in {x.n for x in ans.citations}
    assert "do not state this" not in ans.text
    # a reference list taken away keeps both numbers
    assert [x.n for x in cited(ans)] == sorted([c.n, h.n])


def test_a_sentence_both_reports_share_is_quoted_from_each_and_said_to_be_shared(
    tmp_path: Path, bow_embeddings,  # noqa: ANN001
) -> None:
    # The two copies form one duplicate group; a comparison that names no country keeps each
    # country's copy, so neither country is called silent.
    shared = "The main challenge is the lack of an appropriate legal framework."
    s, index = two_reports(tmp_path, ALPHA + f"\n## Challenges\n\n{shared}\n",
                           BETA + f"\n## Challenges\n\n{shared}\n", bow_embeddings,
                           answer_threshold=1.0)
    ans = Assistant(s, index=index).ask("Compare the main challenge in Alpha and Beta")
    assert ans.outcome == "evidence", ans.audit
    assert [h.passage.country for h in ans.highlights] == ["AM", "GE"]
    assert all(h.quote == shared and verify_quote(h.quote, h.passage) for h in ans.highlights)
    assert ans.text.split("\n\n")[-1] == "Both reports use the same sentence here."


def test_a_quote_never_comes_from_the_other_countrys_document(
    tmp_path: Path, bow_embeddings,  # noqa: ANN001
) -> None:
    for threshold in (0.0, 1.0):
        ans = _assistant(tmp_path / str(threshold), bow_embeddings,
                         answer_threshold=threshold).ask(COMPARE)
        quotes = {q.n: q for q in [*ans.citations, *ans.highlights]}
        for name, code in (("Armenia", "AM"), ("Georgia", "GE")):
            line = _line(ans.text, name)
            assert quotes[_marker(line)].passage.country == code, (threshold, ans.text)


# -- the page -----------------------------------------------------------------------------------
def _p(pid: str, country: str, text: str) -> Passage:
    return Passage(id=pid, doc_id=pid, title=f"Report {country}", text=text, country=country)


def _quotes() -> tuple[Citation, Citation]:
    """One quote from each country's report, numbered 1 (Armenia) and 2 (Georgia)."""
    am = _p("am1", "AM", "Intro. The Alpha questionnaire was open in March.")
    ge = _p("ge1", "GE", "Intro. The Beta questionnaire was open in May.")
    return (Citation(1, am, "The Alpha questionnaire was open in March."),
            Citation(2, ge, "The Beta questionnaire was open in May."))


def _cards(*quotes: Citation) -> list[ScoredPassage]:
    return [ScoredPassage(q.passage, 0.5, 0.5, 1.0, i, evidence=False)
            for i, q in enumerate(quotes, 1)]


def _per_country_evidence() -> Answer:
    am, ge = _quotes()
    text = "\n\n".join([EVIDENCE_COUNTRIES_TEXT,
                        f"Armenia \u2014 closest passage: \u201c{am.quote}\u201d [1]",
                        f"Georgia \u2014 closest passage: \u201c{ge.quote}\u201d [2]"])
    return Answer(question="q", text=text, citations=[], highlights=[am, ge],
                  passages=_cards(am, ge), abstained=True, mode="extractive",
                  outcome="evidence")


def test_the_page_shows_both_countries_cards_with_their_highlights() -> None:
    from assistant.web.sources import chat_text, sources_html

    ans = _per_country_evidence()
    panel = sources_html(ans)
    assert panel.count('class="src"') == 2
    assert "each country\u2019s closest passage" in panel
    assert '<mark class="q q1">The Alpha questionnaire was open in March.</mark>' in panel
    assert '<mark class="q q2">The Beta questionnaire was open in May.</mark>' in panel
    assert "Armenia · Report AM" in panel
    assert "Georgia · Report GE" in panel
    msg = chat_text(ans, turn=2)
    assert "Armenia \u2014 closest passage" in msg
    assert "[\\[1\\]](#src-2-1)" in msg
    assert "[\\[2\\]](#src-2-2)" in msg
    assert 'class="anchor msrc-2-2"' in msg


def _answered_and_closest() -> Answer:
    c, h = _quotes()
    return Answer(question="q", text=f"Armenia: \u201c{c.quote}\u201d [1]\n\nGeorgia \u2014 "
                  f"closest passage, which may not answer the exact question: \u201c{h.quote}"
                  "\u201d [2]", citations=[c], highlights=[h], passages=_cards(c, h),
                  abstained=False, mode="extractive", outcome="answer")


def test_the_page_shows_an_answered_country_and_the_others_closest_evidence() -> None:
    from assistant.web.sources import NOT_AN_ANSWER, chat_text, sources_html

    ans = _answered_and_closest()
    panel = sources_html(ans)
    assert panel.count('class="src"') == 2
    answer_part, _, evidence_part = panel.partition(NOT_AN_ANSWER)
    assert '<mark class="q q1">' in answer_part
    assert "Georgia" in evidence_part
    assert '<mark class="q q2">The Beta questionnaire was open in May.</mark>' in evidence_part
    assert 'id="src-1-2"' in evidence_part
    msg = chat_text(ans, turn=1)
    assert "[\\[2\\]](#src-1-2)" in msg
    assert 'class="anchor msrc-1-2"' in msg
    assert "Sources (2)" in msg


def test_the_terminal_shows_each_countrys_closest_passage(
    capsys,  # noqa: ANN001
) -> None:
    from assistant.cli import _print_sources

    _print_sources(_per_country_evidence())
    out = capsys.readouterr().out
    assert "Closest passage for Armenia: Report AM" in out
    assert "Closest passage for Georgia: Report GE" in out
    assert "\u00bbThe Alpha questionnaire was open in March.\u00ab [1]" in out
    assert "\u00bbThe Beta questionnaire was open in May.\u00ab [2]" in out
    assert out.index("Armenia") < out.index("Georgia")
    # one country answered: the other's closest quote is marked as not an answer
    _print_sources(_answered_and_closest())
    out = capsys.readouterr().out
    assert "[1] Report AM" in out
    assert "[2] Report GE" in out
    assert "(closest passage for Georgia, not an answer)" in out
    assert "(closest passage for Armenia" not in out


# -- the figures ----------------------------------------------------------------------------------
def _result(ans: Answer) -> object:
    from assistant.evaluation.metrics import ItemResult
    from assistant.evaluation.qa import QAItem

    item = QAItem("c1", "q", "March; May", (("March",), ("May",)), (), True,
                  category="comparison")
    return ItemResult(item, [], ans, 1.0)


def test_evidence_recall_reads_each_countrys_closest_passage() -> None:
    r = _result(_per_country_evidence())
    assert r.evidence_recall == 1.0  # both cards are what the page shows first
    assert r.fact_recall == 0.0  # evidence answers nothing


def test_fact_recall_leaves_out_the_closest_passage_line_of_an_answer() -> None:
    r = _result(_answered_and_closest())
    assert r.fact_recall == 0.5  # "May" is only in Georgia's closest-passage line
    assert r.evidence_recall == 1.0  # which the page does show


def test_a_comparison_that_names_no_country_asks_about_both() -> None:
    from assistant.text import compared_countries

    assert compared_countries("Did the two countries settle on the same definition?") == {
        "AM", "GE"}
    assert compared_countries("How do Armenia and Georgia differ?") == {"AM", "GE"}
    assert compared_countries("Compare the EU and Armenia") == {"EU", "AM"}  # as named
    assert compared_countries("Who runs the survey?") == frozenset()
