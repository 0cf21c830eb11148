"""One calibrated score per span: the probability that it states what the question asks.

A logistic regression over the features below, its output calibrated (Platt scaling on
cross-validated predictions), trained offline on the tuning part of the Q&A sets only by
``scripts/train_answerer.py``. Its coefficients, the calibration and the threshold ship as
``answerer.json`` beside this file and are read with numpy alone.

The asked slot (a count, a date…) is an input here, not a veto; so are the passage's rank and
relevance, the question's terms the span covers, the span's embedding similarity, its kind,
the country it speaks for and whether it is a statement at all.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from assistant.answer.questions import QuestionInfo
from assistant.answer.spans import Span, is_statement
from assistant.errors import ConfigError
from assistant.retrieve.hybrid import Retrieval
from assistant.retrieve.rerank import asks
from assistant.text import display, tokens

MODEL_PATH = Path(__file__).with_name("answerer.json")
EQUIVALENT_CREDIT = 0.8  # a question term covered only by a synonym / neighbour counts this much

FEATURES = (
    "passage_signal",  # the passage's relevance (reranker) or fused score over the top one
    "inverse_rank",  # 1 / the passage's rank
    "passage_similarity",  # the passage's own cosine to the question
    "coverage",  # IDF-weighted share of the question's terms the span uses
    "context_coverage",  # the same, counting the passage's title and section too
    "uses_words",  # the question is matched word for word (English with corpus words)
    "similarity_max",  # best cosine of the span's sentences
    "similarity_mean",  # their mean
    "similarity_gap",  # best cosine of the span minus the best of any retrieved sentence
    "coverage_gap",  # the span's coverage minus the best coverage of any span
    "similarity_place",  # 1 / the span's place among the question's spans by similarity
    "coverage_place",  # 1 / its place by coverage
    "combined_place",  # 1 / its place by coverage plus similarity
    "similarity_other_language",  # best cosine when the question shares no corpus words
    "slot_asked",  # the question asks for a count, date, person, amount, share or duration
    "slot_filled",  # … and the span holds a value of that kind (of the counted thing)
    "kind_list",  # a lead-in with its list items or table rows
    "kind_adjacent",  # two or three adjacent sentences
    "country_match",  # the question names one country and the passage is that country's
    "country_other",  # … and the passage is the other country's
    "statement",  # the span's first unit says something (not a heading, option or question)
    "lead_in_alone",  # a single unit ending in ":" (its list is not part of it)
    "log_chars",  # log of the span's length
    "has_figure",  # a digit outside list numbering
    "list_asked",  # the question asks for several things ("what are the main …", "which …")
    "list_asked_list_span",  # … and the span is a lead-in with its items
    "yes_no_asked",  # the question asks yes or no ("Is …", "Are …", "Does …")
    "key_term_missing",  # weight share of the question's heaviest term when neither the span
    #                      nor its passage's title and section hold it (else 0)
    "unknown_share",  # share of the question's weight in words the corpus never uses
    "other_language_signal",  # passage_signal when the question shares no corpus words, else 0
    "other_language_place",  # similarity_place the same way
)
# "Is …?", "Are …?", "Does …?": a question answered by yes or no (English; Russian "ли").
_YES_NO = re.compile(r"^\W*(is|are|does|do|did|can|could|has|have|had|was|were|will|would|"
                     r"should|must|may)\b|\bли\b", re.I)


@dataclass(frozen=True)
class AnswerModel:
    """The shipped model: standardisation, coefficients, Platt calibration and threshold."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    platt_a: float
    platt_b: float
    threshold: float
    signal: str = "fused"  # "fused" or "relevance": the passage signal it was trained on
    none_below: float = 0.0  # `none` when every passage's relevance is below this (0: never)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    # "logistic" (mean, scale, coef, intercept) or "trees": gradient-boosted trees whose leaf
    # values are added to ``intercept`` (mean, scale and coef then empty)
    kind: str = "logistic"
    trees: tuple[dict[str, list[Any]], ...] = field(default=(), compare=False)

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Calibrated probability for each feature row."""
        import numpy as np

        if not len(rows):
            return []
        x = np.asarray(rows, dtype=np.float64)
        if self.kind == "trees":
            z = self.intercept + self.ensemble.sum(x)
        else:
            x = (x - np.asarray(self.mean)) / np.asarray(self.scale)
            z = x @ np.asarray(self.coef) + self.intercept
        p = 1.0 / (1.0 + np.exp(-(self.platt_a * z + self.platt_b)))
        return [float(v) for v in p]

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "features": list(self.features), "mean": list(self.mean),
             "scale": list(self.scale), "coef": list(self.coef), "intercept": self.intercept,
             "platt_a": self.platt_a, "platt_b": self.platt_b, "threshold": self.threshold,
             "signal": self.signal, "none_below": self.none_below, "meta": self.meta}
        return d | ({"trees": list(self.trees)} if self.kind == "trees" else {})

    @cached_property
    def ensemble(self) -> TreeEnsemble:
        """The trees packed once for scoring (``kind == "trees"``)."""
        return TreeEnsemble.of(self.trees)


def tree_sum(trees: Sequence[dict[str, list[Any]]], x: Any) -> Any:
    """The sum over ``trees`` of the leaf each row of ``x`` falls in. A tree is node arrays
    (scikit-learn's HistGradientBoosting layout): a row goes left when its feature is at most
    the threshold, or is NaN and the node sends missing values left."""
    return TreeEnsemble.of(trees).sum(x)


@dataclass(frozen=True)
class TreeEnsemble:
    """Trees packed into (trees x nodes) arrays, so every row walks every tree at once: one step
    a level, not one Python loop a tree (150 trees: 5.9 ms a question looped)."""

    feature: Any
    threshold: Any
    left: Any
    right: Any
    value: Any
    leaf: Any
    missing_left: Any

    @classmethod
    def of(cls, trees: Sequence[dict[str, list[Any]]]) -> TreeEnsemble:
        import numpy as np

        width = max((len(t["value"]) for t in trees), default=1)

        def packed(key: str, dtype: Any, pad: Any) -> Any:
            out = np.full((len(trees), width), pad, dtype=dtype)
            for i, t in enumerate(trees):
                out[i, : len(t[key])] = t[key]
            return out

        leaf = packed("leaf", bool, True)  # padding nodes are leaves worth 0, never reached
        return cls(np.where(leaf, 0, packed("feature", np.int64, 0)),
                   packed("threshold", np.float64, 0.0), packed("left", np.int64, 0),
                   packed("right", np.int64, 0), packed("value", np.float64, 0.0), leaf,
                   packed("missing_left", bool, False))

    def sum(self, x: Any) -> Any:
        import numpy as np

        x = np.asarray(x, dtype=np.float64)
        tree = np.arange(self.value.shape[0])[None, :]
        row = np.arange(len(x))[:, None]
        node = np.zeros((len(x), self.value.shape[0]), dtype=np.int64)
        at_leaf = self.leaf[tree, node]
        while not at_leaf.all():
            v = x[row, self.feature[tree, node]]
            go_left = np.where(np.isnan(v), self.missing_left[tree, node],
                               v <= self.threshold[tree, node])
            step = np.where(go_left, self.left[tree, node], self.right[tree, node])
            node = np.where(at_leaf, node, step)
            at_leaf = self.leaf[tree, node]
        return self.value[tree, node].sum(axis=1)


def model_from_dict(d: dict[str, Any]) -> AnswerModel:
    names = tuple(d["features"])
    if names != FEATURES:
        raise ConfigError(
            "The answer model was trained on other features than this code computes; "
            "regenerate it: python scripts/train_answerer.py")
    kind = str(d.get("kind", "logistic"))
    if kind not in {"logistic", "trees"}:
        raise ConfigError(f"The answer model's kind is {kind!r}; this code reads 'logistic' "
                          "or 'trees'. Regenerate it: python scripts/train_answerer.py")
    return AnswerModel(names, tuple(d.get("mean", ())), tuple(d.get("scale", ())),
                       tuple(d.get("coef", ())), float(d["intercept"]), float(d["platt_a"]),
                       float(d["platt_b"]), float(d["threshold"]), str(d.get("signal", "fused")),
                       float(d.get("none_below", 0.0)), d.get("meta", {}), kind,
                       tuple(d.get("trees", ())))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The answer model shipped with the code (or another file of the same form)."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No answer model at {path}; regenerate it with "
                          "python scripts/train_answerer.py") from exc
    except (json.JSONDecodeError, KeyError) as exc:
        raise ConfigError(f"The answer model {path} is not readable ({exc}); regenerate it "
                          "with python scripts/train_answerer.py") from exc
    return model_from_dict(d)


def _covered(term: str, equivalents: frozenset[str], words: set[str] | frozenset[str]
             ) -> float:
    if term in words:
        return 1.0
    return EQUIVALENT_CREDIT if equivalents & words else 0.0


@lru_cache(maxsize=32768)  # pure; every question reads the same passages' spans again
def _words(text: str) -> frozenset[str]:
    return frozenset(tokens(text))


@lru_cache(maxsize=32768)
def _has_figure(body: str) -> bool:
    """A digit outside list numbering ("1.", "a)")."""
    return bool(re.search(r"\d", re.sub(r"(?:^|\s)\d{1,3}[.)](?=\s)", " ", body)))


def passage_signal(sp: Any, top_fused: float, signal: str) -> float:
    """The reranker's probability of relevance when the model was trained on it and the
    passage has one; otherwise the fused retrieval score over the best one."""
    if signal == "relevance":
        rel = getattr(sp, "relevance", None)
        if rel is not None:
            return float(rel)
    return float(sp.score) / top_fused if top_fused > 0 else 0.0


def span_features(
    q: QuestionInfo, retrieval: Retrieval, spans: Sequence[Span], signal: str = "fused",
) -> list[list[float]]:
    """The feature row (in FEATURES order) of every span."""
    terms = retrieval.terms
    weights = terms.weights
    total = (sum(weights.values()) + terms.typical_weight * len(terms.unknown)) or 1.0
    uses_words = q.lang == "en" and bool(weights)
    top_fused = max((sp.score for sp in retrieval.passages), default=0.0)
    best_sim = max((c for sp in retrieval.passages for _, _, c in sp.sentences), default=0.0)
    asked = q.asked_country
    slot = q.slot
    noun_forms: set[str] = set()
    if slot is not None and slot.noun:
        noun_forms = {slot.noun} | set(terms.equivalents.get(slot.noun, ()))
    kind = _Asked.of(q, retrieval, total, uses_words)
    rows = []
    extras = []
    ctx_cache: dict[str, frozenset[str]] = {}
    for span in spans:
        sp, p = span.sp, span.sp.passage
        raw = span.raw
        words = _words(raw)
        if p.id not in ctx_cache:
            ctx_cache[p.id] = _words(f"{p.title} {p.section}")
        ctx = ctx_cache[p.id] | words
        cov = ctx_cov = 0.0
        for t, w in weights.items():
            eq = terms.equivalents.get(t, frozenset())
            cov += w * _covered(t, eq, words)
            ctx_cov += w * _covered(t, eq, ctx)
        body = display(raw)
        filled = 0.0
        if slot is not None and slot.filled_by(body):
            around = p.text[max(0, span.start - 200) : span.end]
            named = not noun_forms or bool(noun_forms & set(tokens(f"{p.section} {around}")))
            filled = 1.0 if named else 0.0
        first = p.text[span.units[0][0] : span.units[0][1]]
        sims = span.sims or (0.0,)
        extras.append(kind.row(span, ctx, passage_signal(sp, top_fused, signal)))
        rows.append([
            passage_signal(sp, top_fused, signal),
            1.0 / max(sp.rank, 1),
            float(sp.dense or 0.0),
            cov / total,
            ctx_cov / total,
            1.0 if uses_words else 0.0,
            max(sims),
            sum(sims) / len(sims),
            max(sims) - best_sim,
            1.0 if slot is not None else 0.0,
            filled,
            1.0 if span.kind == "list" else 0.0,
            1.0 if span.kind == "adjacent" else 0.0,
            1.0 if asked and p.country == asked else 0.0,
            1.0 if asked and p.country in {"AM", "GE"} - {asked} else 0.0,
            1.0 if is_statement(first) else 0.0,
            1.0 if span.kind == "sentence" and body.endswith(":") else 0.0,
            math.log(1 + len(body)),
            1.0 if _has_figure(body) else 0.0,
        ])
    best_cov = max((r[3] for r in rows), default=0.0)
    by_sim = _places([r[6] for r in rows])
    by_cov = _places([r[3] for r in rows])
    by_both = _places([r[3] + r[6] for r in rows])
    for i, r in enumerate(rows):
        r[9:9] = [r[3] - best_cov, 1.0 / by_sim[i], 1.0 / by_cov[i], 1.0 / by_both[i],
                  0.0 if uses_words else r[6]]
        r.extend([*extras[i], 0.0 if uses_words else 1.0 / by_sim[i]])
    return rows


@dataclass(frozen=True)
class _Asked:
    """The question read as a whole, for the features added on 2026-11-30 (list, yes/no, its
    heaviest term, words the corpus never uses, another language)."""

    list_asked: bool
    yes_no: bool
    key: str | None  # the question's heaviest term
    key_share: float  # its share of the question's weight
    unknown_share: float
    uses_words: bool
    equivalents: frozenset[str]  # the heaviest term's equivalents

    @classmethod
    def of(cls, q: QuestionInfo, retrieval: Retrieval, total: float,
           uses_words: bool) -> _Asked:
        terms = retrieval.terms
        weights = terms.weights
        key = max(weights, key=lambda t: weights[t], default=None)
        return cls("list" in asks(q.standalone), bool(_YES_NO.search(q.standalone)), key,
                   weights[key] / total if key is not None else 0.0,
                   terms.typical_weight * len(terms.unknown) / total, uses_words,
                   terms.equivalents.get(key, frozenset()) if key is not None else frozenset())

    def row(self, span: Span, context: frozenset[str], signal: float) -> list[float]:
        """Its features of one span (``context``: the span's words with its passage's title
        and section)."""
        missing = self.key is not None and not _covered(self.key, self.equivalents, context)
        return [
            1.0 if self.list_asked else 0.0,
            1.0 if self.list_asked and span.kind == "list" else 0.0,
            1.0 if self.yes_no else 0.0,
            self.key_share if missing else 0.0,
            self.unknown_share,
            0.0 if self.uses_words else signal,
        ]


def _places(values: Sequence[float]) -> list[int]:
    """1-based place of each value, highest first (ties share the better place)."""
    ordered = sorted(values, reverse=True)
    first: dict[float, int] = {}
    for i, v in enumerate(ordered, 1):
        first.setdefault(v, i)
    return [first[v] for v in values]


@dataclass(frozen=True)
class ScoredSpan:
    span: Span
    probability: float


def score_spans(
    q: QuestionInfo, retrieval: Retrieval, spans: Sequence[Span], model: AnswerModel,
) -> list[ScoredSpan]:
    """Every span with its calibrated probability, best first (a tie goes to the shorter)."""
    probs = model.probabilities(span_features(q, retrieval, spans, model.signal))
    out = [ScoredSpan(s, p) for s, p in zip(spans, probs, strict=True)]
    return sorted(out, key=lambda x: (-x.probability, x.span.end - x.span.start))
