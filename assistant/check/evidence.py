"""Evidence for a claim: candidate passage sentences found and judged."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assistant.check.facts import DEMONYM, NUMBER_WORDS, STATED, compare, content_tokens, facts
from assistant.check.report import (
    CONTRADICTED,
    COUNTRY_NAME,
    NOT_FOUND,
    PARTLY,
    SUPPORTED,
    Comparison,
    Evidence,
)
from assistant.check.split import BULLET, MIN_CLAIM_TOKENS, VERB_CUE
from assistant.retrieve.filters import Filters
from assistant.retrieve.query_vectors import with_query_vectors
from assistant.text import display, sentence_spans, words
from assistant.types import SECTION_SEP, Passage, ScoredPassage

if TYPE_CHECKING:
    from assistant.answer import Assistant

# Constants chosen on the tuning part of corpus/eval/drafts only (never on the test part).
K = 8  # passages retrieved per claim
TOPIC_SUPPORT = 0.44  # topic score a sentence needs to support a claim
TOPIC_CONTRADICT = 0.5  # topic score at which a sentence with other values contradicts it
CONTRADICT_MARGIN = 0.05  # a contradiction must be this much closer than the best support
SIM_SHARE = 0.4  # share of the topic score that is sentence-embedding cosine (rest: coverage)
FUZZY = 0.6  # credit for a word that shares only its first five letters ("defined"/"definition")
PAIR_PENALTY = 0.03  # two adjacent sentences quoted together score a little lower
# Not tuned: a definition. Two sentences whose content words overlap this much (Jaccard) say
# the same thing, and either is as good evidence as the other (the reports copy sentences).
NEAR_SAME = 0.8


_CLAUSE = re.compile(
    r";\s+|,\s+(?:and|but|while|whereas|although|though)\s+|\s+(?:while|whereas)\s+"
    # "…, and it was answered by 40 schools": "and" before a new subject or a verb
    r"|\s+and\s+(?=(?:it|they|this|these|he|she|was|were|is|are|has|have|had)\s)")
_FIGURE = re.compile(r"\d")


# --------------------------------------------------------------------------------------------
# Scoring passage sentences against a claim
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cand:
    sp: ScoredPassage
    start: int
    end: int
    topic: float

    @property
    def text(self) -> str:
        return self.sp.passage.text[self.start:self.end]

    def evidence(self) -> Evidence:
        from assistant.answer import verify_quote

        quote = BULLET.sub("", display(self.text)).strip()
        return Evidence(self.sp.passage, quote, verify_quote(quote, self.sp.passage), self.topic)


def batched_retriever(assistant: Assistant, texts: list[str]) -> Any:
    """The assistant's retriever with every sentence of the draft embedded in one batch.

    One forward pass for all sentences instead of one per sentence; the retriever is a shallow
    copy (same lexicon), so concurrent checks and questions are not affected.
    """
    texts = list(dict.fromkeys(texts))
    if len(texts) < 2:
        return assistant.retriever
    vectors = assistant.index.embeddings.embed_documents(texts)
    return with_query_vectors(assistant.retriever, dict(zip(texts, vectors, strict=True)))


def retrieve_evidence(assistant: Assistant, claim: str, filters: Filters, k: int = K,
              timings: dict[str, float] | None = None, retriever: Any = None
              ) -> list[ScoredPassage]:
    """The one call into retrieval (adapt here when retrieve() returns a result object)."""
    t = time.perf_counter()
    got: Any = (retriever or assistant.retriever).retrieve(claim, filters, k=k)
    if timings is not None:
        timings["retrieve_ms"] = timings.get("retrieve_ms", 0.0) + (time.perf_counter() - t) * 1e3
    return list(getattr(got, "passages", got))


# Verbs that only say that something was done ("the survey was carried out / conducted / held
# in 2024"): they name no subject, yet are rare in the reports and took most of a claim's
# coverage weight. A closed list, not tuned; "carry" only as "carry out" ("courses carry ECTS
# credits" says something).
_LIGHT_VERB = re.compile(r"\b(?:carr(?:y|ies|ied|ying)\s+out|conduct(?:s|ed|ing)?|"
                         r"perform(?:s|ed|ing)?|undert(?:ake|akes|aken|ook|aking)|held)\b", re.I)


def _topic_tokens(claim: str) -> list[str]:
    claim = _LIGHT_VERB.sub(" ", claim)
    drop = set(DEMONYM.values()) | {"armenia", "georgia"}
    return [t for t in dict.fromkeys(content_tokens(claim))
            if not t.isdigit() and t not in drop and t not in NUMBER_WORDS
            and not re.fullmatch(r"\d+(?:[.,]\d+)*%?", t)]


_FORM = re.compile(r"\b(?:appendix|annex)\b.*\bquestionnaire\b", re.I)
# A reference list cites sources; it states nothing about them ("(2022, March 22).").
_REF_SECTION = re.compile(r"^\W*(?:references?|bibliography|sources|works cited|literature|"
                          r"list of references)\W*$", re.I)
# A bibliography entry outside such a section: "Retrieved April 8, 2024 from", or an
# author-date in brackets ("MICROBOL. (2022, March 22).") on a line without a verb.
_RETRIEVED = re.compile(r"\bretr(?:ie|i|ei)ved?\b[^.]{0,60}\bfrom\b", re.I)
_AUTHOR_DATE = re.compile(r"\((?:19|20)\d\d[a-z]?(?:,\s*[A-Z][a-z]+\.?(?:\s+\d{1,2})?)?\)")
_LEAD_IN = re.compile(r"^[^\n]{10,400}[?:](?:\*\*)?[ \t]*$", re.M)


_LABEL = re.compile(r"^(?:Question\s+N?\s?\d+|[A-Z]?\d{1,3}|[a-zA-Z])[.)]\s+")


@lru_cache(maxsize=50_000)
def _lead_in(text: str, end: int) -> str:
    """The last question or lead-in line ("…answered:") before ``end``, if any."""
    found = _LEAD_IN.findall(text, 0, end)
    return found[-1] if found else ""


@lru_cache(maxsize=50_000)
def _states(unit: str) -> bool:
    """Does a passage sentence state something (not a question, not a blank form option)?"""
    t = _LABEL.sub("", display(unit).lstrip("-*\u2022 "))
    if t.startswith("\u2610") or _RETRIEVED.search(t):
        return False
    if _AUTHOR_DATE.search(t) and not VERB_CUE.search(_AUTHOR_DATE.sub(" ", t).lower()):
        return False
    q, stop = t.find("?"), t.find(". ")
    return q < 0 or (0 <= stop < q)


def _covered(t: str, st: set[str], prefixes: set[str]) -> float:
    """1 when the unit has the token, FUZZY when it has a word of the same 5-letter stem."""
    if t in st:
        return 1.0
    return FUZZY if len(t) >= 5 and t[:5] in prefixes else 0.0


def candidates(assistant: Assistant, claim: str, passages: Sequence[ScoredPassage]
               ) -> list[_Cand]:
    """Sentences (and adjacent pairs) of the passages, by how well they cover the claim."""
    bm = assistant.retriever.lexicon().bm25
    topic = _topic_tokens(claim)
    weights = {t: bm.weight(t) for t in topic}
    total = sum(weights.values()) or 1.0
    out: list[_Cand] = []
    for sp in passages:
        p = sp.passage
        if _FORM.search(p.section) or _REF_SECTION.match(p.section.split(SECTION_SEP)[-1]):
            continue  # a questionnaire asks and offers options; a reference list cites
        base_ctx = set(content_tokens(f"{p.title} {p.section}"))
        ctx = base_ctx
        units = list(sp.sentences or tuple((s, e, 0.0) for s, e in sentence_spans(p.text)))

        def score(s: int, e: int, sim: float, ctx: set[str], p: Passage = p) -> float:
            st = set(content_tokens(p.text[s:e]))
            prefixes = {t[:5] for t in st if len(t) >= 5}
            cov = sum(w * max(_covered(t, st, prefixes), 0.5 if t in ctx else 0.0)
                      for t, w in weights.items())
            return (1 - SIM_SHARE) * cov / total + SIM_SHARE * max(sim, 0.0)

        for i, (s, e, sim) in enumerate(units):
            if e - s < 15 or not _states(p.text[s:e]):
                continue
            # A list item is read with the question or lead-in line it answers.
            lead = _lead_in(p.text, s)
            ctx = base_ctx | set(content_tokens(lead)) if lead else base_ctx
            out.append(_Cand(sp, s, e, score(s, e, sim, ctx)))
            if i + 1 < len(units) and p.text[e:units[i + 1][0]].count("\n") <= 2:
                s2, e2, sim2 = units[i + 1]
                if e2 - s <= 600 and _states(p.text[s:e2]):
                    out.append(_Cand(sp, s, e2, score(s, e2, max(sim, sim2), ctx) - PAIR_PENALTY))
    return sorted(out, key=lambda c: -c.topic)


@dataclass
class _ClauseResult:
    status: str
    best: _Cand | None
    comparisons: list[Comparison]
    also: list[_Cand] = field(default_factory=list)  # more support (another country's)
    missing: list[str] = field(default_factory=list)  # what is not found ("in Georgia")


def judge(claim: str, cands: Sequence[_Cand], known: frozenset[str] = frozenset(),
          prefer: str = "") -> _ClauseResult:
    """Supported, contradicted or not found, from scored candidate sentences.

    The best agreeing sentence supports the claim unless a sentence with other values speaks
    of the subject clearly more closely (by CONTRADICT_MARGIN): then the claim is contradicted.
    The status decided, the same sentence in a document of the ``prefer`` country (the one
    the claim or the draft is about) is quoted instead, when another country's report has it.
    """
    if both_countries(claim):
        return _each_country(claim, cands, known)
    result = _judge(claim, cands, known)
    best = result.best
    if (prefer and best is not None and best.sp.passage.country != prefer
            and result.status in {SUPPORTED, CONTRADICTED}):
        return _same_in(prefer, best, result, claim, cands, known) or result
    return result


# "both countries", "each country", "the two countries", "in both": a claim about Armenia and
# Georgia alike (as is one that names both)
_BOTH = re.compile(r"\b(?:both|each|the\s+two)\s+(?:of\s+the\s+)?(?:partner\s+)?countr(?:y|ies)\b"
                   r"|\bin\s+both\b", re.I)


def both_countries(claim: str) -> bool:
    """Is the claim about both countries (it names both, or says "both countries")?"""
    return len(facts(claim).countries) > 1 or bool(_BOTH.search(claim))


def _as_of(claim: str, country: str) -> str:
    """The claim said of one country: every country word becomes that country's ("Armenia
    and Georgia have …" → "Armenia and Armenia have …"), or the country is added."""
    names = {code: [w for w, c in DEMONYM.items() if c == code] for code in COUNTRY_NAME}
    other = next(code for code in COUNTRY_NAME if code != country)
    swap = dict(zip(names[other], names[country], strict=True))

    def sub(m: re.Match[str]) -> str:
        w = swap[m.group(0).lower()]
        return w.capitalize() if m.group(0)[0].isupper() else w

    said = re.sub(r"\b(?:" + "|".join(swap) + r")\b", sub, claim, flags=re.I)
    return said if facts(said).countries else f"{claim} ({COUNTRY_NAME[country]})"


def _each_country(claim: str, cands: Sequence[_Cand], known: frozenset[str]) -> _ClauseResult:
    """A claim about both countries, judged for each on the sentences about that country: a
    denial in either contradicts it; it is supported when each country's own documents (or
    one sentence naming both) support it, partly supported when only one country's do."""
    whole = _judge(claim, cands, known)
    if (whole.status == SUPPORTED and whole.best is not None
            and len(facts(whole.best.text).countries) > 1):
        return whole  # one sentence states it of both countries
    results: dict[str, _ClauseResult] = {}
    for code in COUNTRY_NAME:
        own = [c for c in cands
               if code in (facts(c.text).countries or {c.sp.passage.country})]
        results[code] = _judge(_as_of(claim, code), own, known)
    contra = [r for r in results.values() if r.status == CONTRADICTED]
    if contra:  # the closer denial of the two, when both countries' documents deny it
        return max(contra, key=lambda r: r.best.topic if r.best else 0.0)
    found = [r for r in results.values() if r.status == SUPPORTED and r.best is not None]
    missing = [f"in {COUNTRY_NAME[code]}" for code, r in results.items()
               if r.status != SUPPORTED]
    if not found:
        return _ClauseResult(NOT_FOUND, cands[0] if cands else None, [])
    also = [r.best for r in found[1:] if r.best is not None and r.best is not found[0].best]
    return _ClauseResult(PARTLY if missing else SUPPORTED, found[0].best, [], also, missing)


def _same_in(country: str, best: _Cand, result: _ClauseResult, claim: str,
             cands: Sequence[_Cand], known: frozenset[str]) -> _ClauseResult | None:
    """The chosen sentence as a document of ``country`` states it, with the same verdict."""
    least = TOPIC_SUPPORT if result.status == SUPPORTED else TOPIC_CONTRADICT
    for c in cands:
        if c.topic < least:
            break
        if c.sp.passage.country != country or not near_same(c.text, best.text):
            continue
        v = compare(claim, c.text, c.sp.passage, known)
        if result.status == SUPPORTED and v.agrees:
            return _ClauseResult(SUPPORTED, c, [])
        if result.status == CONTRADICTED and v.mismatches:
            return _ClauseResult(CONTRADICTED, c, v.mismatches)
    return None


def near_same(a: str, b: str) -> bool:
    """Do two sentences say the same thing in (nearly) the same words?"""
    ta, tb = set(content_tokens(a)), set(content_tokens(b))
    return bool(ta | tb) and len(ta & tb) / len(ta | tb) >= NEAR_SAME


def _judge(claim: str, cands: Sequence[_Cand], known: frozenset[str]) -> _ClauseResult:
    agree: _Cand | None = None
    contra: tuple[_Cand, list[Comparison]] | None = None
    denial: tuple[_Cand, list[Comparison]] | None = None
    for c in cands:
        if c.topic < min(TOPIC_SUPPORT, TOPIC_CONTRADICT) or (agree and contra and denial):
            break
        v = compare(claim, c.text, c.sp.passage, known)
        if v.agrees and agree is None and c.topic >= TOPIC_SUPPORT:
            agree = c
        elif v.mismatches and c.topic >= TOPIC_CONTRADICT:
            contra = contra or (c, v.mismatches)
            if denial is None and _denies(v.mismatches):
                # looked for past the first contradiction: a country clash met first must
                # not keep the document's denial out
                denial = (c, v.mismatches)
    # A sentence that denies what the claim states outweighs one that only shares its subject
    # unless that one is clearly closer; other contradictions (a claim that negates what the
    # document states included) must be clearly closer themselves.
    if denial and (agree is None or denial[0].topic > agree.topic - CONTRADICT_MARGIN):
        return _ClauseResult(CONTRADICTED, denial[0], denial[1])
    if contra and (agree is None or contra[0].topic > agree.topic + CONTRADICT_MARGIN):
        return _ClauseResult(CONTRADICTED, contra[0], contra[1])
    if agree:
        return _ClauseResult(SUPPORTED, agree, [])
    return _ClauseResult(NOT_FOUND, cands[0] if cands else None, [])


def _denies(mismatches: Sequence[Comparison]) -> bool:
    """Does the document sentence negate what the claim states (of the claim's country: a
    denial in another country's report does not deny it)?"""
    return (any(m.kind == "polarity" and m.draft.endswith(STATED) for m in mismatches)
            and not any(m.kind == "country" for m in mismatches))


def clauses(claim: str) -> list[str]:
    """Independent clauses of a claim, when each has enough content to check on its own."""
    parts = [p.strip(" ,.") for p in _CLAUSE.split(claim)]
    parts = [p for p in parts if p]
    # A clause is checkable with enough content words, or with a figure and a word to say
    # what the figure counts ("answered by 40 schools").
    if len(parts) < 2 or any(len(_topic_tokens(p)) < (1 if _FIGURE.search(p) else
                                                      MIN_CLAIM_TOKENS) for p in parts):
        return [claim]
    # A clause without a country of its own takes the claim's ("In Armenia, X, while Y").
    countries = [w for w in words(parts[0]) if w in DEMONYM]
    if countries:
        parts = [p if any(w in DEMONYM for w in words(p)) else f"{p} ({countries[0]})"
                 for p in parts]
    return parts
