"""scripts/compare_answer_models.py: every model family on the same spans and the same deals
of the folds as the shipped logistic regression, judged against a bar written beforehand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import compare_answer_models as cmp  # noqa: E402
import train_answerer  # noqa: E402
from conftest import noisy_answer_items  # noqa: E402


def _items(bent: bool = False) -> tuple[Any, Any, Any, dict[str, Any]]:
    x, y, groups, answerable = noisy_answer_items(seed=5, bent=bent, right_share=0.8)
    data = {"answerable": answerable,
            "items": [{"category": "paraphrase" if a else "near_miss", "answerable": a}
                      for a in answerable.values()]}
    return x, y, groups, data


def test_the_baseline_is_scored_exactly_as_train_answerer_chooses_its_threshold() -> None:
    x, y, groups, data = _items()
    res = cmp.evaluate(cmp.BASELINE, x, y, groups, data)
    *_, threshold, curve = train_answerer.cross_validated(x, y, groups, data["answerable"])
    assert res["curve"][res["chosen"]]["threshold"] == threshold
    mean_cost = sum(res["deal_costs"]) / len(res["deal_costs"])
    assert abs(mean_cost - next(c["cost"] for c in curve if c["threshold"] == threshold)) < 1e-3
    assert len(res["deal_costs"]) == train_answerer.REPEATS
    # The same model against itself gains nothing and does not clear the bar.
    verdict = cmp.judge(res, res, data)
    assert verdict["cost_gain"] == 0.0
    assert verdict["deals_lower"] == 0
    assert not verdict["clears"]


def test_a_model_that_separates_what_a_straight_line_cannot_clears_the_bar() -> None:
    x, y, groups, data = _items(bent=True)
    base = cmp.evaluate(cmp.BASELINE, x, y, groups, data)
    trees = cmp.evaluate("hgb", x, y, groups, data)
    verdict = cmp.judge(base, trees, data)
    assert verdict["cost_gain"] >= cmp.BAR_COST
    assert verdict["deals_lower"] >= cmp.BAR_DEALS
    assert verdict["at_equal_wrong"]["right"] > cmp.at(base, base["chosen"], data)["right"]
    assert verdict["clears"]


def test_the_relative_view_subtracts_the_items_best_value() -> None:
    import numpy as np

    x = np.array([[1.0, 5.0], [3.0, 2.0], [0.5, 0.5]])
    out = cmp.relative(x, np.array([0, 0, 1]))
    assert out.tolist() == [[1.0, 5.0, -2.0, 0.0], [3.0, 2.0, 0.0, -3.0], [0.5, 0.5, 0.0, 0.0]]
