"""Gradient-boosted trees for the answer model, evaluated with numpy alone
(assistant.answer.scorer.tree_sum), and the shipped logistic file read as before."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from assistant.answer.scorer import FEATURES, AnswerModel, load_model, model_from_dict  # noqa: E402
from assistant.errors import ConfigError  # noqa: E402


def test_numpy_trees_give_scikit_learns_scores_on_random_rows() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn (the train extra) fits the reference")
    import numpy as np
    import train_answerer
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, len(FEATURES)))
    y = ((x[:, 0] > 0.3) ^ (x[:, 3] * x[:, 6] > 0.2)).astype(int)
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the side each node learnt
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # spinning OpenMP threads on a busy machine: minutes
        hgb = HistGradientBoostingClassifier(max_depth=3, max_iter=40, learning_rate=0.1,
                                             min_samples_leaf=20, random_state=0).fit(x, y)
    intercept, trees = train_answerer.export_trees(hgb)
    model = AnswerModel(FEATURES, (), (), (), intercept, 1.3, -0.4, 0.5, kind="trees",
                        trees=tuple(trees))
    rows = rng.normal(size=(300, len(FEATURES)))
    rows[rng.random(rows.shape) < 0.05] = np.nan
    z = hgb.decision_function(rows)
    want = 1.0 / (1.0 + np.exp(-(1.3 * z + -0.4)))
    assert np.max(np.abs(np.asarray(model.probabilities(rows.tolist())) - want)) < 1e-9
    # Through the JSON form, as answerer.json ships it.
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.kind == "trees"
    assert np.max(np.abs(np.asarray(again.probabilities(rows.tolist())) - want)) < 1e-9
    plain = AnswerModel(FEATURES, (), (), (), 0.0, 1.0, 0.0, 0.5, kind="trees",
                        trees=tuple(trees))
    raw = np.log(np.asarray(plain.probabilities(rows.tolist())))
    raw -= np.log1p(-np.exp(raw))
    assert np.max(np.abs(raw - (z - intercept))) < 1e-6  # the trees' sum, not a constant


def test_the_shipped_logistic_file_loads_and_scores_as_before() -> None:
    import numpy as np

    d = json.loads((Path(__file__).resolve().parent.parent / "assistant" / "answer"
                    / "answerer.json").read_text(encoding="utf-8"))
    m = load_model()
    assert m.kind == d.get("kind", "logistic")
    rows = np.random.default_rng(3).normal(size=(50, len(FEATURES)))
    if m.kind == "logistic":
        z = ((rows - np.asarray(d["mean"])) / np.asarray(d["scale"])) @ np.asarray(d["coef"])
        want = 1.0 / (1.0 + np.exp(-(d["platt_a"] * (z + d["intercept"]) + d["platt_b"])))
        assert np.max(np.abs(np.asarray(m.probabilities(rows.tolist())) - want)) < 1e-12
    # A file without "kind" (every file before the trees) is a logistic regression.
    old = {k: v for k, v in d.items() if k not in {"kind", "trees"}} | {
        "mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES),
        "coef": [0.5] + [0.0] * (len(FEATURES) - 1), "intercept": 0.0,
        "platt_a": 1.0, "platt_b": 0.0}
    legacy = model_from_dict(old)
    assert legacy.kind == "logistic"
    assert legacy.probabilities([[2.0] + [0.0] * (len(FEATURES) - 1)]) == pytest.approx(
        [1.0 / (1.0 + np.exp(-1.0))])
    with pytest.raises(ConfigError, match="train_answerer.py"):
        model_from_dict(old | {"kind": "forest"})
