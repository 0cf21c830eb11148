"""The evaluation harness: Q&A validation, metric arithmetic, thresholds, reports, the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_settings

from assistant.errors import InputError
from assistant.evaluation.html_report import render_html, write_html
from assistant.evaluation.metrics import (
    ItemResult,
    check_thresholds,
    compute_metrics,
    percentile,
    quote_overlaps,
)
from assistant.evaluation.qa import QAItem, Source, load_qa, select_split, validate_qa
from assistant.evaluation.run import build_report, default_sets, format_summary, run_items
from assistant.prompts import ABSTAIN_TEXT
from assistant.types import Answer, Citation, Passage, ScoredPassage

QA_FILE = REPO / "corpus" / "eval" / "known_qa.jsonl"


# -- a toy set and a stub assistant ------------------------------------------------------------
def passage(text: str, doc: str = "d1", pid: str = "") -> Passage:
    return Passage(id=pid or f"p{abs(hash((doc, text))) % 10**8}", doc_id=doc, title=doc, text=text)


def scored(ps: list[Passage]) -> list[ScoredPassage]:
    return [ScoredPassage(p, score=1.0 / r, rank=r) for r, p in enumerate(ps, 1)]


Q1 = "The survey obtained answers from fifty institutions across the country in 2024."
Q2 = "Micro-credentials in Georgia are worth between 1 and 20 ECTS credits each."
Q3 = "The working group met three times during the spring of the project year."
NOISE = passage("Nothing of interest is said in this paragraph about anything at all.")
OTHER = passage("Another unrelated paragraph on a different topic entirely, for padding.")

ITEMS = [
    QAItem("q1", "How many institutions answered?", "fifty", (("fifty", "50"), ("2024",)),
           (Source("d1", Q1),), True),
    QAItem("q2", "How many ECTS?", "1 to 20", (("1 and 20",), ("ECTS credit",)),
           (Source("d1", Q2),), True),
    QAItem("q3", "How often did the group meet?", "three times", (("three",),),
           (Source("d1", Q3),), True),
    QAItem("q4", "What is the budget?", "", (), (), False),
]


def toy_plan() -> dict[str, tuple[list[ScoredPassage], Answer]]:
    """Per question: what retrieval returns and what ask answers (see the expected figures)."""
    p1, p2 = passage("Intro. " + Q1 + " More."), passage(Q2 + " Tail.")
    # q1: relevant at rank 2; every fact; one good citation, one bad and unverified.
    a1 = Answer("q1", "Fifty institutions answered in 2024 [1].",
                [Citation(1, p1, Q1), Citation(2, NOISE, "a quote that is not there")],
                scored([NOISE, p1]), abstained=False, mode="extractive")
    # q2: relevant at rank 1; one fact of two; one good citation.
    a2 = Answer("q2", "They are worth between 1 and 20 units [1].", [Citation(1, p2, Q2)],
                scored([p2]), abstained=False, mode="extractive")
    # q3: nothing relevant retrieved; declined.
    a3 = Answer("q3", ABSTAIN_TEXT, [], scored([NOISE]), abstained=True, mode="extractive")
    # q4: unanswerable but answered, with a verified citation.
    a4 = Answer("q4", "Something about padding [1].", [Citation(1, OTHER, "a different topic")],
                scored([OTHER]), abstained=False, mode="extractive")
    return {
        "How many institutions answered?": (scored([NOISE, p1, OTHER]), a1),
        "How many ECTS?": (scored([p2, NOISE]), a2),
        "How often did the group meet?": (scored([NOISE, OTHER]), a3),
        "What is the budget?": (scored([OTHER]), a4),
    }


@dataclass
class StubRetriever:
    plan: dict[str, tuple[list[ScoredPassage], Answer]]
    calls: list[tuple[str, int | None]] = field(default_factory=list)

    def retrieve(self, query: str, filters: Any = None, k: int | None = None) -> Any:
        self.calls.append((query, k))
        return self.plan[query][0]


class StubIndex:
    def count(self) -> int:
        return 1

    def fingerprint(self) -> str:
        return "stub-fingerprint"


class StubAssistant:
    """Answers from a plan; records every ask."""

    def __init__(self, plan: dict[str, tuple[list[ScoredPassage], Answer]]) -> None:
        self.plan = plan
        self.retriever = StubRetriever(plan)
        self.index = StubIndex()
        self.asked: list[str] = []

    def ask(self, question: str, history: Any = None, filters: Any = None,
            mode: str | None = None, k: int | None = None) -> Answer:
        self.asked.append(question)
        return self.plan[question][1]


@pytest.fixture
def toy_results() -> list[ItemResult]:
    return run_items(ITEMS, StubAssistant(toy_plan()), mode="extractive", k=6)


# -- metric arithmetic -------------------------------------------------------------------------
def test_run_items_warms_up_and_retrieves_at_least_five() -> None:
    stub = StubAssistant(toy_plan())
    results = run_items(ITEMS, stub, k=3)
    assert stub.asked[0] == stub.asked[1] == ITEMS[0].question  # untimed warm-up, then q1
    assert len(stub.asked) == len(ITEMS) + 1
    assert all(k == 5 for _, k in stub.retriever.calls)
    assert all(r.ms >= 0 for r in results)


def test_retrieval_metrics(toy_results: list[ItemResult]) -> None:
    m = compute_metrics(toy_results)["retrieval"]
    assert [r.hit_rank for r in toy_results] == [2, 1, None, None]
    assert m["hit_at_1"] == pytest.approx(1 / 3)
    assert m["hit_at_5"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["context_recall"] == pytest.approx(2 / 3)
    assert m["n"] == 3


def test_answer_metrics(toy_results: list[ItemResult]) -> None:
    m = compute_metrics(toy_results)["answer"]
    assert [r.fact_recall for r in toy_results[:3]] == [1.0, 0.5, 0.0]
    assert toy_results[1].missed_facts() == [["ECTS credit"]]
    assert m["fact_recall"] == pytest.approx(0.5)
    assert m["exact_all_facts"] == pytest.approx(1 / 3)


def test_citation_metrics(toy_results: list[ItemResult]) -> None:
    m = compute_metrics(toy_results)["citations"]
    # Answered answerable items cite 3 passages, 2 of them relevant.
    assert m["precision"] == pytest.approx(2 / 3)
    # All answered items: 4 quotes, one not found in its passage.
    assert m["quote_verified"] == pytest.approx(3 / 4)
    assert m["n"] == 4


def test_citation_precision_counts_a_quote_that_states_a_fact() -> None:
    item = ITEMS[2]
    elsewhere = passage("They met three times in spring.", doc="d2")
    ans = Answer("q", "three [1]", [Citation(1, elsewhere, "They met three times")], [],
                 abstained=False, mode="llm")
    result = ItemResult(item, [], ans, 1.0)
    assert compute_metrics([result])["citations"]["precision"] == 1.0


def test_abstention_metrics(toy_results: list[ItemResult]) -> None:
    m = compute_metrics(toy_results)["abstention"]
    assert [r.correct for r in toy_results] == [True, True, False, False]
    assert m["accuracy"] == pytest.approx(2 / 4)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert m["false_answer_rate"] == pytest.approx(1.0)
    assert (m["n_answerable"], m["n_unanswerable"], m["n_answered"]) == (3, 1, 3)


def test_nothing_answered_gives_zero_precision() -> None:
    a = Answer("q", ABSTAIN_TEXT, [], [], abstained=True, mode="extractive")
    m = compute_metrics([ItemResult(ITEMS[3], [], a, 5.0)])
    assert m["abstention"]["accuracy"] == 1.0
    assert m["abstention"]["precision"] == 0.0
    assert m["abstention"]["false_answer_rate"] == 0.0


def test_latency_percentiles() -> None:
    assert percentile([10, 20, 30, 40, 50], 50) == 30
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48)
    assert percentile([], 50) == 0.0


def test_relevance_counts_a_quote_straddling_two_chunks() -> None:
    quote = Q1 + " " + Q2
    src = Source("d1", quote)
    assert quote_overlaps(passage("Before. " + Q1), src)  # the first 79 characters
    assert quote_overlaps(passage(Q2 + " After."), src)
    assert not quote_overlaps(passage(Q1, doc="d2"), src)  # same words, other document
    assert not quote_overlaps(passage("The survey obtained answers from many."), src)


def test_facts_ignore_case_and_whitespace() -> None:
    item = QAItem("x", "q", "", (("May  22", "22 May"),), (Source("d1", Q1),), True)
    ans = Answer("q", "from may\n22nd", [], [], abstained=False, mode="extractive")
    assert ItemResult(item, [], ans, 1.0).fact_recall == 1.0


# -- validation --------------------------------------------------------------------------------
DOC = "Intro. The survey ran from **May 22<sup>nd</sup>** to “June 22nd”, 2024. End."


def row(**kw: Any) -> str:
    base: dict[str, Any] = {"id": "a", "question": "When?", "answer": "May",
                            "facts": [["May 22"]],
                            "sources": [{"doc": "d1", "quote": "from May 22nd to \"June 22nd\""}],
                            "answerable": True}
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def doc_text(doc_id: str) -> str:
    from assistant.text import normalize

    return normalize(DOC)


ALIASES = {"d1": "d1", "one": "d1"}


def test_validator_accepts_markup_and_aliases() -> None:
    items = validate_qa([row(), "", row(id="b", sources=[{"doc": "one", "quote": "May 22nd"}])],
                        ALIASES, doc_text)
    assert [i.id for i in items] == ["a", "b"]
    assert items[1].sources[0].doc == "d1"
    assert items[1].line == 3


def test_validator_reports_every_problem_with_its_line() -> None:
    lines = [
        row(),
        row(id="bad-quote", sources=[{"doc": "d1", "quote": "from June 1st"}]),
        row(),  # duplicate id "a"
        row(id="no-answerable", answerable=...),
        row(id="unknown-doc", sources=[{"doc": "nowhere", "quote": "May"}]),
        "{not json",
        row(id="extra", colour="x"),
        row(id="types", facts="May", answerable="yes"),
    ]
    with pytest.raises(InputError) as exc:
        validate_qa(lines, ALIASES, doc_text)
    msg = str(exc.value)
    assert "line 2: quote not found in d1" in msg
    assert "line 3: duplicate id 'a' (first on line 1)" in msg
    assert "line 4: missing field(s) answerable" in msg
    assert "line 5: unknown document 'nowhere'" in msg
    assert "line 6: not valid JSON" in msg
    assert "line 7: unexpected field(s) colour" in msg
    assert "line 8: answerable must be true or false" in msg
    assert "line 8: facts must be a list" in msg
    assert "line 1:" not in msg


def test_validator_checks_answerable_consistency() -> None:
    with pytest.raises(InputError, match="line 1: an unanswerable item needs"):
        validate_qa([row(answerable=False)], ALIASES, doc_text)


def test_load_qa_against_the_corpus_with_an_alias(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    lines = QA_FILE.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[2])  # am-003: its quote is bold in the document
    first["sources"][0]["doc"] = "armenia"
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(first) + "\n" + lines[0] + "\n", encoding="utf-8")
    items = load_qa(qa, settings)
    assert [i.id for i in items] == ["am-003", "am-001"]
    assert items[0].sources[0].doc == "d11-armenia"

    first["sources"][0]["quote"] = "available from May 23rd"
    qa.write_text(lines[0] + "\n" + json.dumps(first) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: quote not found in d11-armenia"):
        load_qa(qa, settings)


def test_load_qa_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--qa FILE"):
        load_qa(tmp_path / "nope.jsonl", make_settings(tmp_path, copy_corpus=False))


def test_the_bundled_set_is_valid(tmp_path: Path) -> None:
    items = load_qa(QA_FILE, make_settings(tmp_path))
    assert len(items) == 100
    assert sum(i.answerable for i in items) >= 80


def test_the_tuning_file_is_a_default_set_and_holds_tune_items_only(tmp_path: Path) -> None:
    s = make_settings(tmp_path / "own")
    (s.corpus_path / "eval").mkdir()
    for name in ("known_qa.jsonl", "tune_qa.jsonl"):
        (s.corpus_path / "eval" / name).write_text("", encoding="utf-8")
    assert [p.name for p in default_sets(s)] == ["known_qa.jsonl", "tune_qa.jsonl"]
    items = load_qa(REPO / "corpus" / "eval" / "tune_qa.jsonl", make_settings(tmp_path))
    assert len(items) >= 150
    assert {i.split for i in items} == {"tune"}
    assert select_split(items, "test") == []  # the test part of the default sets is unchanged


# -- thresholds and the CLI --------------------------------------------------------------------
def test_thresholds_messages(toy_results: list[ItemResult]) -> None:
    m = compute_metrics(toy_results)
    missed = check_thresholds(m, {"min_hit_at_5": 0.95, "min_mrr": 0.1,
                                  "max_false_answer_rate": 0.1, "min_fact_recall": None})
    assert missed == [
        "hit@5 = 0.667 is below the minimum 0.950 (--min-hit-at-5)",
        "false answers = 1.000 is above the maximum 0.100 (--max-false-answer-rate)",
    ]


def _cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    s = make_settings(tmp_path)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(s.corpus_path))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(s.index_path))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(s.data_path))
    lines = QA_FILE.read_text(encoding="utf-8").splitlines()
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(lines[:3] + [lines[-1]]) + "\n", encoding="utf-8")
    return qa


def _cli_plan(qa: Path, abstain: bool) -> dict[str, tuple[list[ScoredPassage], Answer]]:
    plan = {}
    for line in qa.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        ps = [passage(s["quote"], doc=s["doc"]) for s in d["sources"]] or [NOISE]
        text = ABSTAIN_TEXT if abstain or not d["answerable"] else d["answer"]
        cites = [] if abstain or not d["answerable"] else [Citation(1, ps[0], ps[0].text)]
        done = abstain or not d["answerable"]
        plan[d["question"]] = (scored(ps), Answer(d["question"], text, cites, scored(ps),
                                                   abstained=done, mode="extractive"))
    return plan


def test_cli_thresholds_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import assistant.answer
    from assistant.cli import main

    qa = _cli_env(tmp_path, monkeypatch)
    monkeypatch.setattr(assistant.answer, "Assistant", lambda s: StubAssistant(_cli_plan(qa, True)))
    code = main(["eval", "--qa", str(qa), "--min-fact-recall", "0.9", "--min-hit-at-5", "0.5"])
    out = capsys.readouterr().out
    assert code == 1
    assert "threshold missed: fact recall = 0.000 is below the minimum 0.900 (--min-fact-recall)" \
        in out
    assert "hit@5" in out
    assert "--min-hit-at-5" not in out

    monkeypatch.setattr(assistant.answer, "Assistant",
                        lambda s: StubAssistant(_cli_plan(qa, False)))
    out_json = tmp_path / "r.json"
    code = main(["eval", "--qa", str(qa), "--min-fact-recall", "0.9", "--min-quote-verified", "1",
                 "--max-false-answer-rate", "0", "--json", str(out_json), "--limit", "3"])
    assert code == 0, capsys.readouterr().out
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["meta"]["n_items"] == 3
    assert report["answer"]["fact_recall"] == 1.0
    assert report["meta"]["corpus_fingerprint"] == "stub-fingerprint"


def test_summary_shows_baseline_and_gap(toy_results: list[ItemResult]) -> None:
    worse = [ItemResult(r.item, [], Answer(r.item.question, "x", [], [], False, "naive"), 1.0)
             for r in toy_results]
    report = build_report(toy_results, {"mode": "extractive", "k": 6, "n_items": 4}, worse, {})
    text = format_summary(report)
    header = text.splitlines()[1]
    assert "ours" in header
    assert "naive" in header
    assert "gap" in header
    hit1 = next(line for line in text.splitlines() if line.startswith("hit@1"))
    assert "33%" in hit1
    assert "0%" in hit1
    assert "+33 pts" in hit1


# -- the HTML report ---------------------------------------------------------------------------
def test_html_report_escapes_and_lists_failures_first(toy_results: list[ItemResult],
                                                      tmp_path: Path) -> None:
    r0 = toy_results[0]
    evil = Answer(r0.answer.question, "<script>alert('x')</script> fifty 2024",
                  r0.answer.citations, r0.answer.passages, False, "extractive")
    results = [ItemResult(r0.item, r0.ranked, evil, r0.ms), *toy_results[1:]]
    report = build_report(results, {"qa_file": "<b>qa</b>", "n_items": 4}, toy_results, {})
    path = tmp_path / "out" / "report.html"
    write_html(report, path)
    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;qa&lt;/b&gt;" in page
    assert page.count("<table") >= 3
    assert "<svg" in page
    assert "Answers that contain every expected fact" in page
    # q3 and q4 failed: they are listed before q1 and q2.
    assert page.index("How often did the group meet?") < page.index("How many ECTS?")
    assert page.index("What is the budget?") < page.index("How many institutions answered?")
    assert "fail" in page
    assert "pass" in page


def test_html_without_baseline_has_no_baseline_column(toy_results: list[ItemResult]) -> None:
    page = render_html(build_report(toy_results, {}))
    assert "Naive baseline" not in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # no external assets


# -- end to end --------------------------------------------------------------------------------
@pytest.mark.integration
def test_eval_cli_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             real_embeddings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    s = make_settings(tmp_path)
    assert ingest(s, index=Index(s, embeddings=real_embeddings)).ok
    for key, value in (("CORPUS_DIR", s.corpus_path), ("INDEX_DIR", s.index_path),
                       ("DATA_DIR", s.data_path), ("COLLECTION", s.collection)):
        monkeypatch.setenv(f"ASSISTANT_{key}", str(value))
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    code = main(["eval", "--qa", str(QA_FILE), "--limit", "6", "--json", str(out_json),
                 "--report", str(out_html), "--baseline", "naive"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out_json.is_file()
    assert out_html.is_file()
    report = json.loads(out_json.read_text(encoding="utf-8"))
    for group in ("retrieval", "answer", "citations", "abstention", "latency"):
        assert group in report
        assert group in report["baseline"]
    assert len(report["items"]) == report["meta"]["n_items"] == 6
    assert report["meta"]["qa_counts"] == {str(QA_FILE): 6}
    assert report["meta"]["qa_files"] == [str(QA_FILE)]
    assert 0.0 <= report["retrieval"]["mrr"] <= 1.0
    assert report["citations"]["quote_verified"] == 1.0  # extractive quotes are verbatim
    assert report["baseline"]["abstention"]["false_abstention_rate"] == 0.0  # never abstains
    assert "naive" in out
    assert "Naive baseline" in out_html.read_text(encoding="utf-8")


def test_optional_fields_categories_and_parts() -> None:
    from assistant.evaluation.qa import select_split

    lines = [
        row(id="t1", category="paraphrase", split="tune"),
        row(id="t2", category="follow_up", split="test", history=[["Earlier?", "Yes."]],
            lang="en"),
        row(id="t3"),
    ]
    items = validate_qa(lines, ALIASES, doc_text)
    assert [i.category for i in items] == ["paraphrase", "follow_up", "known"]
    assert items[1].history == (("Earlier?", "Yes."),)
    assert [i.id for i in select_split(items, "test")] == ["t2", "t3"]
    assert [i.id for i in select_split(items, "tune")] == ["t1", "t3"]
    # Issue 16: a tester's own category is reported as given; history may be plain earlier
    # questions. Neither may be empty or of another type.
    with pytest.raises(InputError, match="category must be a non-empty string"):
        validate_qa([row(category="")], ALIASES, doc_text)
    with pytest.raises(InputError, match="history must be"):
        validate_qa([row(history=[42])], ALIASES, doc_text)


def test_report_has_one_block_per_category() -> None:
    from assistant.evaluation.run import format_categories

    items = validate_qa([row(id="p", category="paraphrase"),
                         row(id="n", category="near_miss", answerable=False, answer="",
                             facts=[], sources=[])], ALIASES, doc_text)
    answered = Answer("q", "It ran from May 2nd.", [], [], abstained=False, mode="extractive")
    results = [ItemResult(items[0], [], answered, 1.0), ItemResult(items[1], [], answered, 1.0)]
    report = build_report(results, {})
    assert set(report["categories"]) == {"paraphrase", "near_miss"}
    # The near-miss item was answered: a false answer in its own row, not hidden in the total.
    assert report["categories"]["near_miss"]["abstention"]["false_answer_rate"] == 1.0
    table = format_categories(report)
    near = next(line for line in table.splitlines() if line.startswith("near_miss"))
    assert near.split()[-3] == "1.00"  # false answers (then: none on answerable, accuracy)


# -- the regression gates print their margins and distances (issue 18) -------------------------
def test_draft_gate_shows_margin_and_distance_and_fails_below() -> None:
    from assistant.evaluation.drafts import gate

    shown, missed = gate({"planted_error_recall": 0.95, "false_flag_rate": 0.04}, 0.92, 0.06)
    assert missed == []
    assert "margin +0.030" in shown[0]
    assert "distance +0.050" in shown[0]
    assert "margin +0.020" in shown[1]
    assert "distance -0.060" in shown[1]
    _, missed = gate({"planted_error_recall": 0.89, "false_flag_rate": 0.07}, 0.92, 0.06)
    assert missed == [
        "drafts planted-error recall = 0.890 is below the minimum 0.920 (--min-planted-recall)",
        "drafts false flags on true = 0.070 is above the maximum 0.060 (--max-false-flags)"]


def test_qa_gate_lines_show_margin_and_distance() -> None:
    from assistant.evaluation.metrics import gate_lines

    metrics = {"retrieval": {"hit_at_5": 0.71}}
    lines = gate_lines(metrics, {"min_hit_at_5": 0.67})
    assert len(lines) == 1
    assert "gate >=" in lines[0]
    assert "target >=" in lines[0]
    assert "distance" in lines[0]



# -- issue 16: a tester's own file, outcomes, evidence recall, the threshold curve ----------------
def test_a_testers_file_with_its_own_category_and_plain_history(tmp_path: Path) -> None:
    lines = [
        row(id="c1", category="my_odd_kind", history=["What ran in May?", "And after?"]),
        row(id="c2", category="yes_no"),
    ]
    items = validate_qa(lines, ALIASES, doc_text)
    assert [i.category for i in items] == ["my_odd_kind", "yes_no"]
    assert items[0].history == (("What ran in May?", ""), ("And after?", ""))

    seen: list[Any] = []

    class HistoryStub(StubAssistant):
        def ask(self, question: str, history: Any = None, filters: Any = None,
                mode: str | None = None, k: int | None = None) -> Answer:
            seen.append(history)
            return Answer(question, "It ran from May 2nd.", [], [], abstained=False,
                          mode="extractive")

    stub = HistoryStub({q: (scored([NOISE]), None) for q in {i.question for i in items}})
    results = run_items(items, stub)
    assert [("What ran in May?", ""), ("And after?", "")] in seen
    report = build_report(results, {})
    assert set(report["categories"]) == {"my_odd_kind", "yes_no"}
    from assistant.evaluation.run import format_categories

    assert "my_odd_kind" in format_categories(report)


def test_evidence_recall_counts_the_closest_passage_of_an_evidence_outcome() -> None:
    item = QAItem("e", "How many institutions answered?", "fifty", (("fifty",), ("2024",)),
                  (Source("d1", Q1),), True)
    p1 = passage(Q1)
    evidence = Answer("q", "The documents discuss this subject…", [], scored([p1, NOISE]),
                      abstained=True, mode="extractive", outcome="evidence")
    none = Answer("q", ABSTAIN_TEXT, [], scored([p1]), abstained=True, mode="extractive")
    assert none.outcome == "none"
    r_ev, r_none = ItemResult(item, [], evidence, 1.0), ItemResult(item, [], none, 1.0)
    assert r_ev.evidence_recall == 1.0
    assert r_ev.fact_recall == 0.0
    assert r_none.evidence_recall == 0.0
    m = compute_metrics([r_ev, r_none])
    assert m["answer"]["evidence_recall"] == 0.5
    assert m["outcomes"]["evidence"] == 0.5
    assert m["outcomes"]["none_on_answerable"] == 0.5


def test_pr_curve_marks_the_threshold_and_counts_best_spans(tmp_path: Path) -> None:
    right = QAItem("r", "q1", "fifty", (("fifty",),), (Source("d1", Q1),), True)
    wrong = QAItem("w", "q2", "", (), (), False)
    a1 = Answer("q1", "x", [], [], abstained=True, mode="extractive", outcome="evidence",
                probability=0.4, audit={"best_quote": "fifty institutions answered"})
    a2 = Answer("q2", "y", [], [], abstained=False, mode="extractive", probability=0.7,
                audit={"best_quote": "something else"})
    report = build_report([ItemResult(right, [], a1, 1.0), ItemResult(wrong, [], a2, 1.0)],
                          {"threshold": 0.5})
    curve = report["pr_curve"]
    assert curve["threshold"] == 0.5
    at = {p["threshold"]: p for p in curve["points"]}
    assert at[0.3]["answered"] == 2
    assert at[0.3]["recall"] == 1.0
    assert at[0.3]["precision"] == 0.5
    assert at[0.6]["answered"] == 1
    assert at[0.6]["false_answers"] == 1
    assert at[0.6]["recall"] == 0
    html_text = render_html(report)
    assert "chosen 0.50" in html_text
    assert "<polyline" in html_text


def test_html_reports_each_category_and_the_sets_run(toy_results: list[ItemResult]) -> None:
    # A tester's trial: the terminal printed a row per category, the HTML report had none, and
    # its "Q&A set" row was empty (the run records `qa_files`, a list).
    from assistant.evaluation.metrics import category_rows

    report = build_report(toy_results, {"qa_files": ["corpus/eval/known_qa.jsonl",
                                                     "my <own> set.jsonl"], "split": "test"})
    page = render_html(report)
    assert "<h2>By category</h2>" in page
    rows = category_rows(report)
    assert len(rows) >= 2
    for row in rows[1:]:
        assert f"<td>{row[0]}</td>" in page
        assert all(f'<td class="num">{v}</td>' in page for v in row[2:])
    assert "corpus/eval/known_qa.jsonl; my &lt;own&gt; set.jsonl" in page
    # a second trial: "tune_qa.jsonl" named in a test-part report; a file is named with how
    # many questions it gave
    counted_page = render_html(build_report(toy_results, {
        "qa_files": ["known_qa.jsonl"], "qa_counts": {"known_qa.jsonl": 50}, "split": "test"}))
    assert "known_qa.jsonl (50)" in counted_page
    # an evidence outcome is not "declined": it shows a passage
    assert "declined, although" not in page
    assert "<td>Part</td><td>test</td>" in page
    # the question table scrolls inside the page instead of widening it
    assert '<div class="wide"><table>' in page
