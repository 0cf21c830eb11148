"""What a question asks: input checks, follow-ups, language, countries and the asked slot.

The answer step never guesses what a question wants from its passages alone: it first reads
the question here. :class:`QuestionInfo` says which language it is in, which countries and
manifest documents it names, whether it compares, and which *slot* it asks for (a count, a
date, a person, an amount of money, a percentage, a duration) and of what. The abstention
rules (``abstain.py``) then check that the chosen sentences fill that slot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.config import Settings
from assistant.errors import InputError
from assistant.text import COMPARATIVE, countries_in, tokens  # noqa: F401  (countries_in: re-exported)

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|prompt|document|"
    r"context|previous|above|guideline)s?\b|\bsystem prompt\b|\byou are now\b|\bpretend (to be|"
    r"you)\b|\bjailbreak\b|\bdeveloper mode\b"
    # the same in Russian: "игнорируй(те) ... инструкции/правила", "забудь ... инструкции"
    r"|(игнорир|забудь|забудьте|отмени).{0,40}(инструкц|правил|промпт)",
    re.I,
)


EMPTY_QUESTION = "The question is empty; type a question about micro-credential policy."


def check_question(question: str, settings: Settings) -> str:
    """The question, cleaned; or InputError saying why it cannot be asked.

    Invisible format characters (zero-width spaces, bidi controls, soft hyphens: Unicode
    category Cf) are removed; what is left must hold a letter or a digit, so a question of
    spaces, combining marks, emoji, symbols or punctuation alone ("???") is empty.
    """
    if not isinstance(question, str) or not question.strip():
        raise InputError(EMPTY_QUESTION)
    if any("\ud800" <= ch <= "\udfff" for ch in question):
        raise InputError("The question contains broken text (a lone surrogate, often left by a "
                         "bad copy and paste); type the question again.")
    if _CONTROL.search(question):
        raise InputError("The question contains control characters; remove them and ask again.")
    q = "".join(ch for ch in question if unicodedata.category(ch) != "Cf")
    q = re.sub(r"\s+", " ", q).strip()
    if not any(unicodedata.category(ch)[0] in "LN" for ch in q):
        raise InputError(f"{EMPTY_QUESTION[:-1]} (it has no letters or digits).")
    if len(q) > settings.max_question_chars:
        raise InputError(
            f"The question is {len(q)} characters long; the limit is "
            f"{settings.max_question_chars} characters. Shorten it."
        )
    return q


def looks_like_injection(question: str) -> bool:
    """A question that tries to change the rules; it gets the abstention, not an answer."""
    return bool(_INJECTION.search(question))


# --------------------------------------------------------------------------------------------
# Language and countries
# --------------------------------------------------------------------------------------------
_SCRIPTS = (("hy", re.compile(r"[\u0531-\u058f]")), ("ka", re.compile(r"[\u10a0-\u10ff]")),
            ("ru", re.compile(r"[\u0400-\u04ff]")))


def detect_language(text: str) -> str:
    """en, hy, ka, ru or other, by the script most of the question's letters are written in."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    counts = {lang: len(rx.findall(text)) for lang, rx in _SCRIPTS}
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    if n >= 0.3 * len(letters):
        return lang
    latin = sum("a" <= c.lower() <= "z" for c in letters)
    return "en" if latin >= 0.5 * len(letters) else "other"


COUNTRY_NAMES = {"AM": "Armenia", "GE": "Georgia", "EU": "the European Union"}


# --------------------------------------------------------------------------------------------
# The asked slot
# --------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_WORD_NUMBERS = (r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                 r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
                 r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|"
                 r"dozen|half|third|quarter|single|double)\b")
_MONTH = (r"(January|February|March|April|May|June|July|August|September|October|November|"
          r"December)")
_VALUE_PATTERNS: dict[str, re.Pattern[str]] = {
    "count": re.compile(rf"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])|{_WORD_NUMBERS}", re.I),
    "date": re.compile(rf"\b{_MONTH}\b|\b(19|20)\d\d\b|\b\d{{1,2}}\.\d{{1,2}}\.\d{{4}}\b"),
    "duration": re.compile(
        rf"(\d+|{_WORD_NUMBERS})[\s-]*(hours?|days?|weeks?|months?|years?|semesters?|"
        r"academic hours?|credits?|ECTS)\b|\b(semester|academic year|short[- ]term|long[- ]term)\b",
        re.I),
    "percent": re.compile(r"\d+(?:[.,]\d+)?\s*(%|per ?cent)|\b\d+ (out )?of( the)? \d+\b"
                          r"|\b(one|a) (half|third|quarter)\b", re.I),
    "money": re.compile(r"(€|\$|£|\bEUR\b|\bUSD\b|\bAMD\b|\bGEL\b|\beuros?\b|\bdollars?\b|"
                        r"\blari\b|\bdrams?\b|\bfree of charge\b|\bfree\b|\bfunded\b|"
                        r"\bfunding\b|\bfee\b|\bfees\b|\bpaid\b|\bgrant\b)", re.I),
    # A person's name: Title Firstname Lastname, or two capitalised words not at the start.
    "person": re.compile(r"\b(Mr|Ms|Mrs|Dr|Prof)\.?\s+[A-Z]|(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+ "
                         r"[A-Z][a-z]+(yan|ian|dze|shvili|ishvili|ia|uri|ava|ov|ova|ev|eva)\b"),
}
SLOT_WORDS = {
    "count": "number", "date": "date", "duration": "duration", "percent": "share or percentage",
    "money": "amount of money", "person": "name of a person",
}
_PERSON_ROLES = (r"minister|rector|director|head|president|chair|chairman|chairperson|dean|"
                 r"coordinator|author|deputy|ombudsman|prime minister|speaker|manager|leader")
# English cues, most specific first. Each: (slot, pattern); the noun after the cue, when the
# pattern has a group "noun", is what the slot counts ("how many <graduates>").
_SLOT_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent", re.compile(r"\b(what|which) (percentage|percent|share|proportion|fraction)\b|"
                           r"\bhow many percent\b|\bwhat % |\bpercentage of\b", re.I)),
    ("money", re.compile(r"\bhow much (does|did|do|will|would|is|was)\b.{0,60}\b(cost|charge|"
                         r"pay|spend|earn|fund|invest|budget)|\bhow much money\b|\bwhat (is|was|"
                         r"are) the (cost|price|fee|fees|tuition|budget|salary)\b|\b(cost|price|"
                         r"fee|fees|tuition|salary|budget)s? (of|for)\b|\bhow expensive\b|"
                         r"\bhow much .{0,40}\b(cost|costs|fee|fees|price|budget|funding)\b",
                         re.I)),
    ("duration", re.compile(r"\bhow long\b|\bduration\b|\bfor how many (hours|days|weeks|"
                            r"months|years)\b|\bhow many (hours|days|weeks|months|years|"
                            r"semesters)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|date|month)\b|\bwhich (year|date|month)\b|"
                        r"\bsince when\b|\bin what year\b|\bby what date\b", re.I)),
    ("person", re.compile(rf"\bwho (is|was|are|were|heads|leads|chairs)\b.{{0,30}}\b"
                          rf"({_PERSON_ROLES})\b|\b(name|names) of the ({_PERSON_ROLES})\b|"
                          rf"\bwho (is|was) the\b.{{0,40}}\b({_PERSON_ROLES})\b", re.I)),
    ("count", re.compile(r"\bhow many (?P<noun>[\w-]+(?: [\w-]+){0,3})|\bnumber of "
                         r"(?P<noun2>[\w-]+(?: [\w-]+){0,3})|\bhow much\b|\bhow large\b|"
                         r"\bhow big\b|\bcount of\b|\btotal (number|count)\b", re.I)),
)
# The same slots asked in Russian, Armenian and Georgian.
_SLOT_CUES_OTHER: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent", re.compile(r"процент|доля|какая часть|տոկոս|მაჩვენებელ|პროცენტ|წილი", re.I)),
    ("money", re.compile(r"сколько сто|стоимост|цена|плата за|ինչ արժե|արժեք|վճար|"
                         r"რა ღირს|ღირებულ|საფასურ", re.I)),
    ("duration", re.compile(r"как долго|сколько длил|сколько длит|продолжительн|срок|"
                            r"ինչքան տև|որքան տև|տևողություն|რამდენ ხან|ხანგრძლივ", re.I)),
    ("date", re.compile(r"\bкогда\b|в каком году|какого числа|դատ|երբ|როდის|რომელ წელ", re.I)),
    ("person", re.compile(r"\bкто\b.{0,40}(министр|ректор|директор|глав|руковод)|ով է.{0,40}"
                          r"(նախարար|ռեկտոր|տնօրեն)|ვინ არის.{0,40}(მინისტრ|რექტორ|დირექტორ)",
                          re.I)),
    ("count", re.compile(r"сколько|какое количество|число|քանի|որքան|რამდენი|რამდენ|"
                         r"რა რაოდენობ", re.I)),
)


# Words that end the noun phrase after "how many …" ("how many institutions *took* part").
_NOT_NOUN_WORDS = (
    "did do does were was are is be been have has had will would can could should in of at "
    "for from to on by with among took take takes gave give gives got get gets said say says "
    "offer offers run runs make makes made answer answers participate participates attend "
    "attends complete completes respond responds select selects mention mentions believe "
    "believes think thinks agree agrees want wants need needs consider considers see sees "
    "know knows plan plans use uses receive receives support supports prefer prefers choose "
    "chooses chose there that who which"
)
_NOT_NOUN = frozenset(_NOT_NOUN_WORDS.split())


@dataclass(frozen=True)
class Slot:
    """What kind of value the question asks for, and (for a count) a count of what."""

    kind: str  # count | date | duration | percent | money | person
    noun: str = ""  # the stemmed head word of the counted thing ("graduat"), when known
    noun_text: str = ""  # the same as the user wrote it ("graduates")

    def filled_by(self, text: str) -> bool:
        """Does ``text`` hold a value of this slot's kind (a figure, a date, a name…)?"""
        return _filled(self.kind, text)

    def describe(self) -> str:
        word = SLOT_WORDS[self.kind]
        return f"{word} of {self.noun_text}" if self.noun_text else word


@lru_cache(maxsize=32768)  # pure; every question reads the same passages' spans again
def _filled(kind: str, text: str) -> bool:
    body = re.sub(r"(?:^|\s)\d{1,3}[.)](?=\s)", " ", text)  # list numbering is no figure
    if kind == "count":
        # A year is not a count ("2024" answers "when", not "how many").
        body = re.sub(r"\b(19|20)\d\d\b", " ", body)
    return bool(_VALUE_PATTERNS[kind].search(body))


def detect_slot(question: str, lang: str = "en") -> Slot | None:
    """The slot a question asks for, or None for an open question (what, why, how, which…)."""
    cues = _SLOT_CUES if lang == "en" else _SLOT_CUES_OTHER
    # Armenian puts its question and emphasis marks inside the word ("Ե՞րբ", "Քանի՞").
    question = re.sub("[\u055b-\u055e]", "", question)
    for kind, rx in cues:
        m = rx.search(question)
        if not m:
            continue
        noun_text = ""
        if kind == "count" and lang == "en":
            phrase = m.groupdict().get("noun") or m.groupdict().get("noun2") or ""
            # "how many Armenian state universities" → the last content word before a verb
            # or preposition is the counted thing.
            words = re.split(r"\s+", phrase.strip())
            head = []
            for w in words:
                lw = w.lower().strip("?,.")
                if lw in _NOT_NOUN or (len(lw) > 4 and lw.endswith("ed")):
                    break  # the verb or preposition that ends the counted noun phrase
                head.append(w)
            content = [w for w in head if tokens(w)]
            noun_text = content[-1] if content else ""
        toks = tokens(noun_text)
        return Slot(kind, toks[0] if toks else "", noun_text)
    return None


# --------------------------------------------------------------------------------------------
# The question, read
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionInfo:
    """What the answer step knows about a question before it looks at any passage."""

    text: str  # as asked (cleaned)
    standalone: str  # with a follow-up resolved against the history
    lang: str = "en"
    countries: frozenset[str] = frozenset()
    comparative: bool = False
    slot: Slot | None = None
    named_docs: tuple[str, ...] = ()  # manifest documents the question names (ids)

    @property
    def asked_country(self) -> str | None:
        """The one country (AM / GE) the question is about, if exactly one is named ("both"
        in "supported both internal and external QA" does not make it a comparison)."""
        two = self.countries & {"AM", "GE"}
        return next(iter(two)) if len(two) == 1 else None

    @property
    def both_countries(self) -> bool:
        two = self.countries & {"AM", "GE"}
        return len(two) == 2 or (self.comparative and len(two) != 1)


def read_question(
    question: str, standalone: str, named_docs: tuple[str, ...] = ()
) -> QuestionInfo:
    """Read the standalone question: language, countries, comparison, slot."""
    lang = detect_language(question)
    slang = detect_language(standalone)
    return QuestionInfo(
        text=question,
        standalone=standalone,
        lang=lang,
        countries=countries_in(standalone),
        comparative=bool(COMPARATIVE.search(standalone)),
        slot=detect_slot(standalone if slang == lang else question, lang),
        named_docs=named_docs,
    )


# --------------------------------------------------------------------------------------------
# Follow-up questions
# --------------------------------------------------------------------------------------------
_FOLLOW_UP = re.compile(
    r"^(and|what about|how about|and what about|same for|also|what of|and for|but|then)\b"
    r"|^(а|и|а как|а что|что насчёт|что насчет|как насчёт|как насчет)\b"
    r"|^(իսկ|և)|^(და|ხოლო|რაც შეეხება)",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|there|this|that|these|those|he|she|the same|"
                      r"such|anything|any|else|one|ones|then|too|also|either|both of them)\b",
                      re.I)
_EXISTENTIAL = re.compile(r"\b(is|are|was|were|be)\s+there\b|\bthere\s+(is|are|was|were)\b"
                          r"|\b(any|anything|one|ones)\b", re.I)
_PLURAL = {"they", "them", "their", "both of them"}  # point to the two countries a question names
FOLLOW_UP_MAX_TERMS = 5  # a question with history and at most this many content words leans on it
_COUNTRY_MENTION = re.compile(r"\b(Armenia|Armenian|Georgia|Georgian)\b", re.I)
# A country in the earlier question, with the preposition that attaches it ("in Armenia").
_PREV_COUNTRY = re.compile(r"(?:\s+(?:in|of|for|from)\s+(?:Armenia|Georgia)\b|"
                           r"\b(?:Armenian|Georgian)\s+|"
                           r"\s*\b(?:Armenia|Georgia)(?:['\u2019]s)?\b)", re.I)
# A name: an acronym ("ANQA", "ECTS") or a capitalised word inside the sentence ("Code Academy").
_NAME = re.compile(r"\b[A-Z][A-Z0-9]+\b|(?<=[a-z,;] )[A-Z][a-z]{2,}\b")
STANDS_ALONE_MIN_TERMS = 3  # content words an opener's question needs to stand on its own


def is_follow_up(question: str) -> bool:
    """Does the question lean on an earlier one ("and in Armenia?", "how long did it run?")?"""
    content = [t for t in tokens(question) if t not in {"armenia", "georgia", "europe"}]
    if _FOLLOW_UP.match(question):
        return True
    if detect_language(question) != "en":
        return len(question.split()) <= 4
    if not content:  # nothing but a country, or nothing at all: "Georgia?"
        return True
    # Only an explicit lean on the earlier question counts: a pronoun that points back. A short
    # question of its own ("What is ECTS?", "Is there any legislation?") is not a follow-up, so
    # an unrelated earlier question cannot change its answer.
    pointing = [m.group(0).lower() for m in _PRONOUN.finditer(_EXISTENTIAL.sub(" ", question))]
    if pointing and set(pointing) <= _PLURAL and len(countries_in(question) & {"AM", "GE"}) > 1:
        return False  # "How do Armenia and Georgia differ in their approach?": the two of them
    return bool(pointing) and len(content) <= FOLLOW_UP_MAX_TERMS


def stands_alone(question: str, prev: str) -> bool:
    """A question that opens like a follow-up ("And since when has ANQA been in the IMINQA
    group?") but brings a subject of its own: a name the earlier question did not use, at least
    STANDS_ALONE_MIN_TERMS content words, and no word that points back. Reading it with the
    earlier question pulled its passages in (a trial saw a wrong date answered)."""
    if _PRONOUN.search(_EXISTENTIAL.sub(" ", question)):
        return False

    def names(text: str) -> set[str]:
        return {m.group(0).lower() for m in _NAME.finditer(text)
                if not _COUNTRY_MENTION.fullmatch(m.group(0))}

    content = [t for t in tokens(_FOLLOW_UP.sub("", question))
               if t not in {"armenia", "georgia"}]
    return bool(names(question) - names(prev)) and len(content) >= STANDS_ALONE_MIN_TERMS


def condense_rule_based(question: str, history: History) -> str:
    """Turn a follow-up into a standalone question, without an LLM.

    "and in Georgia?" after a question about Armenia becomes that question with the country
    swapped; "how long did it run?" keeps its own words and gains the earlier question's in
    brackets, so both retrieval and sentence scoring see what "it" is.
    """
    if not history:
        return question
    prev = history[-1][0]
    if not is_follow_up(question):
        return question
    if stands_alone(question, prev):
        return question
    new = countries_in(question) & {"AM", "GE"}
    rest = _FOLLOW_UP.sub("", question).strip(" ,?.")
    rest_content = [t for t in tokens(rest) if t not in {"armenia", "georgia"}]
    if new and len(new) == 1 and countries_in(prev) & {"AM", "GE"} and \
            detect_language(prev) == "en":
        if not rest_content or detect_language(question) != "en":
            # "and in Georgia?": the follow-up moves the earlier question to another country.
            target = COUNTRY_NAMES[next(iter(new))]

            def swap(m: re.Match[str]) -> str:
                return target + ("n" if m.group(0).lower().endswith("n") else "")

            return _COUNTRY_MENTION.sub(swap, prev)
        # It names its country and says what it asks: the earlier question only tells what
        # "such" or "it" is, so its country is dropped, never swapped (a trial saw "the Armenian
        # Code Academy" become "the Georgian Code Academy", which does not exist).
        prev = _PREV_COUNTRY.sub("", prev).strip()
    if new and not rest_content:
        return f"{prev.rstrip('?. ')} in {COUNTRY_NAMES[next(iter(new))]}?"
    if not rest:
        return prev
    # Keep the follow-up's own words first; the earlier question supplies what "it" is. A
    # pronoun "there" takes the earlier question's country.
    base = question.rstrip("?. ")
    prev_countries = countries_in(prev) & {"AM", "GE"}
    if prev_countries and not new and re.search(r"\bthere\b", base, re.I):
        base = re.sub(r"\bthere\b", f"in {COUNTRY_NAMES[next(iter(prev_countries))]}", base,
                      flags=re.I)
    return f"{base} ({prev.rstrip('?. ')})?"
