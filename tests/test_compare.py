"""Comparing countries: cells from answers, the country guard, JSON, Markdown, Word, evaluation.

Unit tests run on a fake answer step (answers prepared per country) and on a small synthetic
corpus with the bag-of-words fake embedding; the integration test uses the real model on the
bundled D1.1 reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import make_settings

from assistant.answer.questions import QuestionInfo, read_question
from assistant.answer.scorer import ScoredSpan
from assistant.answer.spans import Span
from assistant.compare import (
    ADDRESSED,
    NOT_ADDRESSED,
    Topic,
    cell_of,
    cell_text,
    check_countries,
    compare,
    default_topics,
    to_markdown,
    typed_topics,
    write_docx,
)
from assistant.errors import InputError
from assistant.evaluation.compare import GoldCell, cell_right, load_gold, score
from assistant.retrieve.hybrid import QueryTerms, Retrieval
from assistant.text import sentence_spans
from assistant.types import Answer, Citation, DocumentInfo, Passage, ScoredPassage
from assistant.web.compare_tab import sources_html, table_html

AM_TEXT = ("The main challenge is the lack of an appropriate legal framework. "
           "Employers are rarely involved.")
GE_TEXT = "In Georgia the main challenge is low public awareness. A register is planned."


def _passage(pid: str, country: str, text: str, section: str = "Challenges") -> Passage:
    return Passage(id=pid, doc_id=f"d11-{country.lower()}", country=country, text=text,
                   title=f"Micro-GEAR D1.1: Report {country}", section=section, year=2024)


AM = _passage("am1", "AM", AM_TEXT)
GE = _passage("ge1", "GE", GE_TEXT)


def _answer(citations: list[Citation], passages: list[Passage], abstained: bool = False,
            **extra: Any) -> Answer:
    sps = [ScoredPassage(p, 1.0, sentences=((0, len(p.text.split(". ")[0]) + 1, 0.9),))
           for p in passages]
    a = Answer(question="q", text="t", citations=citations, passages=sps, abstained=abstained,
               mode="extractive")
    for k, v in extra.items():
        setattr(a, k, v)
    return a


Candidate = tuple[Passage, str, float]  # a passage, a span of its text, its probability


def _scored(cands: list[Candidate]) -> tuple[list[ScoredPassage], list[ScoredSpan]]:
    """Passages and scored spans (sentences) as the answer step's ``read`` returns them."""
    sps: dict[str, ScoredPassage] = {}
    out = []
    for p, quote, prob in cands:
        sp = sps.setdefault(p.id, ScoredPassage(p, 1.0, rank=len(sps) + 1, sentences=tuple(
            (s, e, 0.5) for s, e in sentence_spans(p.text))))
        start = p.text.index(quote)
        span = Span(sp, start, start + len(quote), "sentence", ((start, start + len(quote)),),
                    (0.5,))
        out.append(ScoredSpan(span, prob))
    return list(sps.values()), sorted(out, key=lambda c: -c.probability)


class FakeAssistant:
    """The answer step's surface that ``compare`` uses: per country, the spans its reading
    scores (extractive) or the answer it gives (llm mode)."""

    threshold = 0.5

    def __init__(self, settings: Any, read: dict[str, list[Candidate]],
                 countries: tuple[str, ...] = ("AM", "GE"),
                 answers: dict[str, Answer] | None = None) -> None:
        self.settings = settings
        self.reads = read
        self.answers = answers or {}
        self.asked: list[tuple[str, tuple[str, ...]]] = []
        self.thresholds: list[float | None] = []  # the answer threshold each ask saw
        self.index = SimpleNamespace(embeddings=object())
        lex = SimpleNamespace(passages=[_passage(c, c, "x") for c in countries])
        self.retriever = SimpleNamespace(index=self.index, lexicon=lambda: lex,
                                         retrieve=self._retrieve)

    def coverage(self) -> list[tuple[DocumentInfo, bool]]:
        eu = DocumentInfo(id="eu-rec", title="Council Recommendation", country="EU",
                          path="documents/eu-rec.pdf", urls=())
        return [(eu, False)]

    def read_question(self, q: str) -> QuestionInfo:
        return read_question(q, q)

    def _retrieve(self, query: str, filters: Any) -> Retrieval:
        self.asked.append((query, tuple(filters["country"])))
        passages, _ = _scored(self.reads[filters["country"][0]])
        return Retrieval(query, tuple(passages), QueryTerms())

    def read(self, info: QuestionInfo, retrieval: Retrieval) -> list[ScoredSpan]:
        return _scored(self.reads[self.asked[-1][1][0]])[1]

    def ask(self, question: str, history: Any = None, filters: Any = None,
            mode: str | None = None) -> Answer:
        country = filters["country"][0]
        self.asked.append((question, tuple(filters["country"])))
        self.thresholds.append(self.settings.answer_threshold)
        return self.answers[country]


@pytest.fixture
def fake(tmp_path: Path) -> FakeAssistant:
    s = make_settings(tmp_path)
    return FakeAssistant(s, {
        "AM": [(AM, "The main challenge is the lack of an appropriate legal framework.", 0.9)],
        "GE": [(GE, "In Georgia the main challenge is low public awareness.", 0.05)],
    })


TOPIC = Topic("Main obstacles", "What are the main challenges?")


# -- cells and the JSON --------------------------------------------------------------------------
def test_json_has_the_issue_shape(fake: FakeAssistant) -> None:
    m = compare(fake, [TOPIC], ["AM", "GE"])
    d = json.loads(json.dumps(m.to_dict()))
    assert set(d) == {"countries", "rows"}
    assert d["countries"] == ["AM", "GE"]
    (row,) = d["rows"]
    assert set(row) == {"topic", "cells"}
    assert row["topic"] == "Main obstacles"
    assert set(row["cells"]) == {"AM", "GE"}
    for cell in row["cells"].values():
        assert set(cell) == {"status", "quotes", "closest"}
    am, ge = row["cells"]["AM"], row["cells"]["GE"]
    assert am["status"] == "addressed"
    assert ge["status"] == "not addressed"
    (q,) = am["quotes"]
    assert {"quote", "doc_id", "country", "section", "page", "verified"} <= set(q)
    assert q["country"] == "AM"
    assert q["doc_id"] == "d11-am"
    assert q["page"] is None
    assert q["verified"] is True
    assert q["section"] == "Challenges"
    assert q["reference"].startswith("Micro-GEAR D1.1 Armenia (2024), Challenges")
    # Each country was asked once, filtered to itself, with the label and wording together.
    assert fake.asked == [("Main obstacles: What are the main challenges?", ("AM",)),
                          ("Main obstacles: What are the main challenges?", ("GE",))]


def test_a_quote_from_another_country_never_lands_in_a_cell(fake: FakeAssistant) -> None:
    stray = (GE, "In Georgia the main challenge is low public awareness.", 0.95)
    own = (AM, "Employers are rarely involved.", 0.8)
    fake.reads["AM"] = [stray, own]
    m = compare(fake, [TOPIC], ["AM", "GE"])
    cell = m.rows[0].cells["AM"]
    assert [q.quote for q in cell.quotes] == ["Employers are rarely involved."]
    assert all(q.passage.country == "AM" for q in cell.citations)
    assert m.dropped["wrong_country"] == 1  # the stray passage, counted by the guard
    # Only the other country's span reaches the bar: not addressed, its closest is its own.
    fake.reads["AM"] = [stray, (AM, "Employers are rarely involved.", 0.05)]
    cell = compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"]
    assert cell.status == NOT_ADDRESSED
    assert cell.quotes == ()
    assert [q.passage.country for q in cell.closest] == ["AM"]
    # The llm and verify modes: the mode's answer, its quotes guarded the same way.
    fake.answers["AM"] = _answer([Citation(1, GE, stray[1]), Citation(2, AM, own[1])], [GE, AM])
    m = compare(fake, [TOPIC], ["AM"], mode="llm")
    assert [q.quote for q in m.rows[0].cells["AM"].quotes] == [own[1]]
    assert m.dropped["wrong_country"] == 1
    margin = fake.settings.compare_threshold_margin  # asked with the threshold lowered
    assert fake.thresholds == [pytest.approx(max(0.0, fake.threshold - margin))]
    assert fake.settings.answer_threshold is None  # the chat's own is untouched


def test_an_unverified_quote_is_dropped_and_counted() -> None:
    made_up = Citation(1, AM, "The main challenge is funding.")
    cell = cell_of(_answer([made_up], [AM]), "AM")
    assert cell.status == NOT_ADDRESSED
    assert cell.quotes == ()
    assert cell.dropped_unverified == 1


def test_not_addressed_cell_shows_its_closest_passage_as_such(fake: FakeAssistant) -> None:
    m = compare(fake, [TOPIC], ["AM", "GE"])
    ge = m.rows[0].cells["GE"]
    assert ge.status == NOT_ADDRESSED
    (closest,) = ge.closest
    assert closest.quote == "In Georgia the main challenge is low public awareness."
    assert closest.n == 2  # numbered after the AM quote, in reading order
    assert cell_text(ge).startswith("Not addressed. Closest passage, not an answer: ")
    assert "Not an answer: the closest passage" in sources_html(m, _card)


def test_outcome_decides_when_present() -> None:
    quote = Citation(1, AM, "Employers are rarely involved.")
    evidence = _answer([quote], [AM], abstained=True, outcome="evidence")
    cell = cell_of(evidence, "AM")
    assert cell.status == NOT_ADDRESSED
    assert [q.quote for q in cell.closest] == [quote.quote]
    assert cell_of(_answer([quote], [AM], outcome="answer"), "AM").status == ADDRESSED
    assert cell_of(_answer([quote], [AM], abstained=True), "AM").status == NOT_ADDRESSED


def test_at_most_two_quotes_per_cell() -> None:
    cites = [Citation(i, AM, s) for i, s in enumerate(
        ["The main challenge is the lack of an appropriate legal framework.",
         "Employers are rarely involved.", "The main challenge is the lack"], 1)]
    assert len(cell_of(_answer(cites, [AM]), "AM").quotes) == 2


def test_eu_is_a_column_once_indexed(tmp_path: Path) -> None:
    bot = FakeAssistant(make_settings(tmp_path), {}, countries=("AM", "GE", "EU"))
    assert check_countries(bot, ["AM", "GE", "EU"]) == ["AM", "GE", "EU"]


def test_eu_needs_an_indexed_document(fake: FakeAssistant) -> None:
    with pytest.raises(InputError, match=r"No document from the European Union \(EU\) is indexed"
                       r".*save its official text as corpus/documents/eu-rec.pdf, then run "
                       r"`assistant ingest`"):
        check_countries(fake, ["AM", "EU"])
    with pytest.raises(InputError, match="Unknown country XY"):
        check_countries(fake, ["XY"])


def test_default_topics_and_typed_ones(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    labels = [t.label for t in default_topics(s)]
    assert len(labels) >= 12
    assert "Use of ECTS" in labels
    typed = typed_topics(["  Funding  ", "", "Funding", "Employers"], s)
    assert [t.label for t in typed] == ["Funding", "Employers"]
    with pytest.raises(InputError, match="the limit is 1000 characters"):
        typed_topics(["x" * 5000], s)


# -- downloads and escaping ----------------------------------------------------------------------
def _card(p: Passage, cites: Any, turn: int, in_message: bool) -> str:
    anchors = "".join(f'<span class="anchor" id="src-{turn}-{c.n}"></span>' for c in cites)
    return f'<div class="src">{anchors}{p.id}</div>'


def test_markdown_and_docx_hold_the_table(fake: FakeAssistant, tmp_path: Path) -> None:
    from docx import Document

    m = compare(fake, [TOPIC, Topic("Funding", "How is it funded?")], ["AM", "GE"])
    md = to_markdown(m)
    rows = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert rows[0] == "| Topic | Armenia | Georgia |"
    assert len(rows) == 3
    for r, line in zip(m.rows, rows[1:], strict=True):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert cells[0] == r.topic.label
        for country, shown in zip(m.countries, cells[1:], strict=True):
            assert shown.replace("\\", "") == cell_text(r.cells[country])
    refs = md.split("## References", 1)[1]
    assert re.findall(r"^\\\[(\d+)\\\]", refs, re.M) == [str(c.n) for c in m.citations]
    assert "closest passage, not an answer" in refs
    doc = Document(str(write_docx(m, tmp_path / "t.docx")))
    (table,) = doc.tables
    got = [[c.text for c in row.cells] for row in table.rows]
    want = [["Topic", "Armenia", "Georgia"]] + [
        [r.topic.label, *(cell_text(r.cells[c]) for c in m.countries)] for r in m.rows]
    assert got == want
    paras = [p.text for p in doc.paragraphs]
    assert any(p.startswith("[1] Micro-GEAR D1.1 Armenia (2024), Challenges:") for p in paras)


def test_injection_in_a_topic_is_escaped(fake: FakeAssistant) -> None:
    evil = Topic("<script>alert(1)</script> | [x](javascript:alert(1)) **b** <img src=x>",
                 "What are the main challenges?")
    m = compare(fake, [evil], ["AM", "GE"])
    md = to_markdown(m)
    assert "<script" not in md
    assert "<img" not in md
    assert not re.search(r"(?<!\\)\]\(javascript", md)  # the link is escaped text
    row = next(ln for ln in md.splitlines() if "alert" in ln)
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # the topic adds no table cell
    page = table_html(m)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="#src-0-1"' in page  # the only link is the marker


# -- on a real (small) index with the real answer step --------------------------------------------
@pytest.fixture
def small_bot(tmp_path: Path, bow_embeddings: Any) -> Any:
    """The real assistant on two tiny reports (AM, GE), with the bag-of-words fake embedding."""
    from assistant.answer import Assistant
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path, copy_corpus=False)
    docs = s.corpus_path / "documents"
    docs.mkdir(parents=True)
    (docs / "am.md").write_text("# Armenia report\n\n## Register\n\nArmenia keeps a national "
                                "register of training providers since 2020.\n", encoding="utf-8")
    (docs / "ge.md").write_text("# Georgia report\n\n## Register\n\nGeorgia keeps a national "
                                "register of training providers since 2019.\n", encoding="utf-8")
    s.manifest_path.write_text(
        '[[document]]\nid = "am"\ntitle = "Micro-GEAR D1.1: Armenia report"\ncountry = "AM"\n'
        'year = 2024\npath = "documents/am.md"\n\n[[document]]\nid = "ge"\ntitle = '
        '"Micro-GEAR D1.1: Georgia report"\ncountry = "GE"\nyear = 2024\npath = '
        '"documents/ge.md"\n\n[[document]]\nid = "eu-rec"\ntitle = "Council Recommendation"\n'
        'country = "EU"\npath = "documents/eu-rec.pdf"\nurls = [{ url = "https://eur-lex.europa'
        '.eu/rec.pdf", format = "pdf" }]\n', encoding="utf-8")
    index = Index(s, embeddings=bow_embeddings)
    assert ingest(s, index=index).added == ["am", "ge"]
    return Assistant(s, index=index)


REGISTER = Topic("Register", "Is there a national register of training providers?")


def test_cells_come_from_the_answer_step_filtered_to_the_country(small_bot: Any) -> None:
    m = compare(small_bot, [REGISTER], ["AM", "GE"])
    am, ge = m.rows[0].cells["AM"], m.rows[0].cells["GE"]
    assert am.status == ge.status == ADDRESSED
    assert "since 2020" in am.quotes[0].quote
    assert am.quotes[0].passage.doc_id == "am"
    assert "since 2019" in ge.quotes[0].quote
    assert ge.quotes[0].passage.doc_id == "ge"
    assert small_bot.settings.answer_threshold is None  # the chat's own threshold is untouched


def test_cli_prints_json_and_writes_the_downloads(
        small_bot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import assistant.answer
    from assistant.cli import main

    monkeypatch.setattr(assistant.answer, "Assistant", lambda settings: small_bot)
    md, docx = tmp_path / "out" / "t.md", tmp_path / "out" / "t.docx"
    code = main(["compare", "--topic", REGISTER.query, "--countries", "AM,GE", "--json",
                 "--markdown", str(md), "--docx", str(docx)])
    out = capsys.readouterr()
    assert code == 0, out.err
    d = json.loads(out.out)
    assert d["countries"] == ["AM", "GE"]
    assert [r["topic"] for r in d["rows"]] == [REGISTER.query]
    assert "Comparing" in out.err  # the progress bar
    assert "| Topic | Armenia | Georgia |" in md.read_text(encoding="utf-8")
    assert docx.stat().st_size > 1000
    assert main(["compare", "--topic", "x y z", "--countries", "AM,EU"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No document from the European Union (EU) is indexed")
    assert "run `assistant corpus fetch eu-rec`, then run `assistant ingest`" in err
    assert err.count("\n") == 1  # one line, no traceback


# -- evaluation ----------------------------------------------------------------------------------
def test_cell_accuracy_needs_the_status_and_a_fact(fake: FakeAssistant, tmp_path: Path) -> None:
    m = compare(fake, [TOPIC], ["AM", "GE"])
    am, ge = m.rows[0].cells["AM"], m.rows[0].cells["GE"]
    assert cell_right(am, GoldCell(ADDRESSED, (("legal framework",),), ())) == (True, True)
    assert cell_right(am, GoldCell(ADDRESSED, (("funding",),), ())) == (True, False)
    assert cell_right(ge, GoldCell(NOT_ADDRESSED, (), ())) == (True, True)
    assert cell_right(ge, GoldCell(ADDRESSED, (("awareness",),), ())) == (False, False)
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(json.dumps({"topic": "Main obstacles", "query": "challenges?",
                                     "split": "test", "cells": {
                                         "AM": {"status": ADDRESSED, "facts": [["legal"]],
                                                "quotes": [], "note": ""},
                                         "GE": {"status": ADDRESSED, "facts": [["awareness"]],
                                                "quotes": [], "note": ""}}}) + "\n")
    gold = load_gold(gold_file)
    met = score(gold, [m])["metrics"]
    assert met["cell_accuracy"] == 0.5
    assert met["wrong_country"] == 0
    assert met["unverified"] == 0
    gold_file.write_text('{"topic": "x", "query": "y", "split": "dev", "cells": {}}\n')
    with pytest.raises(InputError, match=r"gold.jsonl:1: split must be tune or test"):
        load_gold(gold_file)


# -- integration: the real model on the bundled reports -------------------------------------------
@pytest.mark.integration
def test_real_model_addresses_a_topic_both_reports_cover(real_assistant: Any) -> None:
    m = compare(real_assistant, [Topic("Main obstacles", "What are the main challenges in "
                                       "implementing micro-credentials?")], ["AM", "GE"])
    for country in ("AM", "GE"):
        cell = m.rows[0].cells[country]
        assert cell.status == ADDRESSED, (country, cell)
        assert 1 <= len(cell.quotes) <= 2
        assert all(q.passage.country == country and q.verified for q in cell.quotes)
        assert any("legal framework" in q.quote for q in cell.quotes), cell.quotes
    assert m.dropped == {"wrong_country": 0, "unverified": 0}


@pytest.mark.integration
def test_real_default_matrix_quotes_no_survey_question(real_assistant: Any) -> None:
    """A new-user trial saw a questionnaire question shown as Armenia's position on the NQF:
    no cell of the default matrix on the bundled reports quotes a survey question, an
    instruction to respondents or the appendix questionnaire."""
    from assistant.compare.cells import QUESTIONNAIRE

    m = compare(real_assistant, default_topics(real_assistant.settings), ["AM", "GE"])
    quotes = [q for r in m.rows for cell in r.cells.values() for q in cell.quotes]
    assert len(quotes) >= 12  # most default topics are addressed by at least one report
    for q in quotes:
        assert "?" not in q.quote, q.quote
        assert not re.match(r"\W*(please|you may select)\b", q.quote, re.I), q.quote
        assert not QUESTIONNAIRE.search(q.passage.section), q.passage.section
    assert m.dropped == {"wrong_country": 0, "unverified": 0}


def test_a_questionnaire_option_is_not_a_position() -> None:
    form = _passage("am2", "AM", "c. Not satisfied, there is little national interest.",
                    section="Appendix 1 › Questionnaire on the current practices › 4. Satisfied?")
    option = Citation(1, form, "c. Not satisfied, there is little national interest.")
    finding = Citation(2, AM, "Employers are rarely involved.")
    cell = cell_of(_answer([option, finding], [form, AM]), "AM")
    assert [q.quote for q in cell.quotes] == ["Employers are rarely involved."]


def test_a_cell_is_addressed_from_the_cell_threshold(fake: FakeAssistant) -> None:
    """A cell asks whether a country's documents address a topic: its best span needs the
    answer threshold less ``compare_threshold_margin``, not the chat's own threshold (the
    new-user trial's Georgian "Main obstacles" cell stated its obstacle below the chat's)."""
    fake.threshold = 0.55
    fake.settings = fake.settings.model_copy(update={"compare_threshold_margin": 0.3})
    fake.reads = {"AM": [(AM, "Employers are rarely involved.", 0.3)],
                  "GE": [(GE, "In Georgia the main challenge is low public awareness.", 0.2)]}
    m = compare(fake, [TOPIC], ["AM", "GE"])
    am, ge = m.rows[0].cells["AM"], m.rows[0].cells["GE"]
    assert (am.status, [q.quote for q in am.quotes]) == (ADDRESSED, ["Employers are rarely "
                                                                     "involved."])
    assert (ge.status, ge.quotes) == (NOT_ADDRESSED, ())
    assert [q.quote for q in ge.closest] == ["In Georgia the main challenge is low public "
                                             "awareness."]
    assert fake.settings.answer_threshold is None  # the chat's own threshold is untouched
    fake.settings = fake.settings.model_copy(update={"compare_threshold_margin": 0.0})
    assert compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"].status == NOT_ADDRESSED


QUESTION = ("Please indicate what are the main challenges for your institution for the "
            "implementation of micro-credentials?")


def test_a_survey_question_or_instruction_is_never_a_position(fake: FakeAssistant) -> None:
    """A report prints its survey's questions among the results (not only in the appendix):
    the best-scored span being one of them must not make it the country's position."""
    text = (f"{QUESTION} (you may select more than one answer)\nThe main challenge is the "
            "lack of an appropriate legal framework.\nPlease select one answer only.")
    p = _passage("ge2", "GE", text, section="III. Survey results › The main challenges")
    finding = "The main challenge is the lack of an appropriate legal framework."
    fake.reads["GE"] = [(p, QUESTION, 0.95), (p, "Please select one answer only.", 0.9),
                        (p, finding, 0.6)]
    cell = compare(fake, [TOPIC], ["GE"]).rows[0].cells["GE"]
    assert (cell.status, [q.quote for q in cell.quotes]) == (ADDRESSED, [finding])
    # When only the question reaches the bar, the cell is not addressed and does not show it.
    fake.reads["GE"] = [(p, QUESTION, 0.95), (p, finding, 0.1)]
    cell = compare(fake, [TOPIC], ["GE"]).rows[0].cells["GE"]
    assert cell.status == NOT_ADDRESSED
    assert [q.quote for q in cell.closest] == [finding]


def test_a_lead_in_alone_or_a_contents_line_is_not_a_position(fake: FakeAssistant) -> None:
    """A lead-in without its list ("...the following tendencies were revealed:") and a contents
    line with its dot leaders say nothing about the topic: the cell quotes the finding."""
    contents = "13 Diagram 2. Experience in implementing courses ..... 14 Diagram 3."
    lead_in = "The following tendencies were revealed:"
    finding = "Most institutions already run short courses."
    p = _passage("am4", "AM", f"{contents}\n{lead_in}\n\n{finding}", section="Findings")
    fake.reads["AM"] = [(p, contents, 0.9), (p, lead_in, 0.85), (p, finding, 0.6)]
    cell = compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"]
    assert [q.quote for q in cell.quotes] == [finding]


def test_a_second_quote_that_reaches_the_bar_and_does_not_overlap(fake: FakeAssistant) -> None:
    """A topic's facts are often two sentences apart: a second span is quoted when it reaches
    the cell threshold too and does not overlap the first."""
    first = "The main challenge is the lack of an appropriate legal framework."
    second = "Employers are rarely involved."
    fake.threshold = 0.5
    fake.settings = fake.settings.model_copy(update={"compare_threshold_margin": 0.2})
    fake.reads["AM"] = [(AM, first, 0.9), (AM, AM_TEXT, 0.8), (AM, second, 0.31)]
    cell = compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"]
    assert [q.quote for q in cell.quotes] == [first, second]  # the overlapping span is skipped
    fake.reads["AM"] = [(AM, first, 0.9), (AM, second, 0.29)]  # below 0.5 - 0.2
    cell = compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"]
    assert [q.quote for q in cell.quotes] == [first]


def test_the_closest_excerpt_is_a_statement_not_a_question() -> None:
    p = _passage("am3", "AM", "Are they expressed in ECTS credits?\nMost programmes do not carry "
                 "credits.")
    head = len("Are they expressed in ECTS credits?")
    sp = ScoredPassage(p, 1.0, sentences=((0, head, 0.95), (head + 1, len(p.text), 0.80)))
    a = Answer(question="q", text="t", citations=[], passages=[sp], abstained=True,
               mode="extractive")
    (closest,) = cell_of(a, "AM").closest
    assert closest.quote == "Most programmes do not carry credits."


def test_an_ampersand_reads_as_the_document_wrote_it_and_an_entity_stays_literal() -> None:
    """A trial read "QUALIFICATIONS FRAMEWORK &amp; ECTS" in the .md download: a plain "&"
    is left as is; only text that would start an entity is escaped, so it renders literally."""
    from markdown_it import MarkdownIt

    from assistant.text import escape_markdown

    assert escape_markdown("FRAMEWORK & ECTS") == "FRAMEWORK & ECTS"
    html = MarkdownIt().renderInline(escape_markdown("see &copy; and &#38;"))
    assert "&amp;copy;" in html  # shown as typed, not as ©
    assert "&amp;#38;" in html


def test_a_sentence_in_two_neighbouring_passages_is_quoted_once(fake: FakeAssistant) -> None:
    """Neighbouring chunks share their edges: a trial saw a cell quote one sentence twice
    ([12] = [13]). A second quote is another statement, not the same text again."""
    first = "The main challenge is the lack of an appropriate legal framework."
    other = "Employers are rarely involved."
    twin = _passage("am9", "AM", f"{first} {other}")
    fake.threshold = 0.5
    fake.settings = fake.settings.model_copy(update={"compare_threshold_margin": 0.2})
    fake.reads["AM"] = [(AM, first, 0.9), (twin, first, 0.85), (twin, other, 0.4)]
    cell = compare(fake, [TOPIC], ["AM"]).rows[0].cells["AM"]
    assert [q.quote for q in cell.quotes] == [first, other]
