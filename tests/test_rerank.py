"""The learned ranker: its features, its model file, and the order it gives the candidates.

Unit tests run on hand-made candidates and a bag-of-words fake embedding; the integration test
uses the real model on the bundled corpus and the shipped model file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import two_reports

from assistant.errors import ConfigError
from assistant.evaluation.metrics import is_relevant
from assistant.evaluation.qa import Source
from assistant.retrieve.hybrid import HybridRetriever
from assistant.retrieve.rerank import (
    FEATURES,
    MODEL_PATH,
    Candidate,
    Ranker,
    asks,
    feature_rows,
    load_ranker,
)
from assistant.types import Passage


def candidate(text: str, country: str = "AM", rank: int = 1, section: str = "",
              doc_type: str = "report", focus: str = "") -> Candidate:
    p = Passage(id=f"p{rank}", doc_id=f"d-{country}", title="Report", text=text, section=section,
                country=country, doc_type=doc_type)
    return Candidate(passage=p, rank=rank, fused=1.0 / rank, dense=0.5, sentence=0.6,
                     bm25=2.0 / rank, passage_terms=0.5, sentence_terms=0.4, title_terms=0.0,
                     focus=focus or text)


def row(matrix, i: int) -> dict[str, float]:  # noqa: ANN001
    return dict(zip(FEATURES, matrix[i].tolist(), strict=True))


def test_question_kinds() -> None:
    assert asks("How many institutions responded?") == {"number"}
    assert "date" in asks("When was the questionnaire open?")
    assert "person" in asks("Who coordinates the project?")
    assert "list" in asks("What are the main challenges?")
    assert asks("Why do employers value short courses?") == frozenset()


def test_features_of_hand_made_candidates() -> None:
    cands = [
        candidate("The survey was answered by 50 institutions.", "AM", 1),
        candidate("The following challenges were named:\n- legislation\n- demand", "GE", 2,
                  doc_type="law"),
        candidate("In 2024 the survey was repeated.", "AM", 3),
    ]
    m = feature_rows("How many institutions in Armenia answered the survey?", cands,
                     no_terms=False)
    assert m.shape == (3, len(FEATURES))
    first, second, third = row(m, 0), row(m, 1), row(m, 2)
    assert first["number_match"] == 1.0  # a figure where a number is asked
    assert third["number_match"] == 0.0  # a year is not a count
    assert first["country_match"] == 1.0
    assert first["country_other"] == 0.0
    assert second["country_match"] == 0.0
    assert second["country_other"] == 1.0
    assert second["lead_in_list"] == 1.0
    assert first["lead_in_list"] == 0.0
    assert second["type_law"] == 1.0
    assert first["type_report"] == 1.0
    assert first["fused"] == 1.0
    assert second["fused"] == 0.5
    assert first["fused_rank"] == 1.0
    assert third["fused_rank"] == pytest.approx(1 / 3)
    assert first["bm25"] == 1.0
    assert second["bm25"] == 0.5
    assert first["dense_gap"] == 0.0


def test_list_question_matches_a_lead_in_with_its_items() -> None:
    cands = [candidate("Challenges:\n1. legislation\n2. demand"), candidate("No list here.")]
    m = feature_rows("What are the challenges?", cands, no_terms=False)
    assert row(m, 0)["list_match"] == 1.0
    assert row(m, 1)["list_match"] == 0.0


def test_lead_in_block_and_other_language_features() -> None:
    c = Candidate(passage=candidate("Challenges:\n1. legislation").passage, rank=1, fused=1.0,
                  dense=0.5, sentence=0.6, bm25=1.0, passage_terms=0.0, sentence_terms=0.0,
                  title_terms=0.0, focus="Challenges:", sentence_top3=0.4, lead_in_sim=0.7)
    en = row(feature_rows("What are the challenges?", [c], no_terms=False), 0)
    assert en["sentence_top3"] == 0.4
    assert en["lead_in_sim"] == 0.7
    assert en["list_lead_in_sim"] == 0.7  # a list is asked
    assert en["other_language_dense"] == en["other_language_sentence"] == 0.0
    why = row(feature_rows("Why was it hard?", [c], no_terms=False), 0)
    assert why["list_lead_in_sim"] == 0.0  # no list asked
    ru = row(feature_rows("Какие проблемы назвали?", [c], no_terms=True), 0)
    assert ru["other_language_dense"] == 0.5
    assert ru["other_language_sentence"] == 0.6


def test_the_first_stage_measures_lead_ins_and_the_best_sentences(tmp_path: Path,
                                                                  bow_embeddings) -> None:  # noqa: ANN001
    alpha = ("# Alpha report\n## Challenges\nThe challenges of the universities were:\n\n"
             "- legislation of the universities\n- demand of employers\n")
    beta = "# Beta report\n## Survey\nThe universities named no challenges in the survey.\n"
    s, index = two_reports(tmp_path, alpha, beta, bow_embeddings)
    first = HybridRetriever(index, s).first_stage("What were the challenges of universities?")
    cands = first.candidates(10)
    lead_in = [c for c in cands if "were:" in c.passage.text]
    assert lead_in
    assert all(c.lead_in_sim > 0.0 for c in lead_in)
    assert all(c.lead_in_sim == 0.0 for c in cands if ":" not in c.passage.text)
    for c in cands:
        assert c.sentence_top3 <= c.sentence + 1e-9
    assert any(c.sentence_top3 > 0.0 for c in lead_in)


def model(coef: dict[str, float], features: tuple[str, ...] = FEATURES) -> dict[str, object]:
    return {"features": list(features), "mean": [0.0] * len(features),
            "scale": [1.0] * len(features), "coef": [coef.get(f, 0.0) for f in features],
            "intercept": 0.0}


def test_ranker_is_a_probability_that_follows_its_coefficients() -> None:
    cands = [candidate("The survey was repeated.", "GE", 1),
             candidate("The survey was answered by 50 institutions.", "AM", 2)]
    rows = feature_rows("How many institutions in Armenia answered?", cands, no_terms=False)
    p = Ranker(model({"country_match": 3.0, "country_other": -3.0})).relevance(rows)
    assert 0.0 < p[0] < 0.5 < p[1] < 1.0


def test_a_model_trained_on_other_features_says_how_to_retrain(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(model({}, FEATURES[:-1] + ("old_feature",))), encoding="utf-8")
    with pytest.raises(ConfigError, match="old_feature") as err:
        load_ranker(path)
    assert "scripts/train_ranker.py" in str(err.value)
    with pytest.raises(ConfigError, match="train_ranker"):
        load_ranker(tmp_path / "missing.json")


def test_the_shipped_model_matches_the_code_and_records_its_training() -> None:
    info = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert tuple(info["features"]) == FEATURES
    assert info["tune_questions"] > 0
    assert info["rows"] > info["tune_questions"]
    assert info["trained"][:2] == "20"
    load_ranker()  # loads without error


# A synthetic corpus: the Beta passage answers, but the Alpha one repeats the question's words.
ALPHA = """# Alpha report
## Survey
Universities answered the survey: the survey was answered by universities, and universities
answered the survey again.
"""
BETA = """# Beta report
## Survey
In total 17 institutions replied.
"""


@pytest.fixture
def retriever(tmp_path: Path, bow_embeddings) -> HybridRetriever:  # noqa: ANN001
    s, index = two_reports(tmp_path, ALPHA, BETA, bow_embeddings)
    return HybridRetriever(index, s)


QUESTION = "How many universities answered the survey in Georgia?"


def test_the_learned_model_moves_the_right_passage_up(retriever: HybridRetriever) -> None:
    retriever.settings = retriever.settings.model_copy(update={"rerank_depth": 0})
    before = retriever.retrieve(QUESTION, k=3)
    assert before[0].passage.doc_id == "alpha"  # the words match; the answer is in beta
    assert all(sp.relevance is None for sp in before)

    retriever.settings = retriever.settings.model_copy(update={"rerank_depth": 40})
    retriever.ranker = Ranker(model({"country_match": 2.0, "number_match": 2.0,
                                     "country_other": -2.0}))
    after = retriever.retrieve(QUESTION, k=3)
    assert after[0].passage.doc_id == "beta"
    assert "17 institutions" in after[0].passage.text
    relevance = [sp.relevance for sp in after]
    assert None not in relevance
    assert relevance == sorted(relevance, reverse=True)  # type: ignore[type-var]
    assert all(sp.relevance < 0.5 for sp in after if sp.passage.doc_id == "alpha")  # type: ignore[operator]
    assert after[0].rank == 1
    assert after[0].to_dict()["relevance"] == round(after[0].relevance, 4)  # type: ignore[arg-type]


# -- the real model ------------------------------------------------------------------------------
# A tune question (corpus/eval/known_qa.jsonl, am-001) that paraphrases its passage ("institutions
# responded" for "Response ... was obtained from 50 respondents"); the fused order ranks it 4th.
# No item of the tune part's `paraphrase` category moves to first: see docs/evaluation.md.
PARAPHRASE = "How many institutions responded to the micro-credentials survey in Armenia?"
PARAPHRASE_QUOTE = Source("d11-armenia", "Response in the survey was obtained from 50 respondents")


@pytest.mark.integration
@pytest.mark.xfail(strict=True, reason="issue 16 known gap (branch issue-16-learn): the ranker "
                   "retrained on the 203 tune questions no longer puts this passage first; see "
                   "docs/known-gaps.md")
def test_real_rerank_puts_a_paraphrased_question_s_passage_first(real_assistant) -> None:  # noqa: ANN001
    retriever = real_assistant.retriever
    wide = retriever.settings.model_copy(update={"rerank_depth": 0})
    plain = HybridRetriever(retriever.index, wide)
    before = [is_relevant(sp.passage, [PARAPHRASE_QUOTE]) for sp in plain.retrieve(PARAPHRASE)]
    after = retriever.retrieve(PARAPHRASE)
    assert True in before
    assert before.index(True) > 0
    assert is_relevant(after[0].passage, [PARAPHRASE_QUOTE])
    assert after[0].relevance is not None
    assert after[0].relevance > after[1].relevance
