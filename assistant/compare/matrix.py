"""A comparison matrix: each topic read in each country's documents, one cited cell each.

A cell is the chat's answer step filtered to the country (``cells.read_topic``: the same
question reading, retrieval, ranker and answer model), so every improvement of that step
reaches the cells; only the decision is the cell's own (``cells.choose``: status from the
answer model's calibrated probability, one or two quotes that state a position). In the llm
and verify modes a cell is that mode's answer, its outcome deciding the status (``cell_of``).

Every quote is checked again here: a quote whose passage is from another country's document,
or that is not found verbatim in its passage, never lands in a cell; each one dropped is
counted (``Matrix.dropped``). A quote from the questionnaire printed in a report's appendix, or
one that is a question or an instruction to respondents, is left out too: it states no
position. Markers are numbered across the whole matrix, in reading order, so the table and its
reference list share one numbering.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assistant.compare.cells import (
    QUESTIONNAIRE,
    Reading,
    Rule,
    choose,
    citation,
    read_topic,
    states_a_position,
)
from assistant.compare.topics import Topic
from assistant.errors import InputError
from assistant.types import COUNTRIES, Answer, Citation, ScoredPassage, format_reference

if TYPE_CHECKING:
    from assistant.answer import Assistant

ADDRESSED = "addressed"
NOT_ADDRESSED = "not addressed"
MAX_QUOTES = 2  # quotes in an addressed cell
COUNTRY_ORDER = ("AM", "GE", "EU")
EXCERPT_CHARS = 300  # a closest passage without sentence scores is shown up to this length

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Cell:
    """What one country's documents say on one topic."""

    country: str
    status: str  # ADDRESSED | NOT_ADDRESSED
    quotes: tuple[Citation, ...] = ()  # verbatim, verified, from this country's documents
    closest: tuple[Citation, ...] = ()  # not addressed: the closest passage's best sentence
    outcome: str = ""  # the answer step's outcome: answer | evidence | none
    dropped_country: int = 0  # quotes dropped: their passage is another country's
    dropped_unverified: int = 0  # quotes dropped: not found verbatim in their passage

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.quotes + self.closest

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "quotes": [quote_dict(c) for c in self.quotes],
                "closest": [quote_dict(c) for c in self.closest]}


@dataclass(frozen=True)
class Row:
    topic: Topic
    cells: dict[str, Cell]

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic.label,
                "cells": {c: cell.to_dict() for c, cell in self.cells.items()}}


@dataclass
class Matrix:
    """Topics × countries, every quote numbered once across the table."""

    countries: tuple[str, ...]
    rows: list[Row]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def citations(self) -> list[Citation]:
        """Every numbered quote and closest passage, in number order (the reference list)."""
        return sorted((c for r in self.rows for cell in r.cells.values() for c in cell.citations),
                      key=lambda c: c.n)

    @property
    def dropped(self) -> dict[str, int]:
        cells = [cell for r in self.rows for cell in r.cells.values()]
        return {"wrong_country": sum(c.dropped_country for c in cells),
                "unverified": sum(c.dropped_unverified for c in cells)}

    def to_dict(self) -> dict[str, Any]:
        return {"countries": list(self.countries), "rows": [r.to_dict() for r in self.rows]}


def quote_dict(c: Citation) -> dict[str, Any]:
    """One quote as the JSON shows it: the issue's fields, then its marker and reference."""
    p = c.passage
    return {"quote": c.quote, "doc_id": p.doc_id, "country": p.country, "section": p.section,
            "page": c.page, "verified": c.verified, "n": c.n,
            "reference": format_reference(c), "passage_id": p.id}


# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------
def indexed_countries(assistant: Assistant) -> list[str]:
    """Countries with at least one indexed document, in table order."""
    present = {p.country for p in assistant.retriever.lexicon().passages}
    return [c for c in COUNTRY_ORDER if c in present] + sorted(
        present - set(COUNTRY_ORDER) - {"XX"})


def parse_countries(text: str | Sequence[str]) -> list[str]:
    """ "AM,GE" or ["AM", "GE"] -> ["AM", "GE"] (upper case, repeats once)."""
    parts = text.split(",") if isinstance(text, str) else [x for t in text for x in t.split(",")]
    out = [p.strip().upper() for p in parts if p.strip()]
    return list(dict.fromkeys(out))


def check_countries(assistant: Assistant, countries: Sequence[str]) -> list[str]:
    """The countries, each with an indexed document; else InputError saying how to add one."""
    if not countries:
        raise InputError("No country to compare: choose at least one (AM, GE, or EU once the "
                         "Recommendation is indexed).")
    unknown = [c for c in countries if c not in COUNTRIES or c == "XX"]
    if unknown:
        raise InputError(f"Unknown country {', '.join(unknown)}; use AM, GE or EU.")
    present = set(indexed_countries(assistant))
    for c in countries:
        if c in present:
            continue
        missing = [d for d, ok in assistant.coverage() if d.country == c and not ok]
        how = "; ".join(
            f"to add the {d.title}, " + (f"run `assistant corpus fetch {d.id}`" if d.urls else
                                         f"save its official text as corpus/{d.path}")
            for d in missing)
        how = (f"{how}, then run `assistant ingest`" if how else
               "add one of its documents on the page's Corpus tab (it takes the country)")
        raise InputError(f"No document from the {COUNTRIES[c]} ({c}) is indexed, so {c} cannot "
                         f"be a column: {how}.")
    return list(countries)


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------
def outcome_of(answer: Answer) -> str:
    """The answer step's outcome; before outcomes existed, ``abstained`` decides."""
    outcome = getattr(answer, "outcome", None)
    if outcome in {"answer", "evidence", "none"}:
        return str(outcome)
    return "none" if answer.abstained else "answer"


def _own(citations: Sequence[Citation], country: str, positions: bool = True,
         ) -> tuple[list[Citation], int, int]:
    """The citations from ``country``'s documents found verbatim; and how many were dropped.

    The questionnaire printed in a report's appendix is never quoted; with ``positions``, nor is
    a quote that states no position (a question, an instruction to respondents, an option).
    """
    from assistant.answer import verify_quote

    kept, wrong, unverified = [], 0, 0
    for c in citations:
        if c.passage.country != country:
            wrong += 1
        elif QUESTIONNAIRE.search(c.passage.section) or positions and not states_a_position(
                c.quote, [c.quote], c.passage.section):
            continue  # a blank form's question or answer option states no position
        elif not (c.quote.strip() and verify_quote(c.quote, c.passage)):
            unverified += 1
        else:
            kept.append(replace(c, verified=True))
    return kept, wrong, unverified


def _excerpt(sp: ScoredPassage) -> Citation:
    """The closest passage as a quote: its closest statement, or its opening words."""
    from assistant.answer.spans import is_statement

    p = sp.passage
    if sp.sentences:  # the closest sentence that states something (not a heading or caption)
        stated = [x for x in sp.sentences if is_statement(p.text[x[0]:x[1]])]
        s, e, _ = max(stated or sp.sentences, key=lambda x: x[2])
        text = p.text[s:e].strip()
    else:
        text = p.text.strip()
        if len(text) > EXCERPT_CHARS:
            cut = text.rfind(" ", 0, EXCERPT_CHARS)
            text = text[: cut if cut > 0 else EXCERPT_CHARS]
    return Citation(n=0, passage=p, quote=text or p.text, verified=True)


def cell_of(answer: Answer, country: str, max_quotes: int = MAX_QUOTES) -> Cell:
    """One cell from one answer filtered to ``country`` (the llm and verify modes)."""
    outcome = outcome_of(answer)
    quotes, wrong, unverified = _own(answer.citations, country)
    if outcome == "answer" and quotes:
        return Cell(country, ADDRESSED, quotes=tuple(quotes[:max_quotes]), outcome=outcome,
                    dropped_country=wrong, dropped_unverified=unverified)
    # Not addressed: an evidence outcome's highlighted quote, else the closest passage.
    return _not_addressed(country, outcome, quotes[:1], answer.passages, wrong, unverified)


def _not_addressed(country: str, outcome: str, closest: list[Citation],
                   passages: Sequence[ScoredPassage], wrong: int, unverified: int) -> Cell:
    if not closest:  # every passage's excerpt is checked, so a stray one is counted too
        closest, w, u = _own([_excerpt(sp) for sp in passages], country, positions=False)
        wrong, unverified = wrong + w, unverified + u
    return Cell(country, NOT_ADDRESSED, closest=tuple(closest[:1]), outcome=outcome,
                dropped_country=wrong, dropped_unverified=unverified)


def cell_from(reading: Reading, rule: Rule) -> Cell:
    """One cell from the answer step's reading of a topic in one country (extractive)."""
    chosen, near = choose(reading, rule)
    country = reading.country
    quotes, wrong, unverified = _own([citation(c) for c in chosen], country)
    # A passage of another country that the country filter let through is counted here (its
    # spans never reach the cell: ``choose`` reads the cell's own country only).
    wrong += sum(sp.passage.country != country for sp in reading.retrieval.passages)
    if quotes:
        return Cell(country, ADDRESSED, quotes=tuple(quotes), outcome="answer",
                    dropped_country=wrong, dropped_unverified=unverified)
    closest, w, u = _own([citation(near)] if near else [], country, positions=False)
    outcome = "evidence" if reading.scored else "none"
    return _not_addressed(country, outcome, closest, reading.retrieval.passages,
                          wrong + w, unverified + u)


def cell_rule(bot: Assistant) -> Rule:
    """The cell decision of ``bot``'s settings: the answer threshold less the cells' margin."""
    return Rule(max(0.0, bot.threshold - bot.settings.compare_threshold_margin), MAX_QUOTES)


def _numbered(rows: list[Row]) -> list[Row]:
    """Rows with every quote numbered once, in reading order (row, country, quotes, closest)."""
    n = 0
    out = []
    for r in rows:
        cells = {}
        for c, cell in r.cells.items():
            quotes: list[Citation] = []
            closest: list[Citation] = []
            for group, target in ((cell.quotes, quotes), (cell.closest, closest)):
                for q in group:
                    n += 1
                    target.append(replace(q, n=n))
            cells[c] = replace(cell, quotes=tuple(quotes), closest=tuple(closest))
        out.append(Row(r.topic, cells))
    return out


# --------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------
def compare(
    assistant: Assistant,
    topics: Sequence[Topic],
    countries: Sequence[str],
    progress: Progress | None = None,
    mode: str | None = None,
) -> Matrix:
    """Ask every topic of every country's documents; the matrix of cited cells.

    The cells are read by a shallow copy of the assistant whose retriever remembers query
    vectors (a topic is embedded once for every country). In the extractive mode (the default)
    each cell is the answer step's reading of the topic filtered to the country, decided by
    :func:`cell_rule`; in the llm and verify modes it is the mode's answer (``cell_of``), asked
    with the answer threshold ``compare_threshold_margin`` lower.
    """
    from assistant.retrieve.query_vectors import with_query_vectors

    countries = check_countries(assistant, list(countries))
    mode = mode or assistant.settings.mode
    bot = copy.copy(assistant)
    bot.retriever = with_query_vectors(assistant.retriever)
    rule = cell_rule(bot) if mode == "extractive" else None
    if rule is None:  # the mode's own answer: its threshold lowered the same way
        bot.settings = bot.settings.model_copy(update={"answer_threshold": max(
            0.0, bot.threshold - bot.settings.compare_threshold_margin)})
    t0 = time.perf_counter()
    total = len(topics) * len(countries)
    rows: list[Row] = []
    done = 0
    for topic in topics:
        cells: dict[str, Cell] = {}
        for c in countries:
            if rule is not None:
                cells[c] = cell_from(read_topic(bot, topic.search, c), rule)
            else:
                answer = bot.ask(topic.search, history=[], filters={"country": [c]}, mode=mode)
                cells[c] = cell_of(answer, c)
            done += 1
            if progress:
                progress(done, total, f"{topic.label} · {c}")
        rows.append(Row(topic, cells))
    matrix = Matrix(tuple(countries), _numbered(rows))
    matrix.timings_ms["total_ms"] = (time.perf_counter() - t0) * 1000
    for r in matrix.rows:  # the guarantee, asserted: no quote from another country's document
        for c, cell in r.cells.items():
            assert all(q.passage.country == c for q in cell.citations), (r.topic, c)
    return matrix
