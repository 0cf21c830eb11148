"""scripts/train_ranker.py's doc2query option, on fakes: the questions the local model wrote per
passage are extra training groups, in every training fold and never scored."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO

from assistant.types import Passage

sys.path.insert(0, str(REPO))
from scripts import doc2query, train_ranker  # noqa: E402
from scripts.train_ranker import DOC2QUERY, Group  # noqa: E402

D2Q_CONFIG = "lr, tune + doc2query at weight 0.5"


def group(qid: str, synthetic: bool = False, category: str = "known") -> Group:
    rows = np.zeros((3, len(train_ranker.FEATURES)))
    rows[:, 1] = [1.0, 0.5, 1 / 3]  # fused_rank: the first stage's order
    return Group(qid, f"question {qid}?", rows, np.array([0, 1, 0]), synthetic, category)


class FakeModel:
    def predict_proba(self, x: Any) -> Any:
        return np.column_stack([1 - x[:, 1], x[:, 1]])


def test_doc2query_groups_train_every_fold_and_are_never_scored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tune = [group(f"q{i:02d}", category=("known", "paraphrase")[i % 2]) for i in range(12)]
    d2q = [group(f"d2q-{i}", True, DOC2QUERY) for i in range(4)]
    rule_made = [group("syn-1", True)]
    fits: list[tuple[set[str], float]] = []
    scored: list[str] = []

    def fake_fit(kind: str, groups: Any, features: Any, weight: float) -> FakeModel:
        fits.append(({g.qid for g in groups}, weight))
        return FakeModel()

    def fake_scores(model: FakeModel, g: Group, features: Any) -> Any:
        scored.append(g.qid)
        return model.predict_proba(g.rows)[:, 1]

    monkeypatch.setattr(train_ranker, "fit", fake_fit)
    monkeypatch.setattr(train_ranker, "scores", fake_scores)
    overall, per_cat = train_ranker.cross_validate(tune + d2q + rule_made, folds=3,
                                                   configs=[D2Q_CONFIG])
    assert len(fits) == 3
    d2q_ids = {g.qid for g in d2q}
    for trained, weight in fits:
        assert d2q_ids <= trained
        assert "syn-1" not in trained  # the rule-made questions are another configuration's
        assert weight == 0.5
    assert sorted(scored) == sorted(g.qid for g in tune)  # each tune question once, nothing else
    for k, (trained, _) in enumerate(fits):  # a fold's questions are scored after its fit
        assert not trained & set(scored[4 * k:4 * k + 4])
    assert overall[D2Q_CONFIG]["hit@1"] == 0.0  # the fake keeps the first-stage order
    assert set(per_cat[D2Q_CONFIG]) == {"known", "paraphrase"}


def test_folds_hold_out_tune_questions_only() -> None:
    tune = [group(f"q{i}") for i in range(10)]
    d2q = [group(f"d2q-{i}", True, DOC2QUERY) for i in range(3)]
    cfg = train_ranker.CONFIGS[D2Q_CONFIG]
    folds = train_ranker.folds_of(tune + d2q, cfg, folds=5)
    held = [g.qid for _, out in folds for g in out]
    assert sorted(held) == sorted(g.qid for g in tune)
    for train, out in folds:
        assert {g.qid for g in d2q} <= {g.qid for g in train}
        assert not {g.qid for g in out} & {g.qid for g in train}
    shipped = train_ranker.folds_of(tune + d2q, train_ranker.CONFIGS[train_ranker.CHOSEN])
    assert all(not g.synthetic for train, _ in shipped for g in train)


def test_doc2query_questions_and_their_relevant_passages(tmp_path: Path) -> None:
    text = "Micro-credentials are recognised by the national agency."
    cache = tmp_path / "questions.jsonl"
    doc2query.append(cache, [doc2query.Entry(doc2query.text_key(text), "d1",
                                             ("Who recognises micro-credentials?", "Which agency?"),
                                             "sha", "v1")])
    questions = train_ranker.doc2query_questions(cache)
    assert [q for _, q, _ in questions] == ["Who recognises micro-credentials?", "Which agency?"]
    assert len({qid for qid, _, _ in questions}) == 2
    relevant = train_ranker.written_from(questions[0][2])
    assert relevant(Passage(id="a", doc_id="d1", title="T", text=text))
    assert relevant(Passage(id="b", doc_id="d2", title="T", text=text))  # identical text
    assert not relevant(Passage(id="c", doc_id="d1", title="T", text=text + " More."))


def test_a_missing_doc2query_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"scripts/doc2query\.py") as err:
        train_ranker.doc2query_questions(tmp_path / "missing.jsonl")
    assert "missing.jsonl" in str(err.value)


def test_overlap_with_gold_passages_is_counted() -> None:
    from assistant.evaluation.qa import QAItem, Source

    gold = Passage(id="g", doc_id="d1", title="T", text="The agency recognises them.")
    other = Passage(id="o", doc_id="d1", title="T", text="Something else entirely.")
    item = QAItem(id="t1", question="Who?", answer="", facts=(),
                  sources=(Source("d1", "agency recognises them"),), answerable=True)
    questions = [("a", "Who?", doc2query.text_key(gold.text)),
                 ("b", "Which?", doc2query.text_key(gold.text)),
                 ("c", "What?", doc2query.text_key(other.text))]
    assert train_ranker.gold_written([gold, other], [item], questions) == (2, 1)
