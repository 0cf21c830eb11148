"""verify mode's one calibrated score: the answer model's probability and the judge's, combined.

The local model judges the ``top_k`` spans with the highest answer-model probability (those at or
above ``floor``); its probability of "yes" (``grounded.Judge``) and the answer model's
probability enter a logistic regression on their logits, fitted on the tuning part with
cross-fitting by ``scripts/train_judge.py``. The judged span with the highest combined
probability is the answer when it reaches ``threshold`` (chosen on the tuning part with the
answer model's cost); otherwise the outcome is ``evidence``. Shipped as ``judge.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

JUDGE_MODEL_PATH = Path(__file__).with_name("judge.json")
EPS = 1e-3  # probabilities are kept in [EPS, 1 - EPS] before their logit


def logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class JudgeModel:
    """The combination: weights of the two logits, intercept, threshold and what is judged."""

    coef_answer_model: float
    coef_judge: float
    intercept: float
    threshold: float
    top_k: int
    floor: float
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def probability(self, p_answer_model: float, p_judge: float) -> float:
        """The combined, calibrated probability that the span states the answer."""
        z = (self.coef_answer_model * logit(p_answer_model) + self.coef_judge * logit(p_judge)
             + self.intercept)
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=4)
def load_judge_model(path: Path = JUDGE_MODEL_PATH) -> JudgeModel:
    """The combination shipped with the code (or another file of the same form)."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return JudgeModel(float(d["coef_answer_model"]), float(d["coef_judge"]),
                          float(d["intercept"]), float(d["threshold"]), int(d["top_k"]),
                          float(d["floor"]), d.get("meta", {}))
    except FileNotFoundError as exc:
        raise ConfigError(f"No judge combination at {path}; regenerate it with "
                          "python scripts/train_judge.py") from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"The judge combination {path} is not readable ({exc}); regenerate "
                          "it with python scripts/train_judge.py") from exc
