"""Answers with verifiable citations: extractive (default, offline) or from an LLM.

Extractive: the answer is made of sentences of the retrieved passages, quoted verbatim, each
with its citation. LLM: a chat model answers from numbered passages with [n] markers; markers
that point at no passage are removed and each sentence is checked for support. Either way, when
the documents do not answer, the answer is the fixed abstention sentence plus the closest
passages, marked as not an answer.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import InputError
from assistant.index import Index
from assistant.prompts import ABSTAIN_TEXT, load_prompt
from assistant.retrieve import Filters, HybridRetriever
from assistant.text import contains_quote, display, normalize, sentence_spans, tokens
from assistant.types import Answer, Citation, Passage, ScoredPassage, SentenceSupport

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|prompt|document|"
    r"context|previous|above|guideline)s?\b|\bsystem prompt\b|\byou are now\b|\bpretend (to be|"
    r"you)\b|\bjailbreak\b|\bdeveloper mode\b",
    re.I,
)
_COUNTRY_WORDS = {"armenia": "AM", "georgia": "GE", "europe": "EU"}
_MONTHS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|\b(19|20)\d\d\b|\b\d{1,2}\.\d{1,2}\.\d{4}\b"
)


def check_question(question: str, settings: Settings) -> str:
    """The question, cleaned; or InputError saying why it cannot be asked."""
    if not isinstance(question, str) or not question.strip():
        raise InputError("The question is empty; type a question about micro-credential policy.")
    if _CONTROL.search(question):
        raise InputError("The question contains control characters; remove them and ask again.")
    q = re.sub(r"\s+", " ", question).strip()
    if len(q) > settings.max_question_chars:
        raise InputError(
            f"The question is {len(q)} characters long; the limit is "
            f"{settings.max_question_chars} (ASSISTANT_MAX_QUESTION_CHARS). Shorten it."
        )
    return q


def looks_like_injection(question: str) -> bool:
    """A question that tries to change the rules; it gets the abstention, not an answer."""
    return bool(_INJECTION.search(question))


# --------------------------------------------------------------------------------------------
# Follow-up questions
# --------------------------------------------------------------------------------------------
_FOLLOW_UP = re.compile(r"^(and|what about|how about|and what about|same for|also|what of)\b", re.I)
_COUNTRY_MENTION = re.compile(r"\b(Armenia|Armenian|Georgia|Georgian)\b", re.I)


def condense_rule_based(question: str, history: History) -> str:
    """Turn a follow-up such as "and in Georgia?" into a standalone question, without an LLM."""
    if not history:
        return question
    prev = history[-1][0]
    content = [t for t in tokens(question) if t not in _COUNTRY_WORDS]
    new_countries = _COUNTRY_MENTION.findall(question)
    if not _FOLLOW_UP.match(question) and len(content) >= 2:
        return question
    if new_countries and _COUNTRY_MENTION.search(prev):
        target = new_countries[0].capitalize()
        base = "Armenia" if target.lower().startswith("armenia") else "Georgia"

        def swap(m: re.Match[str]) -> str:
            return base + ("n" if m.group(0).lower().endswith("n") else "")

        return _COUNTRY_MENTION.sub(swap, prev)
    if new_countries:
        return f"{prev.rstrip('?. ')} in {new_countries[0].capitalize()}?"
    rest = _FOLLOW_UP.sub("", question).strip(" ,?")
    return f"{prev.rstrip('?. ')}, {rest}?" if rest else prev


# --------------------------------------------------------------------------------------------
# Extractive answers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that may answer the question."""

    sp: ScoredPassage
    start: int
    end: int
    score: float

    @property
    def quote(self) -> str:
        """The quoted text as the reader sees it: markup and a leading bullet dropped."""
        return _BULLET.sub("", display(self.sp.passage.text[self.start : self.end]))

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
            if stop - self.start > limit or text[end:self.end + m.start()].count("\n") > 2:
                break
            end = stop
        return Candidate(self.sp, self.start, end, self.score)


LEXICAL_SHARE = 0.5
PAIR_PENALTY = 0.03
UNKNOWN_TERM_MARGIN = 0.1
COUNTRY_BIAS = 0.2
RELATIVE_FLOOR = 0.9  # further sentences must score at least this share of the best one
_COMPARATIVE = re.compile(
    r"\b(both|compare|compared|comparison|differ|difference|each country|two countries)\b", re.I
)
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
_BULLET = re.compile(r"^(?:[-*•✓☐▪◦]\s*)+")
_ENUMERATOR = re.compile(r"^\W*(?:\d{1,3}|[a-zA-Z])[.)]\s+")


def _question_terms(question: str, retriever: HybridRetriever) -> tuple[list[str], list[str]]:
    """Question tokens mapped onto the corpus vocabulary (typos corrected), and unknown ones."""
    lex = retriever.lexicon()
    known: list[str] = []
    unknown: list[str] = []
    for t in dict.fromkeys(tokens(question)):
        if t in lex.vocab or t.isdigit():
            known.append(t)
            continue
        close = difflib.get_close_matches(t, lex.vocab, n=1, cutoff=0.8) if len(t) >= 5 else []
        if close:
            known.append(close[0])
        else:
            unknown.append(t)
    return known, unknown


def _proper_nouns(question: str) -> set[str]:
    """Capitalised words that are not the first word: names the documents must mention."""
    ws = re.findall(r"[A-Za-z][A-Za-z'-]+", question)
    return {tokens(w)[0] for w in ws[1:] if w[0].isupper() and tokens(w)}


def _is_answer_like(text: str) -> bool:
    t = text.strip()
    if len(t) < 12 or t.endswith("?") or t.startswith("#"):
        return False
    return not re.fullmatch(r"<?https?://\S+>?", t)


def extractive_candidates(
    question: str,
    passages: Sequence[ScoredPassage],
    retriever: HybridRetriever,
    terms: tuple[list[str], list[str]] | None = None,
) -> list[Candidate]:
    """Score every sentence of the evidence passages by how well it covers the question.

    ``terms`` is :func:`_question_terms` of the question, when the caller has it already.
    """
    known, unknown = terms or _question_terms(question, retriever)
    if not known:
        return []
    bm = retriever.lexicon().bm25
    weights = {t: bm.weight(t) for t in known}
    # Words the corpus never uses still count against coverage (at a typical weight): a
    # question about "tuition fees" is not answered by a sentence that only names the school.
    typical = sorted(bm.idf.values())[len(bm.idf) // 2] if bm.idf else 1.0
    total = (sum(weights.values()) + typical * len(unknown)) or 1.0
    qlow = question.lower()
    wants_number = bool(re.search(
        r"\bhow (many|much)\b|\bnumber of\b|\bpercent|\bshare\b|\bhow long\b", qlow
    ))
    wants_date = bool(
        re.search(r"\bwhen\b|\bdate\b|\bwhat year\b|\bwhich year\b|\bperiod\b", qlow)
    )
    mentioned = {c for w, c in _COUNTRY_WORDS.items() if w in tokens(question)} - {"EU"}
    asked_country = next(iter(mentioned)) if len(mentioned) == 1 else None

    def score_span(sp: ScoredPassage, s: int, e: int, sim: float, ctx: set[str]) -> float:
        raw = sp.passage.text[s:e]
        st = set(tokens(raw))
        cov = sum(w for t, w in weights.items() if t in st)
        cov += 0.5 * sum(w for t, w in weights.items() if t not in st and t in ctx)
        # Lexical coverage of the question and semantic similarity, equally weighted.
        score = LEXICAL_SHARE * cov / total + (1 - LEXICAL_SHARE) * sim
        body = _ENUMERATOR.sub("", display(raw))
        if wants_number:  # list numbering ("6. … 7. …") is not a figure
            figures = _LIST_NUMBER.sub(" ", body)
            score += 0.08 if re.search(r"\d", figures) else -0.08
        if wants_date:
            score += 0.08 if _MONTHS.search(raw) else -0.08
        # A bare list item ("7. Tbilisi State University") names a thing; it says nothing.
        if _ENUMERATOR.match(display(raw)) and len(body) < 80 and not re.search(r"\d", body):
            score -= 0.15
        # Very long "sentences" (tables, lists run together) are poor quotes.
        if e - s > 600:
            score -= 0.1
        # A question about one country is answered from that country's documents: the other
        # country's sentences are marked down (never is a sentence marked up past the floor).
        if asked_country and sp.passage.country in {"AM", "GE"} - {asked_country}:
            score -= COUNTRY_BIAS
        return score + 0.04 / sp.rank

    cands: list[Candidate] = []
    for sp in passages:
        if not sp.evidence:
            continue
        p = sp.passage
        ctx = set(tokens(f"{p.title} {p.section}"))
        units = [
            u for u in (sp.sentences or tuple((s, e, 0.0) for s, e in sentence_spans(p.text)))
            if _is_answer_like(display(p.text[u[0] : u[1]]))
        ]
        for i, (s, e, sim) in enumerate(units):
            cands.append(Candidate(sp, s, e, score_span(sp, s, e, sim, ctx)))
            # A sentence and the next one, when together they answer better: the second often
            # carries the figure ("These are professional courses with duration of one year").
            if i + 1 < len(units) and p.text[e : units[i + 1][0]].count("\n") <= 2:
                s2, e2, sim2 = units[i + 1]
                if e2 - s <= 500:
                    pair = score_span(sp, s, e2, max(sim, sim2), ctx) - PAIR_PENALTY
                    cands.append(Candidate(sp, s, e2, pair))
    return sorted(cands, key=lambda c: -c.score)


def _similar(a: str, b: str) -> bool:
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return a == b
    return len(ta & tb) / len(ta | tb) >= 0.6


def choose_sentences(
    question: str, cands: list[Candidate], settings: Settings, unknown_terms: bool = False
) -> list[Candidate]:
    """The best sentences: above the floor, not repeating each other, both countries if asked.

    A question with a content word the corpus never uses ("tuition", "salary") needs a clearly
    better sentence: the documents may simply not speak of it.
    """
    floor = settings.min_sentence_score + (UNKNOWN_TERM_MARGIN if unknown_terms else 0.0)
    good = [c for c in cands if c.score >= floor]
    if not good:
        return []
    best = good[0].score
    chosen: list[Candidate] = []

    def repeats(c: Candidate) -> bool:
        return any(c.overlaps(o) or _similar(c.quote, o.quote) for o in chosen)

    mentioned = {c for w, c in _COUNTRY_WORDS.items() if w in tokens(question)}
    comparative = len(mentioned) >= 2 or bool(_COMPARATIVE.search(question))
    if comparative:
        # The question asks for both sides: once one sentence clears the floor, the best
        # sentence of each other document may stand a little below it.
        seen_docs: set[str] = set()
        for c in cands:
            doc = c.sp.passage.doc_id
            if doc not in seen_docs and c.score >= max(0.8 * floor, 0.6 * best) and not repeats(c):
                chosen.append(c)
                seen_docs.add(doc)
    limit = max(settings.max_answer_sentences, len(chosen))
    for c in good:
        if len(chosen) >= limit or c.score < best * RELATIVE_FLOOR:
            break
        if not repeats(c):
            chosen.append(c)
    return chosen


# --------------------------------------------------------------------------------------------
# LLM answers: markers, support
# --------------------------------------------------------------------------------------------
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


_MARKER_AFTER_STOP = re.compile(r"([.!?])\s*((?:\[\d{1,3}(?:\s*,\s*\d{1,3})*\]\s*)+)")


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of a model's answer; a marker written after the full stop stays with it."""
    text = _MARKER_AFTER_STOP.sub(lambda m: f" {m.group(2).strip()}{m.group(1)} ", text)
    return [text[s:e] for s, e in sentence_spans(text)]


def support_score(sentence: str, passage_text: str) -> tuple[float, str]:
    """Share of the sentence's content words found in the passage, and the best-matching quote."""
    st = set(tokens(_MARKER.sub("", sentence)))
    best_quote, best = "", 0.0
    for s, e in sentence_spans(passage_text):
        pt = set(tokens(passage_text[s:e]))
        if not pt or not st:
            continue
        overlap = len(st & pt) / len(st)
        if overlap > best:
            best, best_quote = overlap, display(passage_text[s:e])
    return best, best_quote


def key_facts_agree(sentence: str, passage_text: str) -> bool:
    """Every figure and country the sentence states also appears in the passage (or its title)."""
    words_p = set(tokens(passage_text))
    figures = set(re.findall(r"\d+(?:[.,]\d+)*", _LIST_NUMBER.sub(" ", sentence)))
    countries = {t for t in tokens(sentence) if t in _COUNTRY_WORDS}
    return figures <= set(re.findall(r"\d+(?:[.,]\d+)*", passage_text)) and countries <= words_p


def _with_marker(sentence: str, n: int) -> str:
    """The sentence with its citation marker before the final punctuation."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[: len(body) - len(end)].rstrip()} [{n}]{end}"


# --------------------------------------------------------------------------------------------
# The assistant
# --------------------------------------------------------------------------------------------
class Assistant:
    """The one entry point: ``Assistant(settings).ask(question, history, filters) -> Answer``."""

    def __init__(
        self,
        settings: Settings | None = None,
        index: Index | None = None,
        llm: BaseChatModel | None = None,
        audit_log: Path | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.index = index or Index(self.settings)
        self.retriever = HybridRetriever(self.index, self.settings)
        self._llm = llm
        self.audit_log = audit_log
        self.answer_prompt = load_prompt(
            self.settings.prompts_path, "answer", ("passages", "question", "abstain")
        )
        self.condense_prompt = load_prompt(
            self.settings.prompts_path, "condense", ("history", "question")
        )

    # -- model ----------------------------------------------------------------------------------
    @property
    def llm(self) -> BaseChatModel:
        if self._llm is None:
            from assistant.llm import make_chat_model

            self._llm = make_chat_model(self.settings)
        return self._llm

    def model_name(self, mode: str) -> str:
        if mode != "llm":
            return "extractive"
        s = self.settings
        if s.llm_backend == "llamacpp":
            return f"llamacpp:{Path(str(s.llm_gguf_path)).name}"
        return f"openai:{s.llm_model}@{s.llm_base_url or 'default'}"

    # -- asking ---------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | dict[str, Any] | None = None,
        mode: str | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer one question; the answer carries its citations, passages and audit record."""
        *_, final = self.ask_stream(question, history, filters, mode, k)
        return final

    def ask_stream(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | dict[str, Any] | None = None,
        mode: str | None = None,
        k: int | None = None,
    ) -> Iterator[Answer]:
        """Like :meth:`ask`, yielding partial answers while an LLM streams; the last is final."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        mode = mode or self.settings.mode
        if mode not in {"extractive", "llm"}:
            raise InputError(f"Unknown answer mode {mode!r}; use extractive or llm")
        q = check_question(question, self.settings)
        f = Filters.of(filters)
        history = list(history or [])

        t = time.perf_counter()
        standalone = self._standalone(q, history, mode)
        timings["condense_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        passages = self.retriever.retrieve(standalone, f, k=k, timings=timings)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000

        terms = _question_terms(standalone, self.retriever)
        reason = self._abstain_reason(standalone, passages, terms[1])
        if reason:
            yield self._finish(self._abstention(q, standalone, passages, mode, reason),
                               t0, timings, f)
            return
        t = time.perf_counter()
        if mode == "extractive":
            answer = self._extractive(q, standalone, passages, terms)
            timings["answer_ms"] = (time.perf_counter() - t) * 1000
            yield self._finish(answer, t0, timings, f)
            return
        final: Answer | None = None
        for partial, done in self._llm_answer(q, standalone, passages):
            if done:
                final = partial
            else:
                yield partial
        timings["answer_ms"] = (time.perf_counter() - t) * 1000
        assert final is not None
        yield self._finish(final, t0, timings, f)

    def _standalone(self, q: str, history: History, mode: str) -> str:
        if not history:
            return q
        if mode == "llm":
            hist = "\n".join(f"User: {u}\nAssistant: {a[:500]}" for u, a in history[-4:])
            msg = self.condense_prompt.format(history=hist, question=q)
            out = str(self.llm.invoke(msg).content).strip().splitlines()
            return out[0].strip() if out and out[0].strip() else q
        return condense_rule_based(q, history)

    def _abstain_reason(
        self, question: str, passages: list[ScoredPassage], unknown: list[str]
    ) -> str:
        if looks_like_injection(question):
            return "the question asks to change the rules; answers come only from the documents"
        names = _proper_nouns(question) & set(unknown)
        if names:
            return f"the documents never mention {', '.join(sorted(names))}"
        if not any(p.evidence for p in passages):
            return "no passage cleared the relevance floor"
        return ""

    # -- the two modes --------------------------------------------------------------------------
    def _extractive(
        self, q: str, standalone: str, passages: list[ScoredPassage],
        terms: tuple[list[str], list[str]],
    ) -> Answer:
        cands = extractive_candidates(standalone, passages, self.retriever, terms)
        chosen = choose_sentences(standalone, cands, self.settings, bool(terms[1]))
        if not chosen:
            return self._abstention(q, standalone, passages, "extractive",
                                    "no sentence of the passages answers the question")
        citations: list[Citation] = []
        lines = []
        chosen = [c.with_list() for c in chosen]
        for n, c in enumerate(chosen, 1):
            quote = c.quote
            citations.append(Citation(n=n, passage=c.sp.passage, quote=quote,
                                      verified=verify_quote(quote, c.sp.passage)))
            lines.append(f"\u201c{quote}\u201d [{n}]")
        return Answer(question=q, text="\n\n".join(lines), citations=citations,
                      passages=passages, abstained=False, mode="extractive",
                      standalone_question=standalone,
                      support=[SentenceSupport(c.quote, (i,), True, round(c.score, 3))
                               for i, c in enumerate(chosen, 1)])

    def _llm_answer(
        self, q: str, standalone: str, passages: list[ScoredPassage]
    ) -> Iterator[tuple[Answer, bool]]:
        evidence = [sp for sp in passages if sp.evidence]
        numbered = "\n\n".join(
            f"[{i}] ({sp.passage.location()})\n{display(sp.passage.text)}"
            for i, sp in enumerate(evidence, 1)
        )
        prompt = self.answer_prompt.format(passages=numbered, question=standalone,
                                           abstain=ABSTAIN_TEXT)
        text = ""
        try:
            for chunk in self.llm.stream(prompt):
                text += str(chunk.content)
                yield Answer(question=q, text=text, citations=[], passages=passages,
                             abstained=False, mode="llm", standalone_question=standalone), False
        except Exception as exc:
            from assistant.errors import LLMError

            raise LLMError(f"The language model failed: {exc}") from exc
        answer = self._check_llm_text(q, standalone, text, passages, evidence)
        answer.audit["model_output"] = text  # what the model wrote, before any checking
        yield answer, True

    def _check_llm_text(
        self, q: str, standalone: str, text: str, passages: list[ScoredPassage],
        evidence: list[ScoredPassage],
    ) -> Answer:
        """Remove markers that point at no passage, check each sentence, build citations."""
        if normalize(ABSTAIN_TEXT)[:40].lower() in normalize(text).lower():
            return self._abstention(q, standalone, passages, "llm", "the model found no answer")
        n_ok = len(evidence)

        def keep(m: re.Match[str]) -> str:
            nums = [int(x) for x in re.split(r"\s*,\s*", m.group(1)) if 1 <= int(x) <= n_ok]
            return "".join(f"[{n}]" for n in dict.fromkeys(nums))

        clean = _MARKER.sub(keep, text).strip()
        threshold = self.settings.support_threshold
        support: list[SentenceSupport] = []
        cites: dict[int, Citation] = {}
        out: list[str] = []
        for sent in split_answer_sentences(clean):
            nums = tuple(dict.fromkeys(int(n) for g in _MARKER.findall(sent)
                                       for n in re.split(r"\s*,\s*", g)))
            bare = re.sub(r"\s+([.!?,;:])", r"\1", _MARKER.sub("", sent)).strip()
            best, best_n, best_quote = self._best_support(bare, nums, evidence)
            attributed = False
            if best < threshold:
                # The model cited nothing, or the wrong passage: a passage that does support
                # the sentence is cited instead, and the support record says so.
                others = tuple(n for n in range(1, len(evidence) + 1) if n not in nums)
                alt, alt_n, alt_quote = self._best_support(bare, others, evidence)
                if alt >= threshold:
                    best, best_n, best_quote, attributed = alt, alt_n, alt_quote, True
            ok = best >= threshold
            support.append(SentenceSupport(bare, (best_n,) if attributed else nums, ok,
                                           round(best, 3), attributed))
            out.append(_with_marker(bare, best_n) if attributed else sent)
            if ok and best_n not in cites:
                p = evidence[best_n - 1].passage
                cites[best_n] = Citation(n=best_n, passage=p, quote=best_quote,
                                         verified=verify_quote(best_quote, p))
        if not any(s.supported for s in support):
            return self._abstention(q, standalone, passages, "llm",
                                    "no sentence of the model's answer is supported by a passage")
        return Answer(question=q, text=" ".join(out), citations=[cites[n] for n in sorted(cites)],
                      passages=passages, abstained=False, mode="llm",
                      standalone_question=standalone, support=support)

    @staticmethod
    def _best_support(
        sentence: str, nums: Sequence[int], evidence: list[ScoredPassage]
    ) -> tuple[float, int, str]:
        """The passage among ``nums`` that best supports the sentence: (score, n, quote)."""
        best, best_n, best_quote = 0.0, 0, ""
        for n in nums:
            p = evidence[n - 1].passage
            sc, quote = support_score(sentence, p.text)
            if sc > best and key_facts_agree(sentence, f"{p.title}\n{p.text}"):
                best, best_n, best_quote = sc, n, quote
        return best, best_n, best_quote

    def _abstention(self, q: str, standalone: str, passages: list[ScoredPassage], mode: str,
                    reason: str) -> Answer:
        closest = [
            ScoredPassage(sp.passage, sp.score, sp.dense, sp.lexical, sp.rank, evidence=False)
            for sp in passages[:3]
        ]
        return Answer(question=q, text=ABSTAIN_TEXT, citations=[], passages=closest,
                      abstained=True, mode=mode, standalone_question=standalone,
                      audit={"abstain_reason": reason})

    # -- audit ----------------------------------------------------------------------------------
    def _finish(self, answer: Answer, t0: float, timings: dict[str, float], f: Filters) -> Answer:
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings_ms = timings
        answer.audit = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": answer.question,
            "standalone_question": answer.standalone_question,
            "mode": answer.mode,
            "model": self.model_name(answer.mode),
            "prompt_version": self.answer_prompt.version if answer.mode == "llm" else None,
            "corpus_fingerprint": self.fingerprint(),
            "filters": f.to_dict(),
            "passages": [{"id": sp.passage.id, "doc_id": sp.passage.doc_id,
                          "score": round(sp.score, 5),
                          "dense": None if sp.dense is None else round(sp.dense, 4),
                          "evidence": sp.evidence} for sp in answer.passages],
            "citations": [c.passage.id for c in answer.citations],
            "abstained": answer.abstained,
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
            "settings": self._settings_digest(),
            **answer.audit,
        }
        if self.audit_log:
            self.audit_log.parent.mkdir(parents=True, exist_ok=True)
            with self.audit_log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(answer.audit, ensure_ascii=False) + "\n")
        return answer

    _fp: tuple[int, str] | None = None

    def fingerprint(self) -> str:
        """Corpus fingerprint, recomputed only when the number of indexed passages changes."""
        n = self.retriever.lexicon().count
        if self._fp is None or self._fp[0] != n:
            self._fp = (n, self.index.fingerprint())
        return self._fp[1]

    def _settings_digest(self) -> dict[str, Any]:
        s = self.settings
        keys = ("k", "fetch_k", "rrf_k", "max_per_doc", "relevance_floor", "min_sentence_score",
                "max_answer_sentences", "support_threshold", "chunk_size", "chunk_overlap",
                "embedding_model", "collection")
        d = {key: getattr(s, key) for key in keys}
        d["hash"] = hashlib.sha256(json.dumps(s.public_dict(), sort_keys=True,
                                              default=str).encode()).hexdigest()[:12]
        return d

    def check(self, text: str, filters: Filters | dict[str, Any] | None = None) -> Any:
        """Check every claim and reference of a draft: ``assistant.check.DraftReport``."""
        from assistant.check import check_draft

        return check_draft(self, text, filters)


def verify_quote(quote: str, passage: Passage) -> bool:
    """Is the quote found verbatim in the stored passage (whitespace, quotes, markup aside)?"""
    return contains_quote(passage.text, quote)


__all__ = ["ABSTAIN_TEXT", "Assistant", "check_question", "condense_rule_based", "verify_quote"]
