"""The facts a sentence states (figures, years, countries, acronyms, polarity), compared."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.check.acts import lacks_act
from assistant.check.dates import (
    MONTH,
    MONTH_NAMES,
    date_verdict,
    dates_in_words,
    days_apart,
    month_verdict,
)
from assistant.check.report import COUNTRY_NAME, Comparison, doc_label
from assistant.text import display, plain, tokens, words
from assistant.types import Passage

DEMONYM = {"armenia": "AM", "armenian": "AM", "armenians": "AM",
            "georgia": "GE", "georgian": "GE", "georgians": "GE"}


NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}
_UNITS = frozenset({"to", "year", "years", "month", "months", "week", "weeks", "day", "days",
                    "hour", "hours", "credit", "credits", "ects", "out", "respondent",
                    "institution", "university", "college", "programme", "program", "course"})
_NEGATIONS = frozenset({"not", "no", "never", "none", "neither", "nor", "cannot", "without",
                        "lack", "lacks", "lacking", "absence", "absent", "nobody", "nothing"})
_COMMON_ACRONYMS = frozenset({"ECTS", "EU", "HEI", "HEIS", "NQF", "VET", "QA", "RA", "EHEA",
                              "COVID", "LLC", "LTD", "JSC", "LEPL", "NGO", "NGOS", "IT", "AM",
                              "GE", "WP1", "QF", "LLL", "II", "III", "IV", "VI", "UNESCO"})
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s*(?:%|per ?cent\b))?", re.I)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9-]{2,}\b")


# --------------------------------------------------------------------------------------------
# Facts: figures, years, countries, acronyms, polarity
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    figures: tuple[tuple[str, str], ...]  # (value, the word after it)
    years: tuple[str, ...]
    countries: frozenset[str]
    acronyms: frozenset[str]
    negated: bool
    months: tuple[str, ...] = ()  # month names written beside a day or a year: part of a date
    dates: tuple[tuple[str, str], ...] = ()  # (day, month): "1 March", "May 2nd", 16.06.2022


@lru_cache(maxsize=50_000)
def content_tokens(text: str) -> tuple[str, ...]:
    """Content tokens, cached: the same passage sentences are scored for many claims."""
    return tuple(tokens(text))


_CALL = re.compile(r"\b[A-Za-z_][\w.]*\([^()\n]{0,40}\)")  # alert(1), f(2, 3): code, not figures
_SKIP_AFTER = frozenset({"of", "the", "a", "an", "in", "out"})


@lru_cache(maxsize=20_000)
def facts(text: str) -> Facts:
    if "<" in text:
        text = plain(text)  # a figure inside markup (a script's alert(1)) is not the claim's
    body = _LIST_NUMBER.sub(" ", dates_in_words(display(text)))
    body = _CALL.sub(" ", body)
    months = tuple(a or b for a, b in MONTH.findall(body))
    dates, body = days_apart(body)
    figures: list[tuple[str, str]] = []
    years: list[str] = []
    for m in _NUM.finditer(body):
        raw = m.group(1).replace(",", "")
        after = words(body[m.end():m.end() + 40])
        # the kind of quantity: the first word after the figure ("12 out of 27 respondents":
        # respondents), other figures and small words skipped
        nxt = next((w for w in after if w not in _SKIP_AFTER and not w.isdigit()), "")
        if re.fullmatch(r"(19|20)\d\d", raw) and not m.group(2):
            years.append(raw)
            continue
        if re.fullmatch(r"\d+\.\d+", raw) and not m.group(2):
            continue  # section numbers (2.2), D1.1
        value = raw + ("%" if m.group(2) else "")
        figures.append((value, "%" if m.group(2) else nxt))
    ws = words(body)
    for i, w in enumerate(ws):
        if w in NUMBER_WORDS and (i == 0 or ws[i - 1] not in {"the", "only"}):
            nxt = ws[i + 1] if i + 1 < len(ws) else ""
            # "one" is a figure only before a unit or in a range ("one year", "one to six").
            if w == "one" and nxt not in _UNITS:
                continue
            figures.append((str(NUMBER_WORDS[w]), nxt))
    countries = frozenset(DEMONYM[w] for w in ws if w in DEMONYM)
    acr = frozenset(a for a in _ACRONYM.findall(display(text)) if a not in _COMMON_ACRONYMS
                    and not re.fullmatch(r"[IVX]+", a))
    return Facts(tuple(figures), tuple(years), countries, acr, negated(ws), months, dates)


@dataclass(frozen=True)
class _Stated:
    """One figure as a text states it: its value, its kind (the word after it), the years of
    its sentence, and whether a negation governs it ("not answered by 4 respondents")."""

    value: str
    kind: str
    years: frozenset[tuple[str, str]]  # (year, the noun it dates): "the 2021 survey"
    negated: bool
    phrase: frozenset[str] = frozenset()  # content tokens of the words around it
    near: frozenset[str] = frozenset()  # the same, within its own clause ("37 are private
    # institutions", not the "19 are public universities" beside it)


_NEG_BEFORE = 4  # words before a figure (in its clause) in which a negation governs it
_PHRASE_AFTER = 8  # words after a figure that may say what it counts ("27 respondents,
# including 18 higher education institutions" counts institutions too; "the authorized 63
# institutions" is named before it)


@lru_cache(maxsize=50_000)
def stated_figures(text: str) -> tuple[_Stated, ...]:
    """The figures of a text with the context each is stated in (sentence by sentence)."""
    from assistant.text import sentence_spans

    out: list[_Stated] = []
    for s, e in sentence_spans(text) or [(0, len(text))]:
        sent = text[s:e]
        f = facts(sent)
        clean = _CALL.sub(" ", _LIST_NUMBER.sub(" ", dates_in_words(display(sent))))
        clean = days_apart(clean)[1]
        dated = frozenset((y, t[0]) for y, w in _DATED.findall(clean)
                          if (t := content_tokens(w)) and w.lower() not in _NO_KIND)
        ws: list[str] = []
        clause: list[int] = []  # the clause each word is in (split at ; : ( ) and ", ")
        for n, piece in enumerate(_CLAUSE_MARK.split(clean)):
            piece_words = words(piece)
            ws += piece_words
            clause += [n] * len(piece_words)
        at = 0
        for value, kind in f.figures:
            i = _find(ws, value, at)
            if i is None:
                out.append(_Stated(value, kind, dated, False))
                continue
            at = i + 1
            before = [w for j, w in enumerate(ws[max(0, i - _NEG_BEFORE):i],
                                              max(0, i - _NEG_BEFORE)) if clause[j] == clause[i]]
            neg = any((b in _NEGATIONS or b.endswith("n't"))
                      and not _QUANTIFIER & set(before[k + 1:k + 2])
                      for k, b in enumerate(before))
            after = ws[i + 1:i + 1 + _PHRASE_AFTER]
            phrase = frozenset(content_tokens(" ".join(before + after)))
            own = [w for j, w in enumerate(after, i + 1) if clause[j] == clause[i]]
            near = frozenset(content_tokens(" ".join(before + own)))
            out.append(_Stated(value, kind, dated, neg, phrase, near))
    return tuple(out)


# "no fewer than 20", "not only 5", "not more than 3": the negation bounds the figure
_QUANTIFIER = frozenset({"fewer", "more", "less", "only", "least", "just", "over", "under",
                         "above", "below", "even", "quite", "exceeding"})
_CLAUSE_MARK = re.compile(r"[;:()]|,\s")
_DATED = re.compile(r"\b((?:19|20)\d\d)\s+([A-Za-z][\w-]*)")  # "the 2021 survey"


def _find(ws: Sequence[str], value: str, at: int) -> int | None:
    """The index of the figure ``value`` among the words, from ``at`` on."""
    raw = value.rstrip("%").replace(",", "")
    number = int(raw) if raw.isdigit() else None
    for i in range(at, len(ws)):
        w = ws[i]
        if w.replace(",", "") == raw or (number is not None and NUMBER_WORDS.get(w) == number):
            return i
    return None


# Words after a figure that do not say what it counts: a country or a month ("50 Armenian
# and 63 Georgian partners", "27 June").
_NO_KIND = frozenset({*DEMONYM, "am", "ge", "eu", *(m.lower() for m in MONTH_NAMES)})


# Units of measure: a figure in one of them is another quantity than a count of things
# ("27 institutions" is not stated by "27 years"); two counted nouns ("27 institutions",
# "27 respondents") may name the same things and are not told apart.
_MEASURES = frozenset(content_tokens(
    "year years month months week weeks day days hour hours minute minutes credit credits "
    "ects euro euros eur usd dollar dollars dram drams amd gel lari laris percent page pages "
    "time times level levels"))


def same_kind(a: str, b: str) -> bool:
    """Two figures' kinds (the word after each) can be the same quantity: the same word, one
    unknown, or two counted nouns; a unit of measure only matches itself."""
    if a.lower() in _NO_KIND or b.lower() in _NO_KIND:
        return True
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta or not tb or ta[0] == tb[0]:
        return True
    return ta[0] not in _MEASURES and tb[0] not in _MEASURES


def states_figure(text: str, value: str, kind: str, claim_years: Sequence[str],
                  own_year: int | None, claim: str = "") -> bool:
    """Does ``text`` state the claim's figure: the same value, the same kind of quantity, not
    under a negation, and not in a sentence that dates a thing the claim names to another
    year (a figure of "the 2021 survey" is not one of "the survey" of a 2024 report unless
    the claim says 2021)?"""
    named = content_tokens(kind)
    claim_toks = set(content_tokens(claim))
    for st in stated_figures(text):
        if st.value != value or st.negated or not (
                same_kind(st.kind, kind) or (named and named[0] in st.phrase)):
            continue
        if not any(y not in claim_years and y != str(own_year) and noun in claim_toks
                   for y, noun in st.years):
            return True
    return False


def negated(ws: Sequence[str]) -> bool:
    n = sum(1 for w in ws if w in _NEGATIONS or w.endswith("n't"))
    return n % 2 == 1


def _scopes(text: str) -> tuple[dict[str, str], set[str]]:
    """Content tokens within three words after a negation (with that phrase), and the rest."""
    ws = words(text)
    neg: dict[str, str] = {}
    for i, w in enumerate(ws):
        if w in _NEGATIONS or w.endswith("n't"):
            # The next three content words (stopwords skipped) are what is negated.
            scope: list[str] = []
            j = i + 1
            while j < len(ws) and len(scope) < 3 and ws[j] not in _NEGATIONS:
                scope.extend(content_tokens(ws[j]))
                j += 1
            phrase = " ".join(ws[i:j])
            if any(x.isdigit() or x in NUMBER_WORDS for x in ws[i + 1:j]):
                continue  # "not answered by 4 respondents": a count of those who did not
            for t in scope:
                neg.setdefault(t, phrase)
    pos = set(content_tokens(text)) - set(neg)
    return neg, pos


_CLAUSE_SPLIT = re.compile(r"[,;:()]\s*|\s+(?:and|while|but|whereas|however)\s+")


def _paired_clauses(claim: str, unit: str) -> Iterator[tuple[str, str]]:
    """Each clause of the claim with the clause of the unit that shares most of its words
    (figures included), when they share at least two."""
    u_clauses = [c for c in _CLAUSE_SPLIT.split(unit) if c and c.strip()]
    u_toks = [set(content_tokens(c)) for c in u_clauses]
    for cl in (c for c in _CLAUSE_SPLIT.split(claim) if c and c.strip()):
        ct = set(content_tokens(cl))
        if not ct or not u_clauses:
            continue
        i = max(range(len(u_clauses)), key=lambda j: len(ct & u_toks[j]))
        if len(ct & u_toks[i]) >= 2:
            yield cl, u_clauses[i]


STATED = "(stated, not negated)"  # the side of a polarity clash that does not negate


def polarity_clash(claim: str, unit: str) -> tuple[str, str] | None:
    """A content word one text negates and the other states plainly: (draft, document).

    Each clause of the claim is compared with its clause of the unit (``_paired_clauses``),
    so that "19 supported both …, and none supported external …" does not clash with a claim
    about the 19.
    """
    for cl, ucl in _paired_clauses(claim, unit):
        if negated(words(cl)) == negated(words(ucl)):
            continue
        c_neg, c_pos = _scopes(cl)
        u_neg, u_pos = _scopes(ucl)
        for t in sorted(set(c_neg) & u_pos):
            return c_neg[t], f"{t} {STATED}"
        for t in sorted(set(u_neg) & c_pos):
            return f"{t} {STATED}", u_neg[t]
    return None


# Words that make a clause say what should, could, will or might be, not what is.
_MODAL = frozenset({"should", "must", "need", "needs", "needed", "could", "would", "may",
                    "might", "will", "shall", "plan", "plans", "planned", "intend", "intends",
                    "intention", "aim", "aims", "propose", "proposes", "proposed", "recommend",
                    "recommends", "recommended", "if", "whether", "future", "potential"})


_CONDITION = re.compile(r"\b(?:provided that|in case|as long as|unless)\b", re.I)


# Verbs that report a view: "respondents expected demand to grow" may be stated by "they
# expect that demand will grow" (the modal word is inside the view).
_VIEW = frozenset({"expect", "expects", "expected", "believe", "believes", "believed", "think",
                   "thinks", "thought", "consider", "considers", "considered", "want", "wants",
                   "wanted", "wish", "wished", "prefer", "prefers", "preferred", "favour",
                   "favours", "favoured", "favor", "favored", "agree", "agrees", "agreed",
                   "support", "supports", "supported", "feel", "feels", "felt", "say", "says",
                   "said", "see", "sees", "saw", "view", "regard", "regards", "regarded"})


# "It should be noted that …" frames a statement; it is not a need or a plan.
_FRAME = re.compile(r"\b(?:should|must|may|can|could)\s+be\s+(?:noted|mentioned|"
                    r"emphasi[sz]ed|stressed|highlighted|added|recalled|observed|said)\b", re.I)


def modal(text: str) -> bool:
    """Does the text say what should, could, will or might be (or on what condition)?"""
    text = _FRAME.sub(" ", text)
    return any(w in _MODAL for w in words(text)) or bool(_CONDITION.search(text))


def states_as_possible(claim: str, unit: str) -> bool:
    """Does the unit say as a need, plan, condition or possibility what a clause of the claim
    states as a fact? ("Armenia has included micro-credentials in its NQF" is not supported
    by "micro-credentials should be included in the NQF".) A clause that reports a view
    ("respondents expected …") is not a stated fact."""
    return any(modal(u) and not modal(c) and not _VIEW & set(words(c))
               for c, u in _paired_clauses(claim, unit))


@dataclass
class _Verdict:
    agrees: bool
    mismatches: list[Comparison]


def compare(claim: str, unit: str, passage: Passage, known: frozenset[str] = frozenset()
            ) -> _Verdict:
    """Do the claim's facts agree with one passage sentence (pair)? ``known``: figures and
    years the whole draft sentence states (``claim`` is one of its clauses), never the
    differing value."""
    cf, uf = facts(claim), facts(unit)
    where = doc_label(passage)
    u_values = {v for v, _ in uf.figures}
    # the years of the whole draft sentence (a clause of it may not repeat its year)
    c_years = (*cf.years, *(k for k in known if re.fullmatch(r"(?:19|20)\d\d", k)))
    p_facts: Facts | None = None

    def in_passage(value: str, years: bool = False, months: bool = False) -> bool:
        nonlocal p_facts
        p_facts = p_facts or facts(passage.text)
        return value in (p_facts.years if years else p_facts.months)

    def date_in_passage(date: tuple[str, str]) -> bool:
        nonlocal p_facts
        p_facts = p_facts or facts(passage.text)
        return date in p_facts.dates

    figs, unstated = _figure_verdict(claim, unit, passage, known, c_years)
    mism, missing = figs.mismatches, not figs.agrees
    for y in cf.years:
        if y in uf.years:
            continue
        others = [v for v in uf.years if v not in cf.years]
        if others:
            mism.append(Comparison("year", y, others[0], where))
        elif not in_passage(y, years=True):
            missing = True
    same_date = (all(v in u_values for v, _ in cf.figures)
                 and all(y in uf.years for y in cf.years))
    for ok, dm in (date_verdict(cf.dates, uf.dates, where, date_in_passage),
                   month_verdict(cf.months, cf.dates, uf.months, uf.dates, same_date, where,
                                 lambda m: in_passage(m, months=True))):
        mism, missing = mism + dm, missing or not ok
    u_countries = uf.countries or (
        frozenset({passage.country}) if passage.country in COUNTRY_NAME else frozenset())
    unstated = unstated or any(d not in uf.dates for d in cf.dates)
    if u_countries and cf.countries - u_countries and unstated:
        # Another country's sentence that does not state the claim's figures (or dates) is about
        # something else: neither support nor a contradiction (a swapped country is caught
        # by the sentence that states the claim's figure of the other country).
        return _Verdict(False, [])
    other_country: list[Comparison] = []
    at = len(mism)  # where a country clash is listed (after figures, years and dates)
    for c in sorted(cf.countries):
        if c in u_countries:
            continue
        if u_countries:
            alt = sorted(u_countries - cf.countries) or sorted(u_countries)
            other_country.append(
                Comparison("country", COUNTRY_NAME[c], COUNTRY_NAME[alt[0]], where))
        else:
            missing = True
    # the document's own title states its project's name ("Micro-GEAR D1.1: …")
    unit_acr = (uf.acronyms | facts(passage.text).acronyms | facts(passage.title).acronyms
                if cf.acronyms else frozenset())
    for a in sorted(cf.acronyms - unit_acr):
        extra = sorted(uf.acronyms - cf.acronyms)
        if extra:
            mism.append(Comparison("name", a, extra[0], where))
        else:
            missing = True
    clash = polarity_clash(display(claim), display(unit))
    if clash:
        mism.append(Comparison("polarity", clash[0], clash[1], where))
    elif states_as_possible(display(claim), display(unit)) or lacks_act(claim, unit):
        missing = True  # a plan, a need or no act at all is not the fact: neither way
    if other_country and (mism or not missing):
        # Another country is a contradiction only from a sentence that states the claim
        # (of that country); one that states something else says nothing of the claim's.
        mism = [*mism[:at], *other_country, *mism[at:]]
    return _Verdict(not mism and not missing, mism)



def _figure_verdict(claim: str, unit: str, passage: Passage, known: frozenset[str],
                    c_years: Sequence[str]) -> tuple[_Verdict, bool]:
    """The claim's figures against the unit's: mismatches, whether each is stated (else not
    support), and whether any is not stated in the unit at all."""
    cf, uf = facts(claim), facts(unit)
    where = doc_label(passage)
    mism: list[Comparison] = []
    missing = unstated = False
    u_values = {v for v, _ in uf.figures}
    c_values = {v for v, _ in cf.figures} | known
    derived = derived_figures(cf.figures, u_values | {v for v, _ in facts(passage.text).figures})
    rates = stated_rates(cf.figures, uf.figures)
    for value, nxt in cf.figures:
        if (states_figure(unit, value, nxt, c_years, passage.year, claim) or value in derived
                or (value == "1" and rates)):
            continue
        unstated = unstated or value not in rates
        if value in u_values:
            missing = True  # stated of another kind, year or under a negation: not this figure
            continue
        if value in rates:  # "one credit is 25 hours" against "3 credits, 90 hours"
            if not same_number(value, rates[value]):
                mism.append(Comparison("figure", f"{value} {nxt}".strip(), rates[value], where))
            continue
        # the document's figures of the same thing: not those a negation governs ("not
        # answered by 4 respondents" does not count those who answered)
        governed = {st.value for st in stated_figures(unit) if st.negated}
        other = [(v, w) for v, w in uf.figures if v not in c_values and v not in governed
                 and v.endswith("%") == value.endswith("%")]
        # A contradiction needs the same kind of quantity: "27 respondents" is not contradicted
        # by "7 years". A document figure whose kind is unknown (no word after it) may be one.
        same = [(v, w) for v, w in other if not w or not nxt or w == nxt or stem_eq(w, nxt)
                or value.endswith("%")]
        if same:
            pick = _same_thing(claim, value, unit, [v for v, _ in same])
            pick = pick or next((v for v, w in same if w and w == nxt), None)
            pick = pick or next((v for v, w in same if w and stem_eq(w, nxt)), None)
            doc_v = pick or same[0][0]
            mism.append(Comparison("figure", f"{value} {nxt}".strip() if not value.endswith("%")
                                   else value, doc_v, where))
        elif value.endswith("%") and (share := stated_share(cf.figures, uf.figures)):
            # a share of two figures the document states, computed wrongly
            if not same_number(value, share, 0.6):
                mism.append(Comparison("figure", value, share, where))
        elif not (states_figure(passage.text, value, nxt, c_years, passage.year, claim)
                  or len(c_values & u_values) >= 2):
            missing = True  # unless it is context: in the passage, or beside two matched ones
    return _Verdict(not missing, mism), unstated


def _same_thing(claim: str, value: str, unit: str, values: Sequence[str]) -> str | None:
    """Among the document's ``values``, the one whose words in its own clause share most
    with the claim's figure's ("45 are private institutions": "37 are private institutions",
    not "19 are public universities"); None when none shares a word."""
    mine = next((st.near for st in stated_figures(claim) if st.value == value), frozenset())
    best, most = None, 0
    for st in stated_figures(unit):
        shared = len(mine & st.near)
        if st.value in values and shared > most:
            best, most = st.value, shared
    return best


def derived_figures(figures: Sequence[tuple[str, str]], stated: set[str]) -> set[str]:
    """Figures of a claim that follow from two others the document states: a conversion
    ("3 ECTS credits for 90 hours, that is, 30 hours per credit") or a share ("16 of 27, about
    59%"). They are arithmetic on the document's figures, not figures to look for in it."""
    def num(v: str) -> float | None:
        try:
            return float(v.rstrip("%"))
        except ValueError:
            return None

    base = [(v, num(v)) for v, _ in figures if v in stated and not v.endswith("%")]
    base = [(v, x) for v, x in base if x]
    out: set[str] = set()
    for v, _ in figures:
        x = num(v)
        if x is None or v in stated:
            continue
        for a, xa in base:
            for b, xb in base:
                if a == b or xa is None or xb is None:
                    continue
                ratio = xa / xb
                if v.endswith("%"):
                    if abs(ratio * 100 - x) <= 0.6:
                        out.add(v)
                elif abs(ratio - x) <= 0.01 * max(x, 1.0) or abs(xa * xb - x) < 1e-9:
                    out.add(v)
    return out


def stated_share(figures: Sequence[tuple[str, str]], unit: Sequence[tuple[str, str]]
                 ) -> str | None:
    """"16 of 27" as a percentage ("59%"), when the claim gives a part the document sentence
    states and a whole the claim or, failing that, the sentence states; None otherwise."""
    stated = [v for v, _ in unit if not v.endswith("%") and re.fullmatch(r"\d+(?:\.\d+)?", v)]
    parts = [float(v) for v, _ in figures if v in stated]
    wholes = parts + [float(v) for v in stated]
    pairs = [(a, b) for a in parts for b in wholes if 0 < a < b]
    return f"{pairs[0][0] / pairs[0][1] * 100:.0f}%" if pairs else None


def stated_rates(figures: Sequence[tuple[str, str]], unit: Sequence[tuple[str, str]]
                 ) -> dict[str, str]:
    """Figures of a rate the claim states ("one ECTS credit is 30 academic hours") with the
    rate the document sentence gives for the same two kinds of quantity ("3 ECTS credits,
    90 academic hours": 30)."""
    ones = [w for v, w in figures if v == "1" and w]
    out: dict[str, str] = {}
    for v, w in figures:
        if v == "1" or v.endswith("%") or not w:
            continue
        for per in ones:
            a = next((float(x) for x, k in unit if k and stem_eq(k, per) and x != "1"), None)
            b = next((float(x) for x, k in unit if k and stem_eq(k, w) and not x.endswith("%")),
                     None)
            if a and b and not stem_eq(per, w):
                out[v] = f"{b / a:g}"
    return out


def same_number(a: str, b: str, tolerance: float = 0.0) -> bool:
    """Two figures ("30", "30.0", "59%") equal within ``tolerance`` (or 1% of the value)."""
    x, y = float(a.rstrip("%")), float(b.rstrip("%"))
    return abs(x - y) <= max(tolerance, 0.01 * max(abs(x), 1.0))


def stem_eq(a: str, b: str) -> bool:
    ta, tb = content_tokens(a), content_tokens(b)
    return bool(ta and tb and ta[0] == tb[0])
