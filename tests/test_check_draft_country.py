"""The same sentence in two countries' reports: the evidence comes from the draft's country.

A new user's Armenian policy brief had a claim marked supported by the Georgian report, though
the Armenian report has the same sentence. Unit tests on a synthetic corpus (two reports that
share a sentence) and the bag-of-words embedding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings
from test_check import MANIFEST

from assistant.answer import Assistant
from assistant.check.draft import check_draft, draft_country
from assistant.check.report import NOT_A_CLAIM, SUPPORTED
from assistant.store.index import Index
from assistant.store.ingest import ingest

SHARED = "The main challenge is the absence of an appropriate legal framework for short courses."

ARMENIA = f"""# Armenia country report

## Main challenges

{SHARED}

## Survey

The questionnaire was answered by 41 universities and 9 colleges in total.
"""

GEORGIA = f"""# Georgia country report

## Main challenges

{SHARED.replace("The main challenge", "The main challenge today")}

## Registry

A national register of accredited training providers has been kept since 2019.
"""


@pytest.fixture
def assistant(tmp_path: Path, bow_embeddings) -> Assistant:  # noqa: ANN001
    s = make_settings(tmp_path, copy_corpus=False)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    (docs / "alpha.md").write_text(ARMENIA, encoding="utf-8")
    (docs / "beta.md").write_text(GEORGIA, encoding="utf-8")
    s.manifest_path.write_text(MANIFEST, encoding="utf-8")
    index = Index(s, embeddings=bow_embeddings)
    assert ingest(s, index=index).added == ["alpha", "beta"]
    return Assistant(s, index=index)


def _only_claim(report):  # noqa: ANN001, ANN202
    claims = [c for c in report.claims if c.kind == "claim"]
    assert len(claims) == 1, [c.text for c in report.claims]
    return claims[0]


def _evidence_docs(assistant: Assistant, text: str) -> tuple[str, list[str]]:
    c = _only_claim(check_draft(assistant, text))
    return c.status, [e.passage.doc_id for e in c.evidence]


@pytest.mark.parametrize(("title", "doc"), [
    ("Micro-credentials in Armenia: policy brief", "alpha"),
    ("Micro-credentials in Georgia: policy brief", "beta"),
])
def test_the_title_country_chooses_between_the_same_sentence(
        assistant: Assistant, title: str, doc: str) -> None:
    status, docs = _evidence_docs(assistant, f"# {title}\n\n{SHARED}\n")
    assert status == SUPPORTED
    assert docs == [doc]


@pytest.mark.parametrize(("ref", "doc"), [
    ("Micro-GEAR D1.1 Status quo report, Armenia, 2024", "alpha"),
    ("Micro-GEAR D1.1 Status quo report, Georgia, 2024", "beta"),
])
def test_a_reference_line_names_the_drafts_country(
        assistant: Assistant, ref: str, doc: str) -> None:
    status, docs = _evidence_docs(assistant, f"{SHARED}\n\n{ref}\n")
    assert (status, docs) == (SUPPORTED, [doc])


@pytest.mark.parametrize(("country", "doc"), [("Armenia", "alpha"), ("Georgia", "beta")])
def test_the_country_the_claim_names_comes_before_the_drafts(
        assistant: Assistant, country: str, doc: str) -> None:
    other = "Georgia" if country == "Armenia" else "Armenia"
    claim = SHARED.replace("The main challenge", f"In {country}, the main challenge")
    status, docs = _evidence_docs(assistant, f"# Short courses in {other}\n\n{claim}\n")
    assert (status, docs) == (SUPPORTED, [doc])


def test_the_preference_never_lends_a_sentence_the_country_lacks(assistant: Assistant) -> None:
    # only the Georgian report states it: an Armenian brief still gets the Georgian evidence
    text = ("# Micro-credentials in Armenia: policy brief\n\n"
            "A national register of accredited training providers has been kept since 2019.\n")
    assert _evidence_docs(assistant, text) == (SUPPORTED, ["beta"])


def test_draft_country_from_title_references_or_the_one_country_named() -> None:
    assert draft_country("# Micro-credentials in Armenia: policy brief\n\nText here.\n") == "AM"
    # a title naming both leaves the choice to nothing else: the draft is about both
    assert draft_country("# Armenia and Georgia compared\n\nGeorgia keeps a register.\n") == ""
    # no country in the title: the reference list names it
    assert draft_country("# A brief\n\nThe survey was answered.[1]\n\n"
                         "[1] Micro-GEAR D1.1 Georgia (2024)\n") == "GE"
    # a reference in brackets counts as well
    assert draft_country("The survey was answered (D1.1 Armenia, p. 12).\n") == "AM"
    # otherwise the only country the draft names, and none when it names two
    assert draft_country("The survey was answered.\nGeorgian universities replied.\n") == "GE"
    assert draft_country("Armenian and Georgian universities replied.\n") == ""


def test_a_reference_line_says_which_document_it_resolves_to(assistant: Assistant) -> None:
    text = (f"{SHARED}\n\nMicro-GEAR D1.1 Status quo report, Armenia, 2024\n\n"
            "Handbook of Ruritanian Apprenticeships, Zenda Press, 2031\n")
    report = check_draft(assistant, text)
    ref = [c for c in report.claims if c.text.startswith("Micro-GEAR D1.1")][0]
    assert (ref.status, ref.kind) == (NOT_A_CLAIM, "reference")
    assert ref.resolves_to == ("alpha",)
    assert ref.comment() == "\u21aa refers to Micro-GEAR D1.1: Alpha report (alpha)"
    assert "D1.1: Alpha report (alpha)" in report.to_html()
    none = [c for c in report.claims if c.text.startswith("Handbook")][0]
    assert (none.kind, none.resolves_to) == ("reference", ())
    assert "no indexed document" in none.comment()


def test_the_cli_prints_where_a_reference_line_points(
        assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import assistant.answer as answer_mod
    from assistant.cli import main

    monkeypatch.setattr(answer_mod, "Assistant", lambda settings: assistant)
    draft = tmp_path / "brief.md"
    draft.write_text(f"{SHARED}\n\nMicro-GEAR D1.1 Status quo report, Armenia, 2024\n",
                     encoding="utf-8")
    assert main(["check", str(draft), "--annotated", str(tmp_path / "a.md")]) == 0
    out = capsys.readouterr().out
    assert ("[reference] Micro-GEAR D1.1 Status quo report, Armenia, 2024\n"
            "    refers to Micro-GEAR D1.1: Alpha report (alpha)") in out
    assert "2024 [\u21aa refers to Micro-GEAR D1.1: Alpha report (alpha)]" in \
        (tmp_path / "a.md").read_text(encoding="utf-8")


@pytest.mark.integration
@pytest.mark.parametrize(("country", "doc"), [("Armenia", "d11-armenia"),
                                              ("Georgia", "d11-georgia")])
def test_the_trial_brief_on_the_real_reports(real_assistant: Assistant, country: str,
                                             doc: str) -> None:
    """A new user's brief: both D1.1 reports state its main challenge in nearly one sentence."""
    text = (f"# Micro-credentials in {country}: policy brief\n\n"
            "According to the survey, the main challenge is the absence of an appropriate "
            "legal framework for micro-credentials.\n\n"
            f"Micro-GEAR D1.1 Status quo report, {country}, 2024\n")
    report = check_draft(real_assistant, text)
    claim = _only_claim(report)
    assert claim.status == SUPPORTED
    assert [e.passage.doc_id for e in claim.evidence] == [doc]
    line = [c for c in report.claims if c.kind == "reference"][0]
    assert line.resolves_to == (doc,)
