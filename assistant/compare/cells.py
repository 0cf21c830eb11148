"""One cell of a comparison: a topic read in one country's documents, its status and quotes.

The reading is the chat's extractive answer step up to its decision: the question read
(``Assistant.read_question``), retrieval filtered to the country, the abstention rules, and
every span of the evidence passages with the answer model's calibrated probability
(``Assistant.read``). Only the decision differs from the chat's, because a cell asks another
question ("do this country's documents address the topic?", not "which one span answers?"):

- A candidate must state a position: a span of the questionnaire printed in a report's
  appendix, or one that holds a question, an instruction to respondents ("Please indicate…")
  or only answer options, is never a cell's quote, however high it scores.
- Status: *addressed* when the best candidate reaches the cell threshold (the answer model's
  threshold less ``compare_threshold_margin``); otherwise *not addressed*, with the best
  candidate sentence shown as the closest passage.
- Quotes: the best candidate, and the next one that does not overlap it when that one reaches
  the cell threshold too (a topic's facts are often two sentences apart).

The margin, and one or two quotes, were chosen on the tune part of the gold matrix only
(``scripts/tune_compare.py``; the sweep is in the branch notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.answer.spans import DOT_LEADER, INSTRUCTION, QUESTIONNAIRE, is_statement
from assistant.text import display, normalize
from assistant.types import Citation

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.answer.abstain import Abstention
    from assistant.answer.scorer import ScoredSpan
    from assistant.retrieve.hybrid import Retrieval


@dataclass(frozen=True)
class Reading:
    """What the answer step read for one topic in one country's documents."""

    country: str
    retrieval: Retrieval
    scored: tuple[ScoredSpan, ...]  # every span of the evidence passages, best first
    stop: Abstention | None = None  # an abstention rule that held before any span was read


@dataclass(frozen=True)
class Rule:
    """The cell decision: the probability every quote needs, and how many quotes at most."""

    threshold: float  # the best candidate reaches this: the cell is addressed
    max_quotes: int = 2  # further non-overlapping candidates that reach it are quoted too


def read_topic(bot: Assistant, question: str, country: str) -> Reading:
    """The answer step's reading of ``question`` in ``country``'s documents, undecided."""
    from assistant.answer import abstain, check_question

    info = bot.read_question(check_question(question, bot.settings))
    retrieval = bot.retriever.retrieve(info.standalone, {"country": [country]})
    stop = abstain.before_answering(info, retrieval)
    scored = () if stop else tuple(bot.read(info, retrieval))
    return Reading(country, retrieval, scored, stop)


def states_a_position(span_text: str, units: Sequence[str], section: str) -> bool:
    """Can this span be a country's position? Not a questionnaire's text, no question, no
    instruction to respondents, not a lead-in without what it leads in to ("…the following:"),
    not a contents line, and its first unit says something (not a heading or option)."""
    if QUESTIONNAIRE.search(section) or not units:
        return False
    shown = display(span_text).strip()
    if "?" in shown or shown.endswith(":") or DOT_LEADER.search(shown):
        return False
    if any(INSTRUCTION.match(display(u)) for u in units):
        return False
    return is_statement(units[0])


def positions(reading: Reading) -> list[ScoredSpan]:
    """The reading's candidates that state a position, from the cell's country, best first."""
    out = []
    for c in reading.scored:
        span = c.span
        text = span.sp.passage.text
        units = [text[s:e] for s, e in span.units]
        if span.country == reading.country and states_a_position(
                span.raw, units, span.sp.passage.section):
            out.append(c)
    return out


def _overlaps(a: ScoredSpan, b: ScoredSpan) -> bool:
    """The same text twice: overlapping offsets of one passage, or one span's text inside the
    other's in another passage (neighbouring chunks share their edges; a trial saw one cell
    quote a sentence twice)."""
    x, y = a.span, b.span
    if x.sp.passage.id == y.sp.passage.id:
        return x.start < y.end and y.start < x.end
    nx, ny = normalize(x.raw), normalize(y.raw)
    return bool(nx) and bool(ny) and (nx in ny or ny in nx)


def choose(reading: Reading, rule: Rule) -> tuple[list[ScoredSpan], ScoredSpan | None]:
    """(quotes, closest): the addressed cell's quotes, or no quotes and the closest sentence."""
    cands = positions(reading)
    if cands and cands[0].probability >= rule.threshold:
        chosen = [cands[0]]
        for c in cands[1:]:
            if len(chosen) >= rule.max_quotes or c.probability < rule.threshold:
                break
            if not any(_overlaps(c, q) for q in chosen):
                chosen.append(c)
        return chosen, None
    sentences = [c for c in cands if c.span.kind == "sentence"]
    nearest = sentences or cands
    return [], nearest[0] if nearest else None


def citation(c: ScoredSpan) -> Citation:
    return Citation(n=0, passage=c.span.sp.passage, quote=c.span.quote, verified=True,
                    shown=c.span.shown)
