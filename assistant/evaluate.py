"""Evaluation on the known Q&A set: retrieval, answers, citations, abstention and latency.

``assistant eval`` asks every question of ``corpus/eval/known_qa.jsonl`` and scores the result.
With ``--baseline naive`` a textbook LangChain pipeline answers the same set in the same run.

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

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.config import Settings
from assistant.errors import AssistantError, IndexError_, InputError
from assistant.text import contains_quote, normalize
from assistant.types import Answer, Citation, Passage, ScoredPassage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

FIELDS = ("id", "question", "answer", "facts", "sources", "answerable")
# Optional fields: what kind of question it is, its language, the conversation before it, which
# part of the set it belongs to (tune: constants may be chosen on it; test: never), a note.
OPTIONAL = ("category", "lang", "history", "split", "note")
# The bundled sets' categories, in report order; a tester's own file may use any name.
CATEGORIES = ("known", "unanswerable", "near_miss", "paraphrase", "cross_language",
              "comparison", "follow_up", "list", "yes_no", "recommendation")
SPLITS = ("tune", "test")
MIN_OVERLAP = 60  # normalised characters a passage must share with a gold quote
CORRECT_FACT_RECALL = 0.5  # an answer this complete counts as correct for abstention accuracy


# --------------------------------------------------------------------------------------------
# The Q&A set
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """A gold source: a document id (canonical, aliases resolved) and a verbatim quote."""

    doc: str
    quote: str


@dataclass(frozen=True)
class QAItem:
    """One known question with its expected facts and sources."""

    id: str
    question: str
    answer: str
    facts: tuple[tuple[str, ...], ...]
    sources: tuple[Source, ...]
    answerable: bool
    line: int = 0
    category: str = "known"
    lang: str = "en"
    history: tuple[tuple[str, str], ...] = ()
    split: str = ""  # "" = in every part


def _str_list_problem(value: Any, what: str) -> str:
    if not isinstance(value, list) or not value:
        return f"{what} must be a non-empty list of strings"
    if not all(isinstance(s, str) and s.strip() for s in value):
        return f"{what} must contain only non-empty strings"
    return ""


def _check_row(row: Any) -> list[str]:
    """Shape and type problems of one parsed line (no corpus look-ups)."""
    if not isinstance(row, dict):
        return ["not a JSON object"]
    problems = []
    missing = [f for f in FIELDS if f not in row]
    extra = sorted(set(row) - set(FIELDS) - set(OPTIONAL))
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected field(s) {', '.join(extra)}; allowed: "
                        f"{', '.join(FIELDS + OPTIONAL)}")
    if "category" in row and not (isinstance(row["category"], str) and row["category"].strip()):
        problems.append("category must be a non-empty string (any name; reported as given)")
    if "split" in row and row["split"] not in SPLITS:
        problems.append(f"split must be one of {', '.join(SPLITS)}")
    hist = row.get("history", [])
    if not (isinstance(hist, list) and all(
        isinstance(h, str) or (isinstance(h, list) and len(h) == 2
                               and all(isinstance(x, str) for x in h)) for h in hist
    )):
        problems.append('history must be a list of earlier questions (strings) or of '
                        '["question", "answer"] pairs')
    for key in ("id", "question"):
        if key in row and not (isinstance(row[key], str) and row[key].strip()):
            problems.append(f"{key} must be a non-empty string")
    if "answer" in row and not isinstance(row["answer"], str):
        problems.append("answer must be a string (\"\" when unanswerable)")
    if "answerable" in row and not isinstance(row["answerable"], bool):
        problems.append("answerable must be true or false")
    facts = row.get("facts")
    if "facts" in row:
        if not isinstance(facts, list):
            problems.append("facts must be a list of lists of acceptable strings")
        else:
            for i, fact in enumerate(facts, 1):
                p = _str_list_problem(fact, f"facts[{i}]")
                if p:
                    problems.append(p)
    sources = row.get("sources")
    if "sources" in row:
        if not isinstance(sources, list):
            problems.append('sources must be a list of {"doc": ..., "quote": ...}')
        else:
            for i, src in enumerate(sources, 1):
                ok = (isinstance(src, dict) and set(src) == {"doc", "quote"}
                      and all(isinstance(src[k], str) and src[k].strip() for k in src))
                if not ok:
                    problems.append(
                        f'sources[{i}] must be {{"doc": str, "quote": str}}, both non-empty'
                    )
    if problems or "answerable" not in row:
        return problems
    if row["answerable"] and (not facts or not sources):
        problems.append("an answerable item needs at least one fact and one source")
    if not row["answerable"] and (row["answer"] or facts or sources):
        problems.append("an unanswerable item needs answer \"\", facts [] and sources []")
    return problems


def validate_qa(
    lines: Iterable[str], aliases: dict[str, str], doc_text: Callable[[str], str]
) -> list[QAItem]:
    """Parse and check a Q&A set; raise InputError listing every problem as "line N: ...".

    ``aliases`` maps document ids and aliases to ids; ``doc_text(doc_id)`` returns the
    document's normalised text or raises AssistantError saying why it cannot be read.
    """
    items: list[QAItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        row_problems = _check_row(row)
        if row_problems:
            problems.extend(f"line {n}: {p}" for p in row_problems)
            continue
        if row["id"] in seen:
            first = seen[row["id"]]
            problems.append(f"line {n}: duplicate id {row['id']!r} (first on line {first})")
        else:
            seen[row["id"]] = n
        sources = []
        for src in row["sources"]:
            doc = aliases.get(src["doc"])
            if doc is None:
                problems.append(
                    f"line {n}: unknown document {src['doc']!r}; use one of "
                    f"{', '.join(sorted(aliases))}"
                )
                continue
            try:
                text = doc_text(doc)
            except AssistantError as exc:
                problems.append(f"line {n}: document {doc} cannot be read: {exc}")
                continue
            if normalize(src["quote"]) not in text:
                problems.append(f"line {n}: quote not found in {doc}: {src['quote'][:80]!r}")
            sources.append(Source(doc, src["quote"]))
        category = row.get("category") or ("known" if row["answerable"] else "unanswerable")
        items.append(QAItem(
            id=row["id"], question=row["question"], answer=row["answer"],
            facts=tuple(tuple(f) for f in row["facts"]), sources=tuple(sources),
            answerable=row["answerable"], line=n, category=category,
            lang=row.get("lang", "en"),
            history=tuple((h, "") if isinstance(h, str) else (h[0], h[1])
                          for h in row.get("history", [])),
            split=row.get("split", ""),
        ))
    if problems:
        raise InputError(
            f"The Q&A set has {len(problems)} problem(s); fix them and run again:\n  "
            + "\n  ".join(problems)
        )
    if not items:
        raise InputError("The Q&A set is empty; add one JSON object per line.")
    return items


def load_qa(path: Path, settings: Settings) -> list[QAItem]:
    """Read and validate a Q&A set against the corpus documents (aliases resolved)."""
    from assistant.corpus import alias_map, corpus_entries, load_document

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"No Q&A set at {path}; pass --qa FILE") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text; re-save it as UTF-8") from exc
    entries = {e.info.id: e for e in corpus_entries(settings)}
    texts: dict[str, str] = {}

    def doc_text(doc_id: str) -> str:
        if doc_id not in texts:
            e = entries[doc_id]
            texts[doc_id] = normalize(load_document(e.path, e.info, settings).text)
        return texts[doc_id]

    return validate_qa(lines, alias_map(entries.values()), doc_text)


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
        return [list(f) for f in self.item.facts if not has_fact(self.answer.text, f)]

    @property
    def fact_recall(self) -> float:
        facts = self.item.facts
        return 1.0 - len(self.missed_facts()) / len(facts) if facts else 0.0

    @property
    def outcome(self) -> str:
        return self.answer.outcome

    def shown_first(self) -> str:
        """What the page shows first: the answer, or for ``evidence`` the closest passage (with
        its highlighted sentences); nothing for ``none``."""
        a = self.answer
        if a.outcome == "answer":
            return a.text
        if a.outcome == "evidence" and a.passages:
            return a.passages[0].passage.text
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
              op=">=", target=0.95, flag="min_hit_at_5"),
    MetricDef("retrieval", "mrr", "MRR",
              "How high the first passage holding the answer ranks (1.00 = always first)",
              kind="score", op=">=", target=0.85, flag="min_mrr"),
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
              "Answerable questions the assistant declined", op="<=", target=0.10),
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


# --------------------------------------------------------------------------------------------
# Running a system over the set
# --------------------------------------------------------------------------------------------
class _Retriever(Protocol):
    def retrieve(self, query: str, filters: Any = None, k: int | None = None) -> Any: ...


class System(Protocol):
    """What is evaluated: the Assistant, the naive baseline, or a test stub."""

    @property
    def retriever(self) -> _Retriever: ...

    def ask(self, question: str, *, mode: str | None = None, k: int | None = None) -> Answer: ...


def _ask(system: System, item: QAItem, mode: str | None, k: int) -> Answer:
    if item.history:
        ask: Any = system.ask
        return ask(item.question, history=list(item.history), mode=mode, k=k)
    return system.ask(item.question, mode=mode, k=k)


def run_items(
    items: Sequence[QAItem], system: System, mode: str | None = None, k: int = 6,
    progress: Callable[[Iterable[QAItem]], Iterable[QAItem]] | None = None,
) -> list[ItemResult]:
    """Ask every item (one timed ``ask``, with its history), then retrieval with k=max(5, k)
    for the question as the assistant understood it (a follow-up resolved)."""
    if items:
        system.ask(items[0].question, mode=mode, k=k)  # untimed warm-up
    results = []
    for item in progress(items) if progress else items:
        t = time.perf_counter()
        answer = _ask(system, item, mode, k)
        ms = (time.perf_counter() - t) * 1000
        query = answer.standalone_question or item.question
        ranked = list(system.retriever.retrieve(query, k=max(5, k)))
        results.append(ItemResult(item, ranked, answer, ms))
    return results


def select_split(items: Sequence[QAItem], split: str) -> list[QAItem]:
    """The items of one part ("tune" or "test"; "all" for every item); items with no part are
    in every part."""
    if split == "all":
        return list(items)
    return [it for it in items if it.split in ("", split)]


def by_category(results: Sequence[ItemResult]) -> dict[str, list[ItemResult]]:
    out: dict[str, list[ItemResult]] = {}
    for r in results:
        out.setdefault(r.item.category, []).append(r)
    return {c: out[c] for c in sorted(out, key=lambda c: (CATEGORIES + (c,)).index(c))}


class NaiveBaseline:
    """A textbook LangChain RAG pipeline, the yardstick for ours.

    RecursiveCharacterTextSplitter(1000, 200) over the same documents' text, the same embedding
    model, an in-memory Chroma, dense similarity search top 4, no hybrid search. The answer is
    the top passage; it never abstains and cites that passage whole.
    """

    name = "naive"
    top_k = 4

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.corpus import corpus_entries, load_document
        from assistant.errors import DocumentError
        from assistant.index import load_embeddings

        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="naive-chroma-")
        client = chromadb.PersistentClient(
            path=self._tmp.name, settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma(
            client=client,
            collection_name=f"naive_{uuid.uuid4().hex[:12]}",
            embedding_function=embeddings or load_embeddings(settings),
            collection_metadata={"hnsw:space": "cosine"},
        )
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=1000, chunk_overlap=200, add_start_index=True
        )
        texts, metas = [], []
        for e in corpus_entries(settings):
            if not e.present:
                continue
            try:
                doc = load_document(e.path, e.info, settings)
            except DocumentError:
                continue
            texts.append(doc.text)
            metas.append({"doc_id": e.info.id, "title": e.info.title})
        chunks = splitter.create_documents(texts, metadatas=metas)
        if not chunks:
            raise IndexError_("The corpus has no readable document for the naive baseline.")
        self.store.add_documents(chunks)
        self.chunks = len(chunks)

    @property
    def retriever(self) -> NaiveBaseline:
        return self

    def retrieve(
        self, query: str, filters: Any = None, k: int | None = None
    ) -> list[ScoredPassage]:
        """Dense top-4 (``k`` is ignored: the textbook pipeline always takes 4)."""
        out = []
        for rank, (d, dist) in enumerate(
            self.store.similarity_search_with_score(query, k=self.top_k), 1
        ):
            start = int(d.metadata.get("start_index", 0))
            end = start + len(d.page_content)
            doc_id = str(d.metadata["doc_id"])
            p = Passage(id=Passage.make_id(doc_id, d.page_content, start, end, ""),
                        doc_id=doc_id, title=str(d.metadata.get("title", doc_id)),
                        text=d.page_content, start=start, end=end)
            out.append(ScoredPassage(p, score=1.0 - dist, dense=1.0 - dist, rank=rank))
        return out

    def ask(self, question: str, history: Any = None, *, mode: str | None = None,
            k: int | None = None) -> Answer:
        """The top passage, as is, with itself as the one citation (history is ignored)."""
        ranked = self.retrieve(question)
        if not ranked:
            return Answer(question, "", [], [], abstained=False, mode=self.name)
        top = ranked[0].passage
        return Answer(question=question, text=top.text,
                      citations=[Citation(1, top, top.text)], passages=ranked,
                      abstained=False, mode=self.name)

    def close(self) -> None:
        self._tmp.cleanup()


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------
def build_report(
    results: Sequence[ItemResult], meta: dict[str, Any],
    baseline: Sequence[ItemResult] | None = None, baseline_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report: metric groups, run meta, one row per item, and the baseline's metrics."""
    report: dict[str, Any] = dict(compute_metrics(results))
    report["categories"] = {c: compute_metrics(rs) for c, rs in by_category(results).items()}
    report["meta"] = meta
    report["targets"] = {
        f"{m.group}.{m.key}": {"op": m.op, "value": m.target} for m in METRICS if m.op
    }
    report["items"] = [r.row() for r in results]
    report["pr_curve"] = pr_curve(results, meta.get("threshold"))
    if baseline is not None:
        report["baseline"] = {
            **compute_metrics(baseline), "meta": baseline_meta or {},
            "categories": {c: compute_metrics(rs) for c, rs in by_category(baseline).items()},
        }
    return report


def pr_curve(results: Sequence[ItemResult], chosen: float | None) -> dict[str, Any]:
    """Precision and recall of ``answer`` against the threshold, from each item's best span.

    At threshold t an item is answered when its best span's probability is at least t; the
    answer is right when that span holds at least half the item's facts. Recall is over the
    answerable items. (Per-country comparisons are counted by their best span too.)
    """
    scored = [(r.answer.probability, r.best_span_correct(), r.item.answerable) for r in results
              if r.answer.probability is not None and r.best_span_correct() is not None]
    n_ans = sum(r.item.answerable for r in results)
    points = []
    for i in range(2, 99, 2):
        t = i / 100
        answered = [(ok, a) for p, ok, a in scored if p is not None and p >= t]
        right = sum(1 for ok, _ in answered if ok)
        points.append({
            "threshold": t, "answered": len(answered),
            "precision": round(right / len(answered), 4) if answered else 1.0,
            "recall": round(right / n_ans, 4) if n_ans else 0.0,
            "false_answers": sum(1 for _, a in answered if not a),
        })
    return {"threshold": chosen, "points": points}


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


def format_categories(report: dict[str, Any], key: str = "categories") -> str:
    """One row per category: n, then the figures of CATEGORY_COLUMNS ("-" where they do not
    apply: retrieval and fact recall for unanswerable items, false answers for answerable)."""
    cats = report.get(key) or {}
    head = ["category", "n", *(c[2] for c in CATEGORY_COLUMNS)]
    rows = [head]
    for cat, m in cats.items():
        n_ans, n_una = m["abstention"]["n_answerable"], m["abstention"]["n_unanswerable"]
        row = [cat, str(n_ans + n_una)]
        for group, metric, _ in CATEGORY_COLUMNS:
            applies = (n_una if metric == "false_answer_rate" else
                       n_ans + n_una if metric == "accuracy" else n_ans)
            row.append(f"{m[group][metric]:.2f}" if applies else "-")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                       for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(report: dict[str, Any]) -> str:
    """A plain-text table of the metrics, the baseline beside them when there is one."""
    base = report.get("baseline")
    # "target" is the project's goal; the exit code follows only the --min-*/--max-* gates.
    head = ["metric", "ours"] + (["naive", "gap"] if base else []) + ["target", "vs target"]
    rows = [head]
    for m in METRICS:
        ours = float(report[m.group][m.key])
        row = [m.short, m.fmt(ours)]
        if base:
            theirs = float(base[m.group][m.key])
            row += [m.fmt(theirs), m.fmt_gap(ours - theirs)]
        ok = m.passes(ours)
        row += [m.fmt_target(), "" if ok is None else ("met" if ok else "below")]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for i, r in enumerate(rows):
        cells = [c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths,
                                                                                    strict=True))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    meta = report.get("meta", {})
    ab = report["abstention"]
    lines.insert(0, f"{meta.get('n_items', len(report.get('items', [])))} questions "
                    f"({ab['n_answerable']} answerable, {ab['n_unanswerable']} not), "
                    f"mode {meta.get('mode', '?')}, k {meta.get('k', '?')}")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``assistant eval``."""
    def positive(v: str) -> int:
        n = int(v)
        if n < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
        return n

    from assistant.answer.modes import MODE_NAMES

    p.add_argument("--qa", metavar="FILE", action="append",
                   help="Q&A set (JSON lines; any category name; history as earlier questions);"
                        " repeat for several (default: corpus/eval/known_qa.jsonl, user_qa.jsonl "
                        "and blind_qa.jsonl when present)")
    p.add_argument("--pdf-qa", metavar="FILE",
                   help="questions over PDFs from Debian packages: ingest them into a temporary "
                        "index, ask each, report fact recall, page and printed label")
    p.add_argument("--split", choices=["test", "tune", "all"], default="test",
                   help="which part of the set: test (default; nothing is tuned on it), tune, "
                        "or all")
    p.add_argument("--mode", choices=list(MODE_NAMES), default=None)
    p.add_argument("--k", type=positive, default=None, help="passages given to the answer step")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--report", metavar="PATH.html", help="write a readable HTML report")
    p.add_argument("--baseline", choices=["naive"], help="also run a textbook LangChain pipeline")
    p.add_argument("--limit", type=positive, metavar="N", help="only the first N questions")
    for m in METRICS:
        if m.flag:
            p.add_argument("--" + m.flag.replace("_", "-"), type=float, metavar="X",
                           dest=m.flag, help=f"exit 1 unless {m.short} {m.op} X")
    from assistant.eval_drafts import add_arguments as add_draft_arguments

    add_draft_arguments(p)


DEFAULT_SETS = ("known_qa.jsonl", "user_qa.jsonl", "blind_qa.jsonl")


def default_sets(settings: Settings) -> list[Path]:
    """The bundled Q&A sets: the known set, the set written the way users ask, and the blind
    set written by someone who saw neither the code nor the other sets (test part only)."""
    folder = settings.corpus_path / "eval"
    return [folder / n for n in DEFAULT_SETS if (folder / n).exists()] or [
        folder / "known_qa.jsonl"]


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval``: run the set, print the summary, write the reports, check thresholds."""
    if getattr(args, "drafts", False):
        from assistant.eval_drafts import run_cli as run_drafts

        return run_drafts(args, settings)
    if getattr(args, "pdf_qa", None):
        from assistant.eval_pdf import run_cli as run_pdf

        return run_pdf(args, settings)
    from tqdm import tqdm

    from assistant.answer import Assistant

    qa_paths = [Path(q) for q in (getattr(args, "qa", None) or [])] or default_sets(settings)
    items: list[QAItem] = []
    for qa_path in qa_paths:
        items.extend(load_qa(qa_path, settings))
    ids = [it.id for it in items]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"Item ids repeat across the Q&A files: {', '.join(dup[:5])}")
    split = getattr(args, "split", "all") or "all"
    items = select_split(items, split)
    if getattr(args, "limit", None):
        items = items[: args.limit]
    if not items:
        raise InputError(f"No item of the Q&A set is in the {split} part; use --split all")
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    mode, k = getattr(args, "mode", None) or settings.mode, settings.k

    def bar(desc: str) -> Callable[[Iterable[QAItem]], Iterable[QAItem]]:
        return lambda it: tqdm(it, desc=desc, total=len(items), unit="q", file=sys.stderr)

    results = run_items(items, assistant, mode, k, progress=bar("Evaluating"))
    meta = {
        "qa_files": [str(q) for q in qa_paths],
        "split": split,
        "n_items": len(items),
        "mode": mode,
        "k": k,
        "threshold": getattr(assistant, "threshold", None),
        "corpus_fingerprint": assistant.index.fingerprint(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings.public_dict(),
    }
    base_results = base_meta = None
    if getattr(args, "baseline", None) == "naive":
        naive = NaiveBaseline(settings, embeddings=assistant.index.embeddings)
        try:
            base_results = run_items(items, naive, progress=bar("Naive baseline"))
        finally:
            naive.close()
        base_meta = {"name": "naive", "chunks": naive.chunks,
                     "pipeline": "RecursiveCharacterTextSplitter(1000, 200) + Chroma dense top-4; "
                                 "answer = top passage"}
    report = build_report(results, meta, base_results, base_meta)
    print(format_summary(report))
    print()
    print(format_categories(report))
    if base_results is not None:
        print("\nnaive baseline, by category:")
        print(format_categories(report["baseline"]))
    if getattr(args, "json", None):
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"JSON report: {out}")
    if getattr(args, "report", None):
        from assistant.report import write_html

        write_html(report, Path(args.report))
        print(f"HTML report: {args.report}")
    thresholds = {m.flag: getattr(args, m.flag, None) for m in METRICS if m.flag}
    missed = check_thresholds(report, thresholds)
    for msg in missed:
        print(f"threshold missed: {msg}")
    return 1 if missed else 0
