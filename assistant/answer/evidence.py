"""What an ``evidence`` outcome shows: the closest passage with its best sentences highlighted;
for a question about both countries, each country's closest passage, chosen among that
country's passages only (issue 16, item 4).

Pure functions over the scored spans of one question: every highlighted quote is verified
verbatim in the passage it is shown in, and a country's line only ever quotes that country's
documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from assistant.answer.questions import COUNTRY_NAMES
from assistant.answer.scorer import ScoredSpan
from assistant.answer.spans import is_statement
from assistant.safety import instruction_like
from assistant.text import normalize
from assistant.types import Citation, Passage, ScoredPassage

EVIDENCE_HIGHLIGHTS = 2  # sentences highlighted in the closest passage of an evidence outcome
COUNTRY_HIGHLIGHTS = 1  # per country in a comparison: the same two quotes, one per country
EVIDENCE_CARDS = 3  # passage cards an evidence outcome shows
# a passage none of whose sentences could be highlighted (none verified verbatim, or only
# headings): a trial saw no quote and no reason
UNQUOTABLE = "no single sentence of it could be quoted and checked word for word"
COMPARED = ("AM", "GE")  # the countries a comparison answers for (types.COUNTRIES: names)

Verify = Callable[[str, Passage], bool]  # is the quote found verbatim in the passage?


def not_evidence(sp: ScoredPassage) -> ScoredPassage:
    """The passage as shown with a declined answer: marked as not an answer."""
    return replace(sp, evidence=False)


def highlights(top: Passage, scored: Iterable[ScoredSpan], verify: Verify, first_n: int = 1,
               limit: int = EVIDENCE_HIGHLIGHTS) -> list[Citation]:
    """The best sentences of ``top`` among the scored spans, verified verbatim, numbered from
    ``first_n``. A heading is no evidence, nor the document's apparatus (a reference entry, a
    contents line, the questionnaire's form: ``spans.apparatus``), and text that addresses the
    assistant is never shown as if it were a finding (issue 18)."""
    out: list[Citation] = []
    for c in scored:
        if len(out) == limit:
            break
        quote = c.span.quote
        if c.span.sp.passage.id != top.id or c.span.kind != "sentence":
            continue
        if not is_statement(quote) or c.span.apparatus or instruction_like(quote):
            continue
        if any(h.quote == quote for h in out) or not verify(quote, top):
            continue
        out.append(Citation(first_n + len(out), top, quote, True, c.span.shown))
    return out


def what_documents_say(scored: Iterable[ScoredSpan]) -> list[ScoredSpan]:
    """The spans that can be an answer or evidence: none whose unit is the document's
    apparatus (a reference entry, a URL line, a contents line, a heading, the questionnaire's
    form), however high it scores; a trial showed "Council of the European Union." from a
    reference list as the closest passage."""
    return [c for c in scored if c.span.apparatus is None]


def country_best(scored: Sequence[ScoredSpan], code: str) -> ScoredSpan | None:
    """The best span of ``code``'s passages (the spans are in order of probability)."""
    return next((c for c in scored if c.span.country == code), None)


def has_country_spans(scored: Sequence[ScoredSpan]) -> bool:
    return any(c.span.country in COMPARED for c in scored)


@dataclass(frozen=True)
class CountryEvidence:
    """The lines, highlighted quotes and passages that show countries' closest evidence."""

    lines: list[str]
    highlights: list[Citation]
    passages: list[ScoredPassage]  # each shown country's closest passage, in line order


def country_evidence(
    scored: Sequence[ScoredSpan], countries: Sequence[str], verify: Verify,
    answered: Sequence[Citation] = (),
) -> CountryEvidence:
    """For each country: its closest passage (the passage of its best span) and that passage's
    best sentence, on a line "Armenia — closest passage: “…” [n]"; a country with no span
    among the evidence gets a plain line that its documents do not discuss it. ``answered``:
    the citations of the countries answered; these lines then say they may not answer the
    question, and number on after them."""
    label = ("closest passage, which may not answer the exact question" if answered
             else "closest passage")
    lines: list[str] = []
    shown: list[Citation] = []
    passages: list[ScoredPassage] = []
    first_n = len(answered) + 1
    for code in countries:
        name = COUNTRY_NAMES[code]
        best = country_best(scored, code)
        if best is None:
            lines.append(f"{name}: no passage of {name}\u2019s indexed documents came close; "
                         "they do not discuss this.")
            continue
        top = best.span.sp
        own = [c for c in scored if c.span.country == code]
        hs = highlights(top.passage, own, verify, first_n + len(shown), COUNTRY_HIGHLIGHTS)
        passages.append(top)
        shown.extend(hs)
        quotes = " ".join(f"\u201c{h.display_quote}\u201d [{h.n}]" for h in hs)
        lines.append(f"{name} \u2014 {label}: {quotes}" if quotes else
                     f"{name} \u2014 {label}: {UNQUOTABLE}; read the passage itself in its "
                     "source card.")
    every = [*answered, *shown]
    if len(every) > 1 and shown and len({normalize(q.quote) for q in every}) == 1:
        # the reports share wording; two identical lines would otherwise look like a mistake
        lines.append("Both reports use the same sentence here.")
    return CountryEvidence(lines, shown, passages)


def shown_passages(first: Sequence[ScoredPassage], retrieval_passages: Sequence[ScoredPassage],
                   cards: int = EVIDENCE_CARDS) -> list[ScoredPassage]:
    """The passages an evidence outcome shows: ``first`` in order, then the closest others, at
    least ``cards`` in all when there are that many; each marked as not an answer."""
    ids = {sp.passage.id for sp in first}
    others = [sp for sp in retrieval_passages if sp.passage.id not in ids]
    out = [*first, *others[: max(0, cards - len(first))]]
    return [not_evidence(sp) for sp in out]
