"""Extractive answers: score every sentence of the evidence passages, quote the best verbatim.

A sentence's score is half lexical coverage of the question's terms (IDF-weighted; a term is
covered by itself or by one of its equivalents: a synonym from ``corpus/synonyms.toml`` or a
corpus word the embedding model puts next to it) and half the sentence's embedding similarity
to the question, then adjusted: it must state what the question asks (a figure for "how many",
a date for "when"…), a heading, a questionnaire option or a bare fragment is never a candidate,
and a question about one country marks the other country's sentences down.

Every constant of this step is named here, in one place, with what it does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.questions import QuestionInfo
from assistant.retrieve.hybrid import Retrieval
from assistant.text import display, sentence_spans, tokens
from assistant.types import ScoredPassage

# -- the constants of the extractive step -----------------------------------------------------
LEXICAL_SHARE = 0.5  # weight of lexical coverage; the rest is embedding similarity
OTHER_LANGUAGE_TERM_SHARE = 0.1  # a question in another language: weight of the words it shares
EQUIVALENT_CREDIT = 0.8  # a term covered only by a synonym / neighbour counts this much
CONTEXT_CREDIT = 0.5  # a term found only in the passage's title or section counts this much
SLOT_BONUS = 0.08  # a sentence holding the asked kind of value (figure, date…) gains this
SLOT_PENALTY = 0.08  # …and one without it loses this
FRAGMENT_PENALTY = 0.15  # a bare list item that names a thing without saying anything
LONG_UNIT_CHARS = 600  # units longer than this (tables run together) are poor quotes
LONG_UNIT_PENALTY = 0.1
PAIR_PENALTY = 0.03  # two adjacent sentences quoted together must earn it
PAIR_MAX_CHARS = 500
RANK_BONUS = 0.04  # divided by the passage's rank: a tie goes to the better-ranked passage
COUNTRY_BIAS = 0.2  # a question about one country marks the other country's sentences down
RELATIVE_FLOOR = 0.9  # further sentences must score at least this share of the best one
UNKNOWN_TERM_MARGIN = 0.1  # extra floor when the question uses words the corpus never uses
COMPARISON_FLOOR_SHARE = 0.8  # in a comparison, each country's best sentence may stand this
COMPARISON_BEST_SHARE = 0.6  # …far below the floor, and this far below the overall best
SIMILAR_JACCARD = 0.6  # two quotes sharing this share of words repeat each other
LABEL_MAX_WORDS = 16  # fewer words than this, no figure, no closing punctuation: a label

_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
_BULLET = re.compile(r"^(?:[-*•✓☐▪◦]\s*)+")
_ENUMERATOR = re.compile(r"^\W*(?:\d{1,3}|[a-zA-Z])[.)]\s+")
_CAPTION = re.compile(r"^\W*(Diagram|Table|Figure|Chart|Graph|Annex|Appendix)\s*\d", re.I)
_OPTION = re.compile(r"^\s*(?:[-*•✓☐▪◦]|\[[ xX]?\])")


def is_statement(raw: str) -> bool:
    """Can this unit be an answer? Headings, captions, questionnaire options, questions and
    fragments of a few words cannot: they name a subject without saying anything about it."""
    text = display(raw)
    stripped = raw.strip()
    if len(text) < 12 or text.endswith("?") or stripped.startswith("#"):
        return False
    if re.fullmatch(r"<?https?://\S+>?", text) or _CAPTION.match(text):
        return False
    body = _ENUMERATOR.sub("", _BULLET.sub("", text))
    n_words = len(body.split())
    has_digit = bool(re.search(r"\d", _LIST_NUMBER.sub(" ", body)))
    # A line that is bold from end to end is a label or a heading, unless it states a figure.
    if re.fullmatch(r"\W*\*\*[^*]+\*\*\W*", stripped) and not (has_digit and n_words >= 3):
        return False
    # A checkbox or bullet option of a few words ("✓ learning outcomes").
    if _OPTION.match(stripped) and n_words < 6 and not has_digit:
        return False
    # A questionnaire item ("Do you have a register…? (multiple answers possible)") or its
    # instruction to the respondent ("Please provide links…", "If yes, specify…").
    if "?" in text or re.match(r"\W*(please|if (yes|no|so|other)\b)", body, re.I):
        return False
    # A contents line: a title with its page number glued on ("…micro-credentials23"); a list
    # introduction cut at its first item number ("…had two purposes: 1.").
    if re.search(r"[a-z]\d{1,3}$|(?:[:,;]|\band)\s*\(?\d{1,3}[.)]$", text):
        return False
    # A label or a heading: words with no closing punctuation ("Authorized body for
    # recognition", "The main challenges for higher education institutions in …").
    if n_words < LABEL_MAX_WORDS and not has_digit and not re.search(r"[.!:;)\]]\W*$", text):
        return False
    return n_words >= 4 or has_digit and n_words >= 2


@dataclass(frozen=True)
class Candidate:
    """A sentence (or two adjacent ones) of a retrieved passage that may answer the question."""

    sp: ScoredPassage
    start: int
    end: int
    score: float

    @property
    def raw(self) -> str:
        return self.sp.passage.text[self.start : self.end]

    @property
    def quote(self) -> str:
        """The quoted text as the reader sees it: markup and a leading bullet dropped."""
        return _BULLET.sub("", display(self.raw))

    @property
    def country(self) -> str:
        return self.sp.passage.country

    def overlaps(self, other: Candidate) -> bool:
        """Do the two quotes share text of the same document (chunks overlap, windows too)?"""
        a, b = self.sp.passage, other.sp.passage
        if a.doc_id != b.doc_id:
            return False
        a_start, a_end = a.start + self.start, a.start + self.end
        return a_start < b.start + other.end and b.start + other.start < a_end

    def with_list(self, limit: int = 700) -> Candidate:
        """A sentence that introduces a list ("…the following challenges:") keeps its items."""
        text = self.sp.passage.text
        span = display(text[self.start : self.end])
        if not (span.endswith(":") or re.search(r":\s*\n", text[self.start : self.end])):
            return self
        end = self.end
        for m in re.finditer(r"\n[ \t]*(?:[-*•✓☐]|\d{1,3}[.)]|[a-z][.)])[^\n]*", text[self.end :]):
            stop = self.end + m.end()
            if stop - self.start > limit or text[end : self.end + m.start()].count("\n") > 2:
                break
            end = stop
        return Candidate(self.sp, self.start, end, self.score)


def uses_words(q: QuestionInfo, retrieval: Retrieval) -> bool:
    """Is the question matched word for word (English with corpus words), or by meaning only?"""
    return q.lang == "en" and bool(retrieval.terms.weights)


def _covered(term: str, equivalents: frozenset[str], words: set[str]) -> float:
    if term in words:
        return 1.0
    return EQUIVALENT_CREDIT if equivalents & words else 0.0


def extractive_candidates(q: QuestionInfo, retrieval: Retrieval) -> list[Candidate]:
    """Score every statement of the evidence passages by how well it answers the question."""
    terms = retrieval.terms
    weights = terms.weights
    total = (sum(weights.values()) + terms.typical_weight * len(terms.unknown)) or 1.0
    lexical = uses_words(q, retrieval)
    asked_country = q.asked_country

    def score_span(sp: ScoredPassage, s: int, e: int, sim: float, ctx: set[str]) -> float:
        raw = sp.passage.text[s:e]
        words = set(tokens(raw))
        cov = 0.0
        for t, w in weights.items():
            eq = terms.equivalents.get(t, frozenset())
            got = _covered(t, eq, words)
            if not got and (t in ctx or eq & ctx):
                got = CONTEXT_CREDIT
            cov += w * got
        if lexical:
            score = LEXICAL_SHARE * cov / total + (1 - LEXICAL_SHARE) * sim
        else:
            # A question in another language: its meaning carries the score; the few words it
            # shares with the English text (figures, acronyms such as ECTS) add a little.
            score = sim + OTHER_LANGUAGE_TERM_SHARE * cov / total
        body = _ENUMERATOR.sub("", display(raw))
        if q.slot is not None:
            score += SLOT_BONUS if q.slot.filled_by(body) else -SLOT_PENALTY
        # A bare list item ("7. Tbilisi State University") names a thing; it says nothing.
        if _ENUMERATOR.match(display(raw)) and len(body) < 80 and not re.search(r"\d", body):
            score -= FRAGMENT_PENALTY
        if e - s > LONG_UNIT_CHARS:
            score -= LONG_UNIT_PENALTY
        if asked_country and sp.passage.country in {"AM", "GE"} - {asked_country}:
            score -= COUNTRY_BIAS
        return score + RANK_BONUS / max(sp.rank, 1)

    cands: list[Candidate] = []
    for sp in retrieval.passages:
        if not sp.evidence:
            continue
        p = sp.passage
        ctx = set(tokens(f"{p.title} {p.section}"))
        spans = sp.sentences or tuple((s, e, 0.0) for s, e in sentence_spans(p.text))
        units = [u for u in spans if is_statement(p.text[u[0] : u[1]])]
        for i, (s, e, sim) in enumerate(units):
            cands.append(Candidate(sp, s, e, score_span(sp, s, e, sim, ctx)))
            # A sentence and the next one, when together they answer better: the second often
            # carries the figure ("These are professional courses with duration of one year").
            if i + 1 < len(units) and p.text[e : units[i + 1][0]].count("\n") <= 2:
                s2, e2, sim2 = units[i + 1]
                if e2 - s <= PAIR_MAX_CHARS:
                    pair = score_span(sp, s, e2, max(sim, sim2), ctx) - PAIR_PENALTY
                    cands.append(Candidate(sp, s, e2, pair))
    return sorted(cands, key=lambda c: -c.score)


def similar(a: str, b: str) -> bool:
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return a == b
    return len(ta & tb) / len(ta | tb) >= SIMILAR_JACCARD


def choose_sentences(
    q: QuestionInfo, cands: Sequence[Candidate], floor: float, max_sentences: int
) -> list[Candidate]:
    """The best sentences: above the floor, not repeating each other, each country if asked.

    In a comparison, once one sentence clears the floor, the best sentence of each country's
    documents may stand a little below it (so the answer can speak for both countries).
    """
    good = [c for c in cands if c.score >= floor]
    if not good:
        return []
    best = good[0].score
    chosen: list[Candidate] = []

    def repeats(c: Candidate) -> bool:
        return any(c.overlaps(o) or similar(c.quote, o.quote) for o in chosen)

    if q.both_countries:
        seen: set[str] = set()
        for c in cands:
            key = c.country if c.country in {"AM", "GE"} else c.sp.passage.doc_id
            if key in seen or repeats(c):
                continue
            if c.score >= max(COMPARISON_FLOOR_SHARE * floor, COMPARISON_BEST_SHARE * best):
                chosen.append(c)
                seen.add(key)
    limit = max(max_sentences, len(chosen))
    for c in good:
        if len(chosen) >= limit or c.score < best * RELATIVE_FLOOR:
            break
        if not repeats(c):
            chosen.append(c)
    return chosen
