"""Scoring answers on the known Q&A set: retrieval, answers, citations, abstention and latency.

``assistant eval`` (``evaluation.run``) asks every question of ``corpus/eval/known_qa.jsonl``
and scores the result here. With ``--baseline naive`` a textbook LangChain pipeline
(``evaluation.baseline``) answers the same set in the same run.

Definitions (a passage is *relevant* when it belongs to a gold source's document and shares
with that source's quote a stretch of at least 60 characters, or the whole quote when it is
shorter, both sides compared after :func:`assistant.text.normalize`; this also counts a quote
that straddles two chunks; a *fact* is present when any of its acceptable strings occurs in the
text, case-insensitively, after the same normalisation):

| group      | metric                | definition                                                |
|------------|-----------------------|-----------------------------------------------------------|
| retrieval  | hit_at_1              | answerable items whose first passage is relevant          |
| retrieval  | hit_at_5              | answerable items with a relevant passage in the top 5     |
| retrieval  | mrr                   | mean 1/rank of the first relevant passage (0 if none)     |
| retrieval  | context_recall        | mean share of an item's gold quotes in the passages       |
| answer     | fact_recall           | mean share of an item's facts in the answer (declined: 0) |
| answer     | exact_all_facts       | answerable items whose answer has every fact              |
| citations  | precision             | citations (answered answerable items) whose passage is    |
|            |                       | relevant or whose quote contains a fact string            |
| citations  | quote_verified        | citations (all answered items) whose quote is verbatim in |
|            |                       | the cited passage (`contains_quote`)                      |
| abstention | accuracy              | correct / all items; correct = answerable, answered and   |
|            |                       | fact_recall >= 0.5, or unanswerable and declined          |
| abstention | precision             | correct / answered items                                  |
| abstention | false_abstention_rate | answerable items declined / answerable items              |
| abstention | false_answer_rate     | unanswerable items answered / unanswerable items          |
| latency    | p50_ms, p95_ms        | wall time of one `ask`, after one untimed warm-up ask     |

The answer metrics use ``ask(question, history=…, mode=mode, k=k)``; retrieval metrics use
``retriever.retrieve(standalone question, k=max(5, k))``, the question as the assistant
understood it (a follow-up resolved). Every figure is also reported per category. A share with
nothing to count is 0.0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.evaluation.qa import CATEGORIES, QAItem, Source
from assistant.text import contains_quote, normalize
from assistant.types import Answer, Citation, Passage, ScoredPassage, markers

MIN_OVERLAP = 60  # normalised characters a passage must share with a gold quote
CORRECT_FACT_RECALL = 0.5  # an answer this complete counts as correct for abstention accuracy


def answered_text(answer: Answer) -> str:
    """The lines of an answer that answer: a comparison's line that shows a country's closest
    passage (a highlight, labelled "may not answer the exact question") is not counted, so
    fact recall cannot be flattered by a quote the page itself does not call an answer."""
    shown = {h.n for h in answer.highlights}
    if not shown:
        return answer.text
    return "\n\n".join(p for p in answer.text.split("\n\n")
                       if not set(markers(p)) & shown)


# --------------------------------------------------------------------------------------------
# Scoring one item
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return normalize(text)


def _fold(text: str) -> str:
    return _norm(text).casefold()


def has_fact(text: str, alternatives: Sequence[str]) -> bool:
    """Does ``text`` contain any acceptable string of a fact (case and whitespace ignored)?"""
    t = _fold(text)
    return any(_fold(a) and _fold(a) in t for a in alternatives)


def quote_overlaps(passage: Passage, source: Source) -> bool:
    """Does the passage hold (a 60-character stretch of) the source's quote, in its document?"""
    if passage.doc_id != source.doc:
        return False
    p, q = _norm(passage.text), _norm(source.quote)
    if not q:
        return False
    if q in p:
        return True
    need = min(len(q), MIN_OVERLAP)
    match = SequenceMatcher(None, p, q, autojunk=False).find_longest_match(0, len(p), 0, len(q))
    return match.size >= need


def is_relevant(passage: Passage, sources: Sequence[Source]) -> bool:
    return any(quote_overlaps(passage, s) for s in sources)


def hit_rank(ranked: Sequence[ScoredPassage], sources: Sequence[Source]) -> int | None:
    """1-based position of the first relevant passage, or None."""
    for i, sp in enumerate(ranked, 1):
        if is_relevant(sp.passage, sources):
            return i
    return None


@dataclass
class ItemResult:
    """What the system did for one item: retrieved passages, its answer and the time it took."""

    item: QAItem
    ranked: list[ScoredPassage]
    answer: Answer
    ms: float

    @property
    def answered(self) -> bool:
        return not self.answer.abstained

    @property
    def hit_rank(self) -> int | None:
        return hit_rank(self.ranked, self.item.sources) if self.item.answerable else None

    def missed_facts(self) -> list[list[str]]:
        if not self.answered:
            return [list(f) for f in self.item.facts]
        own = answered_text(self.answer)
        return [list(f) for f in self.item.facts if not has_fact(own, f)]

    @property
    def fact_recall(self) -> float:
        facts = self.item.facts
        return 1.0 - len(self.missed_facts()) / len(facts) if facts else 0.0

    @property
    def outcome(self) -> str:
        return self.answer.outcome

    def shown_first(self) -> str:
        """What the page shows first: the answer, or for ``evidence`` the closest passage (with
        its highlighted sentences; for a comparison, each country's closest passage, the
        passages a highlight is in); nothing for ``none``."""
        a = self.answer
        if a.outcome == "answer":
            return a.text
        if a.outcome == "evidence" and a.passages:
            marked = {h.passage.id for h in a.highlights}
            first = [sp.passage.text for i, sp in enumerate(a.passages)
                     if i == 0 or sp.passage.id in marked]
            return "\n\n".join(first)
        return ""

    @property
    def evidence_recall(self) -> float:
        """Share of the item's facts in what the page shows first."""
        facts = self.item.facts
        if not facts:
            return 0.0
        shown = self.shown_first()
        return sum(has_fact(shown, f) for f in facts) / len(facts)

    def best_span_correct(self) -> bool | None:
        """Would the best span (answered or not) hold half the facts? None without a span."""
        quote = self.answer.audit.get("best_quote")
        if quote is None:
            return None
        facts = self.item.facts
        if not self.item.answerable or not facts:
            return False
        return sum(has_fact(quote, f) for f in facts) / len(facts) >= CORRECT_FACT_RECALL

    @property
    def correct(self) -> bool:
        if self.item.answerable:
            return self.answered and self.fact_recall >= CORRECT_FACT_RECALL
        return not self.answered

    def citation_ok(self, c: Citation) -> bool:
        """A citation is precise when its passage is relevant or its quote states a fact."""
        return is_relevant(c.passage, self.item.sources) or any(
            has_fact(c.quote, f) for f in self.item.facts
        )

    def row(self) -> dict[str, Any]:
        """The per-item row of the JSON report."""
        a = self.answer
        return {
            "id": self.item.id,
            "category": self.item.category,
            "lang": self.item.lang,
            "split": self.item.split,
            "question": self.item.question,
            "standalone_question": a.standalone_question,
            "answerable": self.item.answerable,
            "outcome": a.outcome,
            "probability": a.probability,
            "evidence_recall": round(self.evidence_recall, 3) if self.item.answerable else None,
            "abstained": a.abstained,
            "answer": a.text,
            "citations": [
                {"n": c.n, "doc_id": c.passage.doc_id, "section": c.passage.section,
                 "quote": c.quote, "verified": contains_quote(c.passage.text, c.quote)}
                for c in a.citations
            ],
            "facts": [list(f) for f in self.item.facts],
            "missed_facts": self.missed_facts() if self.item.answerable else [],
            "hit_rank": self.hit_rank,
            "correct": self.correct,
            "ms": round(self.ms, 1),
        }


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------
def _share(num: float, den: float) -> float:
    return num / den if den else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def compute_metrics(results: Sequence[ItemResult]) -> dict[str, dict[str, float]]:
    """The metric groups of the report (see the module docstring for the definitions)."""
    ans = [r for r in results if r.item.answerable]
    una = [r for r in results if not r.item.answerable]
    ranks = [r.hit_rank for r in ans]
    ctx = [
        _share(sum(any(quote_overlaps(sp.passage, s) for sp in r.ranked) for s in r.item.sources),
               len(r.item.sources))
        for r in ans
    ]
    recalls = [r.fact_recall for r in ans]
    cites_ans = [(r, c) for r in ans if r.answered for c in r.answer.citations]
    cites_all = [c for r in results if r.answered for c in r.answer.citations]
    answered = [r for r in results if r.answered]
    correct = sum(r.correct for r in results)
    ms = [r.ms for r in results]
    return {
        "retrieval": {
            "hit_at_1": _share(sum(k == 1 for k in ranks), len(ans)),
            "hit_at_5": _share(sum(k is not None and k <= 5 for k in ranks), len(ans)),
            "mrr": _share(sum(1.0 / k for k in ranks if k), len(ans)),
            "context_recall": _share(sum(ctx), len(ans)),
            "n": len(ans),
        },
        "answer": {
            "fact_recall": _share(sum(recalls), len(ans)),
            "exact_all_facts": _share(sum(x == 1.0 for x in recalls), len(ans)),
            "evidence_recall": _share(sum(r.evidence_recall for r in ans), len(ans)),
            "n": len(ans),
        },
        "outcomes": {
            "answer": _share(sum(r.outcome == "answer" for r in results), len(results)),
            "evidence": _share(sum(r.outcome == "evidence" for r in results), len(results)),
            "none": _share(sum(r.outcome == "none" for r in results), len(results)),
            "none_on_answerable": _share(sum(r.outcome == "none" for r in ans), len(ans)),
            "n": len(results),
        },
        "citations": {
            "precision": _share(sum(r.citation_ok(c) for r, c in cites_ans), len(cites_ans)),
            "quote_verified": _share(
                sum(contains_quote(c.passage.text, c.quote) for c in cites_all), len(cites_all)
            ),
            "n": len(cites_all),
        },
        "abstention": {
            "accuracy": _share(correct, len(results)),
            "precision": _share(sum(r.correct for r in answered), len(answered)),
            "false_abstention_rate": _share(sum(not r.answered for r in ans), len(ans)),
            "false_answer_rate": _share(sum(r.answered for r in una), len(una)),
            "n_answerable": len(ans),
            "n_unanswerable": len(una),
            "n_answered": len(answered),
        },
        "latency": {
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "mean_ms": round(_share(sum(ms), len(ms)), 1),
            "n": len(ms),
        },
    }


@dataclass(frozen=True)
class MetricDef:
    """How one metric is shown: its label in plain words, its format and its target."""

    group: str
    key: str
    short: str
    plain: str
    kind: str = "pct"  # "pct" | "score" | "ms"
    op: str = ""  # ">=" | "<=" | "" (no target)
    target: float | None = None
    flag: str = ""  # the CLI option that sets a threshold on it

    def passes(self, value: float, target: float | None = None) -> bool | None:
        t = self.target if target is None else target
        if t is None or not self.op:
            return None
        return value >= t - 1e-9 if self.op == ">=" else value <= t + 1e-9

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "-"
        if self.kind == "pct":
            return f"{value * 100:.0f}%"
        if self.kind == "ms":
            return f"{value:.0f} ms"
        return f"{value:.2f}"

    def fmt_gap(self, gap: float) -> str:
        if self.kind == "pct":
            return f"{gap * 100:+.0f} pts"
        if self.kind == "ms":
            return f"{gap:+.0f} ms"
        return f"{gap:+.2f}"

    def fmt_target(self) -> str:
        return f"{self.op} {self.fmt(self.target)}" if self.target is not None else ""


METRICS: tuple[MetricDef, ...] = (
    MetricDef("retrieval", "hit_at_1", "hit@1",
              "Questions whose first search result holds the answer"),
    MetricDef("retrieval", "hit_at_5", "hit@5",
              "Questions with a passage holding the answer in the top 5 results",
              op=">=", target=0.85, flag="min_hit_at_5"),
    MetricDef("retrieval", "mrr", "MRR",
              "How high the first passage holding the answer ranks (1.00 = always first)",
              kind="score", op=">=", target=0.70, flag="min_mrr"),
    MetricDef("retrieval", "context_recall", "context recall",
              "Expected source quotes found among the retrieved passages"),
    MetricDef("answer", "fact_recall", "fact recall",
              "Expected facts found in the answers (average per question)",
              op=">=", target=0.60, flag="min_fact_recall"),
    MetricDef("answer", "exact_all_facts", "all facts",
              "Answers that contain every expected fact"),
    MetricDef("answer", "evidence_recall", "evidence recall",
              "Expected facts in what the page shows first: the answer, or the closest passage "
              "when it declines", op=">=", target=0.80, flag="min_evidence_recall"),
    MetricDef("outcomes", "none_on_answerable", "none on answerable",
              "Answerable questions for which nothing relevant was shown",
              op="<=", target=0.10, flag="max_none_on_answerable"),
    MetricDef("citations", "precision", "citation precision",
              "Citations that point at a passage holding the answer or quote an expected fact",
              op=">=", target=0.75, flag="min_citation_precision"),
    MetricDef("citations", "quote_verified", "quotes verified",
              "Citation quotes found word for word in the cited passage",
              op=">=", target=1.0, flag="min_quote_verified"),
    MetricDef("abstention", "accuracy", "abstention accuracy",
              "Questions handled correctly (answered right, or declined when the documents "
              "have no answer)", op=">=", target=0.90, flag="min_abstention_accuracy"),
    MetricDef("abstention", "precision", "answer precision",
              "Answers given that were right"),
    MetricDef("abstention", "false_abstention_rate", "false abstentions",
              "Answerable questions not answered (shown as evidence, or no answer)", op="<=",
              target=0.10),
    MetricDef("abstention", "false_answer_rate", "false answers",
              "Unanswerable questions the assistant answered anyway",
              op="<=", target=0.15, flag="max_false_answer_rate"),
    MetricDef("latency", "p50_ms", "latency p50", "Typical time to answer (median)", kind="ms"),
    MetricDef("latency", "p95_ms", "latency p95", "Slow answers (95th percentile)", kind="ms"),
)
GROUP_TITLES = {
    "retrieval": "Finding the right passages",
    "answer": "Answers",
    "citations": "Citations",
    "abstention": "Declining when there is no answer",
    "outcomes": "Outcomes (answer, evidence, none)",
    "latency": "Speed",
}


def gate_lines(metrics: dict[str, dict[str, float]],
               thresholds: dict[str, float | None]) -> list[str]:
    """One line per gate given: the figure, its margin over the gate and its distance to the
    target, so a reader sees how near the gate and how far from the goal each figure is."""
    out = []
    for m in METRICS:
        limit = thresholds.get(m.flag) if m.flag else None
        if limit is None:
            continue
        value = float(metrics[m.group][m.key])
        margin = value - limit if m.op == ">=" else limit - value
        to_target = "" if m.target is None else f"; target {m.fmt_target()}, " \
            f"distance {m.fmt_gap(value - m.target)}"
        out.append(f"  {m.short:<24} {m.fmt(value)}  gate {m.op} {m.fmt(limit)} "
                   f"(margin {m.fmt_gap(margin)}){to_target}")
    return out


def check_thresholds(
    metrics: dict[str, dict[str, float]], thresholds: dict[str, float | None]
) -> list[str]:
    """A message for every threshold given (by CLI option name) that the metrics miss."""
    missed = []
    for m in METRICS:
        limit = thresholds.get(m.flag) if m.flag else None
        if limit is None:
            continue
        value = float(metrics[m.group][m.key])
        if not m.passes(value, limit):
            word = "below the minimum" if m.op == ">=" else "above the maximum"
            option = "--" + m.flag.replace("_", "-")
            missed.append(f"{m.short} = {value:.3f} is {word} {limit:.3f} ({option})")
    return missed


def by_category(results: Sequence[ItemResult]) -> dict[str, list[ItemResult]]:
    out: dict[str, list[ItemResult]] = {}
    for r in results:
        out.setdefault(r.item.category, []).append(r)
    return {c: out[c] for c in sorted(out, key=lambda c: (CATEGORIES + (c,)).index(c))}


def save_json(report: dict[str, Any], path: str | Path) -> Path:
    """Write a report as JSON (folders made as needed) and say where on stderr."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"JSON report: {out}", file=sys.stderr)
    return out


# The per-category table: the figures that matter for each kind of question.
CATEGORY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("retrieval", "hit_at_5", "hit@5"),
    ("retrieval", "mrr", "MRR"),
    ("answer", "fact_recall", "fact recall"),
    ("answer", "evidence_recall", "evid. recall"),
    ("citations", "precision", "cit. precision"),
    ("abstention", "false_abstention_rate", "false abst."),
    ("abstention", "false_answer_rate", "false answers"),
    ("outcomes", "none_on_answerable", "none on ans."),
    ("abstention", "accuracy", "accuracy"),
)


def category_rows(report: dict[str, Any], key: str = "categories") -> list[list[str]]:
    """The header, then one row per category: its name, n, and the figures of CATEGORY_COLUMNS
    to two places ("-" where a figure does not apply: retrieval and fact recall for
    unanswerable items, false answers for answerable ones)."""
    rows = [["category", "n", *(c[2] for c in CATEGORY_COLUMNS)]]
    for cat, m in (report.get(key) or {}).items():
        n_ans, n_una = m["abstention"]["n_answerable"], m["abstention"]["n_unanswerable"]
        row = [cat, str(n_ans + n_una)]
        for group, metric, _ in CATEGORY_COLUMNS:
            applies = (n_una if metric == "false_answer_rate" else
                       n_ans + n_una if metric == "accuracy" else n_ans)
            row.append(f"{m[group][metric]:.2f}" if applies else "-")
        rows.append(row)
    return rows
