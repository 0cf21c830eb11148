"""The second stage of retrieval: a learned ranker over the first stage's wide candidate set.

Each candidate gets a row of cheap features (the first stage's scores, how much of the
question's weight its best sentence and its section title hold, whether it holds the kind of
value asked for, a lead-in with its list, the country asked about, its document type and
length); a logistic regression turns the row into a probability that the passage holds the
answer. The coefficients live in ``ranker.json`` next to this file, written by
``scripts/train_ranker.py`` from the tune part of the Q&A sets; numpy alone evaluates them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.text import countries_in
from assistant.types import Passage

MODEL_PATH = Path(__file__).with_name("ranker.json")
RETRAIN = "python scripts/train_ranker.py (needs the `train` extra: pip install -e '.[train]')"

FEATURES: tuple[str, ...] = (
    "fused",  # first-stage fused score over the best candidate's
    "fused_rank",  # 1 / first-stage rank
    "dense",  # cosine of the passage (on MiniLM's scale)
    "dense_gap",  # that cosine minus the best candidate's
    "sentence",  # cosine of the passage's best sentence
    "sentence_gap",
    "bm25",  # BM25 of the passage over the best candidate's
    "passage_terms",  # share of the question's term weight the passage holds
    "passage_terms_gap",  # that share minus the best candidate's
    "sentence_terms",  # the same for its best sentence
    "sentence_terms_gap",
    "title_terms",  # the same for its title and section path
    "no_terms",  # no word of the question, nor a glossary term of it, is a corpus word
    "number_match",  # a number is asked and the focus sentence holds a figure
    "date_match",
    "person_match",
    "list_match",  # a list is asked and the passage holds a lead-in with its items
    "lead_in_list",  # the passage holds a sentence ending in ':' followed by items or rows
    "blank_form",  # a questionnaire as sent (empty boxes, an appendix), not its results
    "country_match",  # the question names the passage's country
    "country_other",  # the question names a country and the passage is about another one
    "type_report",
    "type_recommendation",
    "type_law",
    "length",  # log of the passage's characters
    "sentence_top3",  # mean cosine of the passage's three best sentences (a block that matches)
    "lead_in_sim",  # best cosine of a lead-in (a sentence ending in ':') of the passage, else 0
    "list_lead_in_sim",  # the same when the question asks for a list, else 0
    "other_language_dense",  # the passage's cosine when the question has no corpus word, else 0
    "other_language_sentence",  # its best sentence's cosine, the same way
)

# What kind of value a question asks for (coarse: a feature, not a rule).
_ASKS: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"\bhow (many|much)\b|\bnumber of\b|\bpercent|\bshare of\b|\bproportion\b|\bhow large\b"
        r"|сколько|количеств|процент|քանի|որքան|տոկոս|რამდენ|პროცენტ", re.I),
    "date": re.compile(r"\bwhen\b|\b(what|which|in what) (year|date|month)\b|\bsince\b"
                       r"|когда|в каком году|երբ|როდის", re.I),
    "person": re.compile(r"\bwho\b|\bwhose\b|\bкто\b|ով|ვინ", re.I),
    "list": re.compile(r"\b(what|which) (are|were|kinds?|types?|forms?|areas?|fields?)\b|\blist\b"
                       r"|\bname the\b|\b(main|key) \w+s\b|\bchallenges\b|\bbarriers\b"
                       r"|\brecommendations\b|какие|որոնք|ինչպիսի|რომელი|რა სახის", re.I),
}
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*%|(?<![\w.])(?!(?:19|20)\d\d\b)\d+(?:[.,]\d+)?(?!\w)")
_DATE = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|"
                   r"November|December)\b|\b(19|20)\d\d\b")
_NAME = re.compile(r"\b(Mr|Ms|Mrs|Dr|Prof)\.?\s+[A-Z]|\b[A-Z][a-z]+ [A-Z][a-z]+(yan|ian|dze|"
                   r"shvili|ia|uri|ava|ov|ova|ev|eva)\b")
_LEAD_IN_LIST = re.compile(
    r":[ \t]*\n\s*(?:[-*•✓☐▪◦]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\)|\|)", re.M)


def asks(question: str) -> frozenset[str]:
    """The kinds of value the question asks for: number, date, person, list (or none)."""
    return frozenset(kind for kind, rx in _ASKS.items() if rx.search(question))


@dataclass(frozen=True)
class Candidate:
    """What the first stage knows about one candidate passage, for its feature row."""

    passage: Passage
    rank: int  # 1-based, first-stage order
    fused: float
    dense: float
    sentence: float  # best sentence's cosine
    bm25: float
    passage_terms: float
    sentence_terms: float
    title_terms: float
    focus: str  # the sentence that best matches the question (cosine plus terms)
    sentence_top3: float = 0.0  # mean cosine of its three best sentences
    lead_in_sim: float = 0.0  # best cosine of a sentence ending in ':' (0 when none)


def feature_rows(question: str, candidates: Sequence[Candidate], no_terms: bool) -> Any:
    """One row of FEATURES per candidate, as a float matrix."""
    import numpy as np

    kinds = asks(question)
    named = countries_in(question) & {"AM", "GE"}
    top_fused = max((c.fused for c in candidates), default=0.0) or 1.0
    top_dense = max((c.dense for c in candidates), default=0.0)
    top_sent = max((c.sentence for c in candidates), default=0.0)
    top_bm = max((c.bm25 for c in candidates), default=0.0) or 1.0
    top_pt = max((c.passage_terms for c in candidates), default=0.0)
    top_st = max((c.sentence_terms for c in candidates), default=0.0)
    rows = []
    for c in candidates:
        p = c.passage
        lead_in = bool(_LEAD_IN_LIST.search(p.text))
        row = {
            "fused": c.fused / top_fused,
            "fused_rank": 1.0 / c.rank,
            "dense": c.dense,
            "dense_gap": c.dense - top_dense,
            "sentence": c.sentence,
            "sentence_gap": c.sentence - top_sent,
            "bm25": c.bm25 / top_bm,
            "passage_terms": c.passage_terms,
            "passage_terms_gap": c.passage_terms - top_pt,
            "sentence_terms": c.sentence_terms,
            "sentence_terms_gap": c.sentence_terms - top_st,
            "title_terms": c.title_terms,
            "no_terms": float(no_terms),
            "number_match": float("number" in kinds and bool(_FIGURE.search(c.focus))),
            "date_match": float("date" in kinds and bool(_DATE.search(c.focus))),
            "person_match": float("person" in kinds and bool(_NAME.search(c.focus))),
            "list_match": float("list" in kinds and lead_in),
            "lead_in_list": float(lead_in),
            "blank_form": float("\u2610" in p.text or "appendix" in p.section.lower()),
            "country_match": float(bool(named) and p.country in named),
            "country_other": float(bool(named) and p.country in {"AM", "GE"}
                                   and p.country not in named),
            "type_report": float(p.doc_type == "report"),
            "type_recommendation": float(p.doc_type == "recommendation"),
            "type_law": float(p.doc_type == "law"),
            "length": math.log(max(len(p.text), 1)),
            "sentence_top3": c.sentence_top3,
            "lead_in_sim": c.lead_in_sim,
            "list_lead_in_sim": c.lead_in_sim if "list" in kinds else 0.0,
            "other_language_dense": c.dense if no_terms else 0.0,
            "other_language_sentence": c.sentence if no_terms else 0.0,
        }
        rows.append([row[f] for f in FEATURES])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def term_share(weights: Mapping[str, float], equivalents: Mapping[str, frozenset[str]],
               words: set[str] | frozenset[str]) -> float:
    """Share of the question's term weight found in ``words`` (a term or one of its
    equivalents counts)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    got = sum(w for t, w in weights.items()
              if t in words or equivalents.get(t, frozenset()) & words)
    return got / total


class Ranker:
    """A fitted logistic regression over FEATURES: standardise, dot, sigmoid."""

    def __init__(self, model: dict[str, Any], source: str = "") -> None:
        import numpy as np

        names = tuple(model.get("features", ()))
        if names != FEATURES:
            missing = [f for f in FEATURES if f not in names]
            extra = [f for f in names if f not in FEATURES]
            raise ConfigError(
                f"The ranker model {source or ''} was trained on other features than the code "
                f"computes (missing {missing}, unknown {extra}); retrain it: {RETRAIN}"
            )
        self.info = {k: v for k, v in model.items() if k not in {"mean", "scale", "coef"}}
        self.mean = np.asarray(model["mean"], dtype=np.float64)
        self.scale = np.asarray(model["scale"], dtype=np.float64)
        self.coef = np.asarray(model["coef"], dtype=np.float64)
        self.intercept = float(model["intercept"])

    def relevance(self, rows: Any) -> Any:
        """Probability of relevance of each row."""
        import numpy as np

        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=4)
def load_ranker(path: Path = MODEL_PATH) -> Ranker:
    """The shipped ranker (cached); a clear error when it is missing or stale."""
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"No ranker model at {path}; create it: {RETRAIN}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The ranker model {path} is not valid JSON ({exc}); "
                          f"regenerate it: {RETRAIN}") from exc
    return Ranker(model, str(path))
