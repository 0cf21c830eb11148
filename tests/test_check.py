"""Checking a draft: splitting, facts, statuses, references, outputs, audit, bad input, eval set.

Unit tests run on a small synthetic corpus with the bag-of-words fake embedding; the integration
tests use the real model on the bundled D1.1 reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_settings

from assistant.answer import Assistant
from assistant.check.draft import audit_path, check_draft
from assistant.check.facts import compare, facts
from assistant.check.reading import read_draft
from assistant.check.report import (
    CONTRADICTED,
    NOT_A_CLAIM,
    NOT_FOUND,
    PARTLY,
    REF_RIGHT,
    REF_UNRESOLVED,
    REF_WRONG_DOC,
    REF_WRONG_PLACE,
    SUPPORTED,
)
from assistant.check.split import split_draft
from assistant.cli import main
from assistant.errors import DocumentError, InputError
from assistant.store.index import Index
from assistant.store.ingest import ingest
from assistant.text import contains_quote
from assistant.types import Passage

# A synthetic corpus written for these tests (not real documents).
ALPHA = """# Alpha country report

## Survey

The Alpha survey was answered by 41 universities and 9 colleges in total.

The questionnaire was open from March 3rd to April 9th, 2024.

## Legislation

There is no national law on micro-credentials in Alpha.

## Providers

The Alpha Coding School has trained more than 3,000 graduates in software testing.
"""

BETA = """# Beta country report

## Survey

The Beta survey was answered by 17 universities.

## Registry

Beta keeps a national register of accredited training providers since 2019.
"""

MANIFEST = (
    '[[document]]\nid = "alpha"\ntitle = "Micro-GEAR D1.1: Alpha report"\ncountry = "AM"\n'
    'doc_type = "report"\nyear = 2024\npath = "documents/alpha.md"\n\n'
    '[[document]]\nid = "beta"\ntitle = "Micro-GEAR D1.1: Beta report"\ncountry = "GE"\n'
    'doc_type = "report"\nyear = 2024\npath = "documents/beta.md"\n'
)


@pytest.fixture
def assistant(tmp_path: Path, bow_embeddings) -> Assistant:  # noqa: ANN001
    return synthetic_assistant(tmp_path, bow_embeddings)


def synthetic_assistant(tmp_path: Path, embeddings: Any) -> Assistant:
    """The two synthetic reports (Alpha as Armenia, Beta as Georgia) ingested in tmp_path."""
    s = make_settings(tmp_path, copy_corpus=False)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    (docs / "alpha.md").write_text(ALPHA.replace("Alpha", "Armenia"), encoding="utf-8")
    (docs / "beta.md").write_text(BETA.replace("Beta", "Georgia"), encoding="utf-8")
    s.manifest_path.write_text(MANIFEST, encoding="utf-8")
    index = Index(s, embeddings=embeddings)
    assert ingest(s, index=index).added == ["alpha", "beta"]
    return Assistant(s, index=index)


def _claim(report, needle: str):  # noqa: ANN001, ANN202
    found = [c for c in report.claims if needle in c.text]
    assert len(found) == 1, [c.text for c in report.claims]
    return found[0]


# -- splitting ----------------------------------------------------------------------------------
DRAFT = """# A brief on micro-credentials

## Context

This section describes the situation. The Armenia survey was answered by 41 universities [1].
Is this enough? As the summary put it, "the survey was answered by many universities in Armenia".

- There is no national law on micro-credentials in Armenia.[^a] Georgia keeps a national register.

The summary: "the survey was answered by many universities in Armenia".

## References

[1] Micro-GEAR D1.1 Armenia (2024)

[^a]: Micro-GEAR D1.1 Georgia, section Legislation.
"""


def test_split_draft_kinds_and_references() -> None:
    units, refs, _ = split_draft(DRAFT)
    kinds = {DRAFT[u.start:u.end]: u.kind for u in units}
    assert kinds["# A brief on micro-credentials"] == "heading"
    assert kinds["This section describes the situation."] == "not checkable"
    assert kinds["Is this enough?"] == "question"
    assert kinds["The Armenia survey was answered by 41 universities [1]."] == "claim"
    # The bullet item's two sentences are split after the footnote marker.
    assert kinds["- There is no national law on micro-credentials in Armenia.[^a]"] == "claim"
    assert kinds["Georgia keeps a national register."] == "claim"
    quoted = [k for k, v in kinds.items() if v == "self-quotation"]
    assert len(quoted) == 2, kinds
    # The reference list and footnote definitions are references, not sentences to check.
    assert refs == {"1": "Micro-GEAR D1.1 Armenia (2024)",
                    "^a": "Micro-GEAR D1.1 Georgia, section Legislation."}
    assert not any("Micro-GEAR D1.1 Armenia (2024)" in k for k in kinds)


def test_facts_figures_years_dates_countries() -> None:
    f = facts("In Armenia, nine associations and 3,000 graduates; 93% in 2021 (16.06.2022).")
    values = {v for v, _ in f.figures}
    assert {"9", "3000", "93%"} <= values
    assert "16" not in values  # the day of a date is not a count (a date of its own)
    assert f.dates == (("16", "June"),)
    assert set(f.years) == {"2021", "2022"}
    assert f.countries == {"AM"}
    assert not facts("1. Yerevan State University").figures  # list numbering is not a figure


def _p(text: str, country: str = "AM") -> Passage:
    return Passage(id="x", doc_id="alpha", title="Micro-GEAR D1.1: Alpha report", text=text,
                   country=country, doc_type="report")


def test_compare_values_side_by_side() -> None:
    p = _p("Response was obtained from 50 respondents, including 22 Scientific institutions.")
    v = compare("The survey reached 25 scientific institutions.", p.text, p)
    assert not v.agrees
    assert [(c.kind, c.draft, c.document, c.where) for c in v.mismatches] == [
        ("figure", "25 scientific", "22", "Armenian report")]
    ok = compare("The survey reached 22 scientific institutions.", p.text, p)
    assert ok.agrees
    assert not ok.mismatches


def test_compare_country_year_and_polarity() -> None:
    ge = _p("In Georgia, work started in 2020.", country="GE")
    v = compare("In Armenia, work started in 2017.", ge.text, ge)
    kinds = {c.kind: (c.draft, c.document) for c in v.mismatches}
    assert kinds["country"] == ("Armenia", "Georgia")
    assert kinds["year"] == ("2017", "2020")
    law = _p("There is no national legislation related to micro-credentials.")
    neg = compare("Armenia has national legislation on micro-credentials.", law.text, law)
    assert [c.kind for c in neg.mismatches] == ["polarity"]
    same = compare("Armenia has no national legislation on micro-credentials.", law.text, law)
    assert same.agrees


def test_a_contradiction_needs_the_same_kind_of_quantity() -> None:
    """Issue 18: "27 respondents" is not contradicted by "7 years", nor "12 out of 27" by a
    count of something else; a differing figure of the same kind still is."""
    p = _p("The accreditation of a programme is valid for 7 years.")
    v = compare("The survey drew 27 respondents.", p.text, p)
    assert [c for c in v.mismatches if c.kind == "figure"] == []
    assert not v.agrees  # not supported either: the figure is simply not found there
    q = _p("Of the institutions surveyed, 7 universities offer short courses.")
    v = compare("12 out of 27 respondents offer short courses.", q.text, q)
    assert [c for c in v.mismatches if c.kind == "figure"] == []
    r = _p("In total, 27 respondents answered the questionnaire.")
    v = compare("In total, 35 respondents answered the questionnaire.", r.text, r)
    assert [(c.draft, c.document) for c in v.mismatches] == [("35 respondents", "27")]


def test_a_figure_inside_markup_is_not_a_claims_figure() -> None:
    assert [v for v, _ in facts("<script>alert(1)</script> The survey had 22 respondents."
                                ).figures] == ["22"]
    assert [v for v, _ in facts("Call alert(1) when 22 respondents answered.").figures] == ["22"]


def test_a_true_conversion_is_not_contradicted() -> None:
    p = _p("The certificates record 3 ECTS credits for 90 academic hours of study.")
    v = compare("The certificates record 3 ECTS credits for 90 academic hours, that is, 30 "
                "academic hours per credit.", p.text, p)
    assert v.mismatches == []
    assert v.agrees
    share = _p("Out of 27 respondents, 16 supported combining micro-credentials.")
    v = compare("Out of 27 respondents, 16 (about 59%) supported combining micro-credentials.",
                share.text, share)
    assert v.mismatches == []
    wrong = compare("Out of 27 respondents, 16 (about 75%) supported combining "
                    "micro-credentials.", share.text, share)
    assert not wrong.agrees


def test_a_rate_or_a_share_is_checked_against_the_documents_figures() -> None:
    """Issue 18: a true conversion of credits to hours was called contradicted ("30 hours"
    against the document's "90 hours"); a wrong one must name the right rate."""
    p = _p("The summer schools awarded 3 ECTS credits, equivalent to 90 academic hours.")
    ok = compare("There, one ECTS credit corresponded to 30 academic hours.", p.text, p)
    assert ok.mismatches == []
    assert ok.agrees
    wrong = compare("There, one ECTS credit corresponded to 25 academic hours.", p.text, p)
    assert [(c.draft, c.document) for c in wrong.mismatches] == [("25 academic", "30")]
    # A share whose whole only the document states: 12 of 27 is 44%.
    q = _p("Internal quality assurance alone was chosen by 12 of 27 respondents.")
    assert compare("Internal quality assurance alone was chosen by 12 respondents (44%).",
                   q.text, q).agrees
    bad = compare("Internal quality assurance alone was chosen by 12 respondents (54%).",
                  q.text, q)
    assert [(c.draft, c.document) for c in bad.mismatches] == [("54%", "44%")]


def test_a_plan_or_a_need_does_not_support_a_stated_fact() -> None:
    """Issue 18: the draft says a mechanism exists where the report says it should exist."""
    p = _p("A national register of micro-credentials should be set up by the ministry.")
    v = compare("The ministry has set up a national register of micro-credentials.", p.text, p)
    assert not v.agrees
    assert v.mismatches == []  # not a contradiction either: the report states no fact on it
    same = compare("A national register of micro-credentials should be set up.", p.text, p)
    assert same.agrees
    fact = _p("The ministry set up a national register of micro-credentials.")
    assert compare("The ministry has set up a national register of micro-credentials.",
                   fact.text, fact).agrees


def _cand(text: str, topic: float) -> Any:
    from assistant.check.evidence import _Cand
    from assistant.types import ScoredPassage

    p = _p(text)
    return _Cand(ScoredPassage(passage=p, score=topic), 0, len(text), topic)


def test_a_denial_outweighs_a_sentence_that_only_shares_the_subject() -> None:
    """Issue 18: a negated finding was "supported" by a nearby sentence that does not deny it
    while the report's denial scored a little lower."""
    from assistant.check.evidence import judge

    claim = "Armenia has included micro-credentials in its national qualifications framework."
    near = _cand("Micro-credentials in Armenia are offered by the national universities and "
                 "included in their catalogues.", 0.62)
    denial = _cand("There is no reference to micro-credentials in the national "
                   "qualifications framework of Armenia.", 0.60)
    assert judge(claim, [near, denial]).status == CONTRADICTED
    # Another kind of contradiction still has to be clearly closer than the support.
    figure_claim = "The register lists 40 micro-credentials in Armenia."
    agrees = _cand("The register lists 40 micro-credentials in Armenia.", 0.62)
    other = _cand("The register lists 12 micro-credentials in Armenia.", 0.60)
    assert judge(figure_claim, [agrees, other]).status == SUPPORTED


def test_a_clause_after_and_with_its_own_subject_is_checked_on_its_own() -> None:
    from assistant.check.evidence import clauses

    parts = clauses("The survey of universities ran in spring 2024 and it was answered by "
                    "40 schools.")
    assert parts == ["The survey of universities ran in spring 2024",
                     "it was answered by 40 schools"]
    # "and" inside a noun phrase is not a clause boundary.
    assert clauses("Universities and colleges answered the national survey.") == [
        "Universities and colleges answered the national survey."]


# -- statuses on the synthetic corpus -----------------------------------------------------------
def test_statuses_quotes_and_values(assistant: Assistant) -> None:
    text = (
        "# Draft\n\n"
        "The Armenia survey was answered by 41 universities and 9 colleges in total.\n\n"
        "The Armenia survey was answered by 45 universities and 9 colleges in total.\n\n"
        "The Armenia Coding School has trained more than 3,000 graduates in software testing, "
        "while the ministry funds twelve robotics olympiads every winter in mountain villages.\n\n"
        "Lunar mining cooperatives issue blockchain badges to astronauts on Mars.\n\n"
        "What happens next?\n"
    )
    before = assistant.index.count()
    report = check_draft(assistant, text)
    assert assistant.index.count() == before  # the draft is never indexed
    ok = _claim(report, "41 universities")
    assert ok.status == SUPPORTED
    assert ok.evidence
    assert all(e.verified for e in ok.evidence)
    assert contains_quote(ok.evidence[0].passage.text, ok.evidence[0].quote)
    bad = _claim(report, "45 universities")
    assert bad.status == CONTRADICTED
    assert (bad.comparisons[0].draft, bad.comparisons[0].document) == ("45 universities", "41")
    part = _claim(report, "Coding School")
    assert part.status == PARTLY, part.to_dict()
    assert part.missing
    assert "robotics" in part.missing[0]
    assert _claim(report, "Lunar mining").status == NOT_FOUND
    assert _claim(report, "Lunar mining").closest  # shown as "not support"
    assert _claim(report, "What happens next?").status == NOT_A_CLAIM
    assert report.counts()[NOT_A_CLAIM] == 2


def test_references_right_wrong_document_section_unresolved(assistant: Assistant) -> None:
    text = (
        "The Armenia survey was answered by 41 universities and 9 colleges in total [1].\n\n"
        "The Armenia survey was answered by 41 universities and 9 colleges in total [2].\n\n"
        "There is no national law on micro-credentials in Armenia (D1.1 Armenia, section "
        "Survey).\n\n"
        "There is no national law on micro-credentials in Armenia (OECD, 2021).\n\n"
        "## References\n\n[1] Micro-GEAR D1.1 Armenia (2024)\n[2] Micro-GEAR D1.1 Georgia (2024)\n"
    )
    report = check_draft(assistant, text)
    statuses = [r.status for r in report.references]
    assert statuses == [REF_RIGHT, REF_WRONG_DOC, REF_WRONG_PLACE, REF_UNRESOLVED], \
        [r.to_dict() for r in report.references]
    wrong = report.references[1]
    assert "Armenia" in wrong.right
    assert "Survey" in wrong.right
    assert "Legislation" in report.references[2].right


def test_outputs_json_markdown_html_escaped(assistant: Assistant) -> None:
    text = ("The Armenia survey was answered by 45 universities and 9 colleges in total.\n\n"
            "Lunar <script>alert(1)</script> cooperatives issue badges to astronauts on Mars.\n")
    report = check_draft(assistant, text, source="brief.md")
    md = report.to_markdown()
    assert "\u2717 Armenian report says 41, not 45 universities" in md
    assert "\u26a0 not found in the indexed documents" in md
    assert md.startswith("The Armenia survey")
    page = report.to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    data = json.loads(report.to_json())
    assert data["counts"][CONTRADICTED] == 1
    assert data["claims"][0]["compared"][0]["document"] == "41"
    assert "total_ms" in data["timings_ms"]


def test_audit_record(assistant: Assistant) -> None:
    report = check_draft(assistant, "The Georgia survey was answered by 17 universities.\n")
    rows = audit_path(assistant).read_text(encoding="utf-8").splitlines()
    record = json.loads(rows[-1])
    assert record["corpus_fingerprint"] == assistant.fingerprint()
    assert record["claims"][0]["passages"] == report.claims[0].passages
    assert record["claims"][0]["passages"]
    assert "topic_support" in record["settings"]


def test_filters_restrict_the_evidence(assistant: Assistant) -> None:
    report = check_draft(assistant, "The Georgia survey was answered by 17 universities.\n",
                         filters={"country": ["AM"]})
    claim = report.claims[0]
    shown = [*claim.evidence, *claim.closest]
    assert all(e.passage.country == "AM" for e in shown), [e.passage.doc_id for e in shown]
    # a true claim about Georgia, checked against Armenia's documents only, is not contradicted:
    # it is not found in the documents chosen
    assert claim.status == NOT_FOUND, (claim.status, claim.comparisons)
    assert "not found in the selected documents" in claim.comment()


def test_progress_is_reported(assistant: Assistant) -> None:
    seen: list[tuple[int, int]] = []
    check_draft(assistant, "# T\n\nThe Georgia survey was answered by 17 universities.\n",
                progress=lambda d, t, _: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   \n", "# Only a heading\n\nWhy?\n"])
def test_nothing_to_check(assistant: Assistant, text: str) -> None:
    with pytest.raises(InputError):
        check_draft(assistant, text)


def test_draft_over_the_limit(assistant: Assistant) -> None:
    assistant.settings.max_draft_chars = 100
    with pytest.raises(InputError, match="ASSISTANT_MAX_DRAFT_CHARS"):
        check_draft(assistant, "The Georgia survey was answered by 17 universities. " * 5)


def test_read_draft_formats(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Brief", level=1)
    d.add_paragraph("The survey was answered by 41 universities.")
    d.add_paragraph("First item", style="List Bullet")
    d.save(str(tmp_path / "b.docx"))
    assert read_draft(tmp_path / "b.docx", 20) == (
        "# Brief\n\nThe survey was answered by 41 universities.\n\n- First item")
    (tmp_path / "bad.docx").write_bytes(b"not a zip")
    (tmp_path / "x.odt").write_text("x", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    for name, msg in (("bad.docx", "not a readable .docx"), ("x.odt", "unsupported file type"),
                      ("latin.txt", "not UTF-8"), ("none.md", "file not found")):
        with pytest.raises(DocumentError, match=msg):
            read_draft(tmp_path / name, 20)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.encrypt("secret")
    with (tmp_path / "e.pdf").open("wb") as fh:
        w.write(fh)
    with pytest.raises(DocumentError, match="encrypted"):
        read_draft(tmp_path / "e.pdf", 20)


@pytest.mark.parametrize(("content", "reason"), [
    (None, "file not found"), (b"", "file is empty"),
    (b"\xff\xfe\x00bad", "not UTF-8 text (byte 0); re-save it as UTF-8")])
def test_cli_bad_input_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       content: bytes | None, reason: str) -> None:
    path = tmp_path / "draft.md"
    if content is not None:
        path.write_bytes(content)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {path}: {reason}"
    assert "\n" not in err
    assert "Traceback" not in err


def test_cli_check_writes_reports(assistant: Assistant, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import assistant.answer as answer_mod

    monkeypatch.setattr(answer_mod, "Assistant", lambda settings: assistant)
    draft = tmp_path / "d.md"
    draft.write_text("The Armenia survey was answered by 45 universities and 9 colleges in "
                     "total.\n", encoding="utf-8")
    code = main(["check", str(draft), "--report", str(tmp_path / "r.html"),
                 "--annotated", str(tmp_path / "a.md")])
    out = capsys.readouterr().out
    assert code == 0
    assert "[contradicted]" in out
    assert "figure: draft: 45 universities" in out
    assert "says 41, not 45" in (tmp_path / "a.md").read_text(encoding="utf-8")
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!doctype html>")


# -- the evaluation set -------------------------------------------------------------------------
def test_draft_set_is_consistent() -> None:
    """Every expected sentence is one sentence of its draft, and every sentence is listed."""
    from assistant.evaluation.drafts import PLANTED, load_drafts

    items = load_drafts(REPO / "corpus" / "eval" / "drafts.jsonl")
    assert len(items) >= 8
    assert {i.part for i in items} == {"tune", "test"}
    planted: set[str] = set()
    for item in items:
        text = item.path.read_text(encoding="utf-8")
        units, _, _ = split_draft(text)
        claims = [u for u in units if u.kind == "claim"]
        assert 10 <= len(claims) <= 40, item.path.name
        for e in item.claims:
            hits = [u for u in units if e.text in text[u.start:u.end]]
            assert len(hits) == 1, (item.path.name, e.text)
            if item.part == "tune":  # on the test part a wrong kind is a measured error
                assert (hits[0].kind == "claim") == (e.status != NOT_A_CLAIM), (item.path.name, e)
            if e.status == CONTRADICTED:
                assert e.planted
                # figures, years and conversions name the two values; a negation, a false
                # clause or a sentence about the other country need not
                assert e.values or e.planted in {"negation", "two-clause", "other-country"}
            planted |= {e.planted} if e.planted else set()
        assert len(item.claims) == len(units), item.path.name
    assert planted == set(PLANTED)


def test_metrics_count_what_they_say() -> None:
    from assistant.check.report import ClaimResult, Comparison, RefCheck
    from assistant.evaluation.drafts import Expected, Outcome, metrics

    def got(status: str, refs: tuple[str, ...] = (), cmp: tuple[str, str] | None = None
            ) -> ClaimResult:
        c = ClaimResult(n=1, text="x", start=0, end=1, status=status)
        c.references = [RefCheck("[1]", "", status=r) for r in refs]
        if cmp:
            c.comparisons = [Comparison("figure", cmp[0], cmp[1], "Armenian report")]
        return c

    outcomes = [
        Outcome("a", "test", Expected("t1", SUPPORTED), got(SUPPORTED)),
        Outcome("a", "test", Expected("t2", SUPPORTED), got(NOT_FOUND)),
        Outcome("a", "test", Expected("f", CONTRADICTED, "figure", ("25", "22")),
                got(CONTRADICTED, cmp=("25 scientific", "22"))),
        Outcome("a", "test", Expected("i", NOT_FOUND, "invented"), got(SUPPORTED)),
        Outcome("a", "test", Expected("r", SUPPORTED, "wrong-reference", refs=(REF_WRONG_DOC,)),
                got(SUPPORTED, (REF_WRONG_DOC,))),
    ]
    m = metrics(outcomes)
    assert m["planted_error_recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["false_flag_rate"] == 0.5
    # A true sentence tagged as a trap (a right conversion) is a true claim, not a planted error.
    trap = Outcome("a", "test", Expected("c", SUPPORTED, "conversion"), got(CONTRADICTED))
    m2 = metrics([*outcomes, trap])
    assert m2["n_planted"] == 3
    assert m2["n_true_claims"] == 3
    assert m2["false_flag_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["contradiction_values"] == 1.0
    assert m["reference_accuracy"] == 1.0
    assert m["status"][SUPPORTED]["precision"] == pytest.approx(2 / 3, abs=1e-3)


# -- integration: the real model on the bundled reports -----------------------------------------
@pytest.mark.integration
def test_real_corpus_statuses(real_assistant: Assistant) -> None:
    text = (
        "# Brief\n\n"
        "In total, 50 institutions in Armenia received the questionnaire, among them 22 "
        "scientific institutions [1].\n\n"
        "Response in the Armenian survey was obtained from 50 respondents, including 25 "
        "Scientific institutions.\n\n"
        "On June 27, 2014, Georgia signed an Association Agreement with the European Union [1].\n"
        "\nThe Ministry plans to fund 40 pilot micro-credential programmes by 2026.\n\n"
        "## References\n\n[1] Micro-GEAR D1.1 Armenia (Yerevan, 2024)\n"
    )
    report = check_draft(real_assistant, text)
    first = _claim(report, "among them 22")
    assert first.status == SUPPORTED
    assert first.evidence[0].verified
    assert first.references[0].status == REF_RIGHT
    wrong = _claim(report, "25 Scientific")
    assert wrong.status == CONTRADICTED
    assert (wrong.comparisons[0].document, wrong.comparisons[0].where) == ("22", "Armenian report")
    ge = _claim(report, "Association Agreement")
    assert ge.status == SUPPORTED
    assert ge.evidence[0].passage.doc_id == "d11-georgia"
    assert ge.references[0].status == REF_WRONG_DOC
    assert _claim(report, "40 pilot").status == NOT_FOUND


# -- the page -----------------------------------------------------------------------------------
def test_page_check_returns_report_and_files(assistant: Assistant, tmp_path: Path) -> None:
    from assistant.web.check_tab import check_for_page

    msg, page, files = check_for_page(
        assistant, "The Armenia survey was answered by 45 universities and 9 colleges in total.",
        None, None)
    assert "1 contradicted" in msg
    assert "st-contradicted" in page
    assert "45 universities" in page
    names = sorted(Path(f).name for f in files)
    assert names == ["draft.check.html", "draft.checked.md"]
    assert "not 45 universities" in Path(sorted(files)[1]).read_text(encoding="utf-8")
    bad, page, files = check_for_page(assistant, "   ", None, None)
    assert bad.startswith("\u26a0 ")
    assert files == []
    (tmp_path / "x.odt").write_text("x", encoding="utf-8")
    bad, _, _ = check_for_page(assistant, "", str(tmp_path / "x.odt"), None)
    assert "unsupported file type" in bad


def test_page_has_the_check_tab(assistant: Assistant) -> None:
    from assistant.web.page import build_app

    app = build_app(assistant.settings, assistant)
    labels = {getattr(b, "label", None) for b in app.blocks.values()}
    assert "Check a draft" in labels
    assert "check_draft" in {d.api_name for d in app.fns.values()}


# -- the draft checker's audit on a full disk (issue 18) ------------------------------------------
def test_draft_audit_on_a_full_disk_leaves_whole_lines(assistant: Assistant,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import full_disk_after_half

    from assistant.store.files import StorageError, read_jsonl

    draft = "The Georgia survey was answered by 17 universities.\n"
    check_draft(assistant, draft)
    with monkeypatch.context() as m:
        full_disk_after_half(m)
        with pytest.raises(StorageError, match=f"The disk holding {audit_path(assistant).parent} "
                                               "is full"):
            check_draft(assistant, draft + "x" * 5000 + " is long.\n")
    check_draft(assistant, draft)
    records, problems = read_jsonl(audit_path(assistant))
    assert problems == []
    assert len(records) == 2


def test_a_wrong_month_in_the_same_date_is_a_contradiction() -> None:
    """A trial's draft moved a questionnaire's end from May 18th to June 18th and was told
    "supported": the days and the year matched, the month was not read."""
    unit = "The questionnaire was available from May 2nd to May 18th, 2024."
    p = _p(unit)
    assert facts("from May 2nd to June 18th, 2024").months == ("May", "June")
    assert facts("Universities may offer courses in June.").months == ()  # no date
    assert facts("It was adopted on 16.06.2022.").months == ("June",)
    wrong = compare("It was available from May 2nd to June 18th, 2024.", unit, p)
    assert not wrong.agrees
    assert [(c.kind, c.draft, c.document) for c in wrong.mismatches] == [("date", "June", "May")]
    assert compare("It was available from May 2nd to May 18th, 2024.", unit, p).agrees
    # Another statement of the date that does not give the day: neither support nor a clash.
    other = compare("It was adopted on 16 June 2022.", "It was adopted in May 2022.", p)
    assert not other.agrees
    assert other.mismatches == []


def test_the_cli_quotes_a_closest_passage_whole() -> None:
    # A trial: the quote was cut at 160 characters, before the figure the draft was about.
    from types import SimpleNamespace

    from assistant.check.cli import closest_line

    quote = ("Response in the survey was obtained from 50 respondents, including 13 State "
             "higher educational institutions, 6 Branches of licensed foreign state and "
             "non-state higher educational institutions, 22 Scientific institutions.")
    e = SimpleNamespace(quote=quote, reference=lambda: "Report, II. Survey results")
    line = closest_line(e)
    assert "22 Scientific institutions.\u201d" in line
    assert line.endswith("\u201d")


def test_a_drafts_heading_is_shown_without_its_markdown_marks(assistant: Assistant) -> None:
    # A trial checked a .docx brief on the page and saw its title as "# Policy brief…".
    from assistant.check.report import report_fragment

    text = ("# Policy brief on micro-credentials\n\n"
            "The Armenia survey was answered by 45 universities and 9 colleges in total.\n")
    page = report_fragment(check_draft(assistant, text, source="brief.docx"))
    assert "Policy brief on micro-credentials" in page
    assert "# Policy brief" not in page
    assert "45 universities" in page
