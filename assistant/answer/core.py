"""The assistant: one entry point, ``Assistant(settings).ask(question, history, filters)``.

The flow of one answer: check the question → resolve a follow-up → read the question (language,
countries, slot, named documents) → retrieve → abstention rules → the mode's answer step →
citations with verified quotes → notes (language, documents not indexed, a country the
documents are silent on) → the audit record.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer import abstain
from assistant.answer.abstain import Abstention
from assistant.answer.audit import append as append_audit
from assistant.answer.audit import audit_record
from assistant.answer.evidence import (
    COMPARED,
    UNQUOTABLE,
    country_best,
    country_evidence,
    has_country_spans,
    highlights,
    not_evidence,
    shown_passages,
    what_documents_say,
)
from assistant.answer.grounded import Judge, JudgeCache, check_model_text
from assistant.answer.judging import JUDGE_MODEL_PATH, load_judge_model
from assistant.answer.modes import MODE_NAMES, unavailable_reason
from assistant.answer.questions import (
    COUNTRY_NAMES,
    History,
    QuestionInfo,
    check_question,
    condense_rule_based,
    countries_in,
    is_follow_up,
    read_question,
)
from assistant.answer.scorer import MODEL_PATH, AnswerModel, ScoredSpan, load_model, score_spans
from assistant.answer.spans import build_spans
from assistant.config import Settings
from assistant.documents.manifest import names_document
from assistant.errors import ConfigError, InputError, LLMError
from assistant.prompts import ABSTAIN_TEXT, EVIDENCE_COUNTRIES_TEXT, EVIDENCE_TEXT, load_prompt
from assistant.retrieve.filters import Filters
from assistant.retrieve.hybrid import HybridRetriever, Retrieval
from assistant.safety import instruction_like, mask_url
from assistant.store.index import Index
from assistant.text import contains_quote, display, normalize
from assistant.types import Answer, Citation, DocumentInfo, Passage, ScoredPassage, SentenceSupport

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

NO_HIGHLIGHT_TEXT = f"{UNQUOTABLE.capitalize()}; read the passage itself, the first source."

# A note for a question not asked in English, in the question's language and in English.
LANGUAGE_NOTES = {
    "ru": "Документы написаны на английском языке; ниже — дословные цитаты из них.",
    "hy": "Փաստաթղթերը անգլերեն են. ստորև բերված են բառացի մեջբերումներ դրանցից։",
    "ka": "დოკუმენტები ინგლისურ ენაზეა; ქვემოთ მოცემულია ზუსტი ციტატები მათგან.",
}
ENGLISH_NOTE = "(The documents are in English; the quotes below are verbatim.)"
# the same notes where no quote follows (the outcome `none`)
NO_QUOTE_NOTES = {
    "ru": "Документы написаны на английском языке.",
    "hy": "Փաստաթղթերը անգլերեն են։",
    "ka": "დოკუმენტები ინგლისურ ენაზეა.",
}
NO_QUOTE_ENGLISH_NOTE = "(The documents are in English.)"


def verify_quote(quote: str, passage: Passage) -> bool:
    """Is the quote found verbatim in the stored passage (whitespace, quotes, markup aside)?"""
    return contains_quote(passage.text, quote)


class Assistant:
    """The one entry point: ``Assistant(settings).ask(question, history, filters) -> Answer``."""

    def __init__(
        self,
        settings: Settings | None = None,
        index: Index | None = None,
        llm: BaseChatModel | None = None,
        audit_log: Path | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.index = index or Index(self.settings)
        self.retriever = HybridRetriever(self.index, self.settings)
        self._llm = llm
        self.judge = judge  # verify mode's judge (made from ``llm`` when None)
        self.audit_log = audit_log
        self.answer_prompt = load_prompt(
            self.settings.prompts_path, "answer", ("passages", "question", "abstain")
        )
        self.condense_prompt = load_prompt(
            self.settings.prompts_path, "condense", ("history", "question")
        )
        self.verify_prompt = load_prompt(self.settings.prompts_path, "verify",
                                         ("question", "quote"))
        self._coverage_cache: tuple[int, list[tuple[DocumentInfo, bool]]] | None = None
        self._fp: tuple[int, str] | None = None

    # -- model ----------------------------------------------------------------------------------
    @property
    def llm(self) -> BaseChatModel:
        if self._llm is None:
            from assistant.answer.llm import make_chat_model

            self._llm = make_chat_model(self.settings)
        return self._llm

    def model_name(self, mode: str) -> str:
        if mode == "extractive":
            return "extractive"
        s = self.settings
        if s.llm_backend == "llamacpp":
            return f"llamacpp:{Path(str(s.llm_gguf_path)).name}"
        return f"openai:{s.llm_model}@{mask_url(s.llm_base_url) or 'default'}"

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
        if mode not in MODE_NAMES:
            raise InputError(f"Unknown answer mode {mode!r}; use {', '.join(MODE_NAMES)}")
        given = self._llm is not None or (mode == "verify" and self.judge is not None)
        problem = None if given else self.mode_problem(mode)
        if problem:
            raise ConfigError(f"The {mode} answer mode needs a language model: {problem}.")
        q = check_question(question, self.settings)
        f = Filters.of(filters)
        history = list(history or [])

        # The index read into memory (cold on a first question, again after a change): timed
        # on its own, or the first question's condense_ms held it (a trial saw 1.2 s).
        t = time.perf_counter()
        self.retriever.lexicon()
        timings["load_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        info = self.read_question(q, history, mode)
        standalone = info.standalone
        timings["condense_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        retrieval = self.retriever.retrieve(standalone, f, k=k, timings=timings)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000

        stop = abstain.before_answering(info, retrieval)
        if stop:
            yield self._finish(self._abstention(info, retrieval, mode, stop), t0, timings, f)
            return
        t = time.perf_counter()
        if mode in {"extractive", "verify"}:
            answer = self._extractive(info, retrieval, mode)
            timings["answer_ms"] = (time.perf_counter() - t) * 1000
            yield self._finish(answer, t0, timings, f)
            return
        final: Answer | None = None
        for partial, done in self._llm_answer(info, retrieval):
            if done:
                final = partial
            else:
                yield partial
        timings["answer_ms"] = (time.perf_counter() - t) * 1000
        assert final is not None
        yield self._finish(final, t0, timings, f)

    def read_question(self, q: str, history: History = (), mode: str = "extractive"
                      ) -> QuestionInfo:
        """The checked question read in context: the follow-up resolved, language, countries,
        slot and the manifest documents it names."""
        standalone = self._standalone(q, list(history), mode)
        return read_question(q, standalone, self._named_documents(standalone))

    def _standalone(self, q: str, history: History, mode: str) -> str:
        if not history:
            return q
        if mode == "llm" and is_follow_up(q):
            hist = "\n".join(f"User: {u}\nAssistant: {a[:500]}" for u, a in history[-4:])
            msg = self.condense_prompt.format(history=hist, question=q)
            out = str(self.llm.invoke(msg).content).strip().splitlines()
            return out[0].strip() if out and out[0].strip() else condense_rule_based(q, history)
        return condense_rule_based(q, history)

    # -- documents the question names -----------------------------------------------------------
    def coverage(self) -> list[tuple[DocumentInfo, bool]]:
        """Every manifest document and whether it is indexed (cached until the index changes)."""
        from assistant.documents.manifest import load_manifest

        n = self.retriever.lexicon().count
        if self._coverage_cache is None or self._coverage_cache[0] != n:
            try:
                infos = load_manifest(self.settings.manifest_path)
            except Exception:  # no manifest (a bare index): nothing to say about coverage
                infos = []
            indexed = {p.doc_id for p in self.retriever.lexicon().passages}
            self._coverage_cache = (n, [(i, i.id in indexed) for i in infos])
        return self._coverage_cache[1]

    def _named_documents(self, question: str) -> tuple[str, ...]:
        asked = countries_in(question)
        out = []
        for info, _ in self.coverage():
            if info.country in {"AM", "GE"} and asked & {"AM", "GE"} and info.country not in asked:
                continue
            if names_document(info, question):  # not a new law of a similar name
                out.append(info.id)
        return tuple(out)

    def _coverage_notes(self, info: QuestionInfo, answered: bool) -> list[str]:
        """A note for each document the question names that is not indexed, with how to add it."""
        notes = []
        states = {d.id: (d, ok) for d, ok in self.coverage()}
        for doc_id in info.named_docs:
            d, ok = states[doc_id]
            if ok:
                continue
            how = ("run `assistant corpus fetch`" if d.urls else
                   f"save the official text as corpus/{d.path}")
            tail = " What the indexed documents say about it:" if answered else ""
            notes.append(f"The {d.title} is not in the index, so no answer can quote it. To add "
                         f"it, {how}, then `assistant ingest`.{tail}")
        return notes

    # -- extractive and verify ------------------------------------------------------------------
    @property
    def answer_model(self) -> AnswerModel:
        return load_model(self.settings.answer_model_path or MODEL_PATH)

    @property
    def threshold(self) -> float:
        """The probability a span needs to be the answer (the model's, unless set)."""
        t = self.settings.answer_threshold
        return self.answer_model.threshold if t is None else t

    @property
    def none_below(self) -> float:
        """The relevance every passage must miss for the outcome `none` (the model's, unless
        set)."""
        f = self.settings.answer_none_below
        return self.answer_model.none_below if f is None else f

    def read(self, info: QuestionInfo, retrieval: Retrieval) -> list[ScoredSpan]:
        """Every span of the evidence passages with its probability of stating the answer."""
        spans = [span for sp in retrieval.evidence for span in build_spans(sp)]
        return score_spans(info, retrieval, spans, self.answer_model)

    def _extractive(self, info: QuestionInfo, retrieval: Retrieval, mode: str) -> Answer:
        off = abstain.off_subject(info, retrieval, self.none_below)
        if off:
            return self._abstention(info, retrieval, mode, off)
        every = asked_country_first(info, self.read(info, retrieval))
        scored = what_documents_say(every)  # no reference entry, contents line or form
        if every and not scored:
            return self._abstention(info, retrieval, mode, abstain.apparatus_only(
                kind for c in every if (kind := c.span.apparatus)))
        if not scored:
            return self._evidence(info, retrieval, mode, scored, abstain.below_threshold(0.0, 1))
        if info.both_countries:
            return self._comparison(info, retrieval, mode, scored)
        threshold = self.threshold
        best = scored[0]
        audit: dict[str, Any] = {"probability": round(best.probability, 4),
                                 "threshold": threshold, "best_quote": best.span.shown}
        if mode == "verify":
            return self._verified(info, retrieval, scored, audit)
        if best.probability < threshold:
            return self._evidence(info, retrieval, mode, scored,
                                  abstain.below_threshold(best.probability, threshold), audit)
        return self._quoted(info, retrieval, mode, [(None, best)], audit)

    def _verified(
        self, info: QuestionInfo, retrieval: Retrieval, scored: list[ScoredSpan],
        audit: dict[str, Any],
    ) -> Answer:
        """verify mode: the local model judges the top spans of the answer model; the judged
        span with the highest combined probability is the answer when it reaches the
        combination's threshold (``judging.py``), else the outcome is ``evidence``."""
        combo = load_judge_model(self.settings.judge_model_path or JUDGE_MODEL_PATH)
        judge = self.judge or Judge(self.llm, self.verify_prompt, cache=self._judge_cache())
        judge.calls = []
        top = [c for c in scored[:combo.top_k] if c.probability >= combo.floor]
        try:
            combined = [(combo.probability(c.probability,
                                           judge.probability(info.standalone, c.span.quote)), c)
                        for c in top]
        except LLMError:
            raise
        except Exception as exc:  # the same clear message as llm mode (issue 18)
            raise LLMError(f"The language model failed: {exc}") from exc
        for call, (p, _) in zip(judge.calls, combined, strict=True):
            call["combined"] = round(p, 4)
        audit.update(judge=judge.calls, threshold=combo.threshold)
        if not combined:
            return self._evidence(info, retrieval, "verify", scored,
                                  abstain.below_threshold(scored[0].probability, combo.floor),
                                  audit)
        p, best = max(combined, key=lambda t: t[0])
        if p < combo.threshold:
            # the closest evidence is the passage of the best judged span
            return self._evidence(info, retrieval, "verify", [best, *scored], Abstention(
                abstain.JUDGE_REJECTED, "the checking model and the answer model together "
                                        "judged that none of the closest spans states the answer"),
                audit)
        audit["combined_probability"] = round(p, 4)
        answer = self._quoted(info, retrieval, "verify", [(None, best)], audit)
        if answer.outcome == "answer":
            answer.probability = p
        return answer

    def _judge_cache(self) -> JudgeCache | None:
        path = self.settings.judge_cache_path
        return JudgeCache(path) if path else None

    def _comparison(
        self, info: QuestionInfo, retrieval: Retrieval, mode: str, scored: list[ScoredSpan],
    ) -> Answer:
        """Each country's best span, chosen among that country's passages only. A country whose
        span reaches the threshold is answered; the other's closest passage is shown beside it,
        labelled as such; when neither reaches it, the outcome is per-country ``evidence``."""
        threshold = self.threshold
        best = {code: country_best(scored, code) for code in COMPARED}
        answered: list[tuple[str | None, ScoredSpan]] = [
            (code, c) for code, c in best.items() if c is not None and c.probability >= threshold]
        audit: dict[str, Any] = {"threshold": threshold, "probability": round(
            scored[0].probability, 4), "best_quote": scored[0].span.shown, "per_country": {
                code: round(c.probability if c else 0.0, 4) for code, c in best.items()}}
        if answered:
            return self._quoted(info, retrieval, mode, answered, audit, scored=scored)
        top = scored[0]
        if top.probability >= threshold:  # the best span speaks for neither country
            return self._quoted(info, retrieval, mode, [(None, top)], audit)
        return self._evidence(info, retrieval, mode, scored,
                              abstain.below_threshold(top.probability, threshold), audit)

    def _quoted(
        self, info: QuestionInfo, retrieval: Retrieval, mode: str,
        chosen: Sequence[tuple[str | None, ScoredSpan]], audit: dict[str, Any],
        scored: Sequence[ScoredSpan] = (),
    ) -> Answer:
        """The answer made of the chosen spans: one citation each, verified verbatim; in a
        comparison (``scored`` given), one line per country ("Armenia: “…” [1]"), and a country
        not answered gets its closest passage, labelled as such, or a line that its documents
        are silent."""
        citations: list[Citation] = []
        lines: list[str] = []
        dropped = []
        for country, c in chosen:
            span = c.span
            if not verify_quote(span.quote, span.sp.passage):
                dropped.append({"passage_id": span.sp.passage.id, "quote": span.quote[:200],
                                "why": "not found verbatim in the passage"})
                continue
            if instruction_like(span.quote):  # text that addresses the assistant is never an answer
                dropped.append({"passage_id": span.sp.passage.id, "quote": span.quote[:200],
                                "why": "addresses the reader or the assistant"})
                continue
            n = len(citations) + 1
            citations.append(Citation(n=n, passage=span.sp.passage, quote=span.quote,
                                      verified=True, shown=span.shown))
            label = f"{COUNTRY_NAMES[country]}: " if country else ""
            lines.append(f"{label}\u201c{span.shown}\u201d [{n}]")
        if dropped:
            audit["dropped_quotes"] = dropped
        if not citations:
            return self._evidence(info, retrieval, mode, scored or [c for _, c in chosen],
                                  Abstention(abstain.BELOW_THRESHOLD,
                                             "no quote of the closest passages could be verified"),
                                  audit)
        rest = [code for code in COMPARED if code not in {c.passage.country for c in citations}]
        closest = (country_evidence(scored, rest, verify_quote, answered=citations)
                   if scored else None)
        if closest:
            lines.extend(closest.lines)
        notes = self._language_notes(info) + self._coverage_notes(info, answered=True)
        text = "\n\n".join([*notes, *lines])
        return Answer(question=info.text, text=text, citations=citations,
                      passages=list(retrieval.passages), abstained=False, mode=mode,
                      standalone_question=info.standalone, notes=notes,
                      support=[SentenceSupport(c.quote, (c.n,), True, 1.0) for c in citations],
                      audit=audit, outcome="answer",
                      highlights=closest.highlights if closest else [],
                      probability=max(c.probability for _, c in chosen))

    def _evidence(
        self, info: QuestionInfo, retrieval: Retrieval, mode: str,
        scored: Sequence[ScoredSpan], why: Abstention, audit: dict[str, Any] | None = None,
    ) -> Answer:
        """Not answered clearly enough: the closest passage first, its best sentences
        highlighted, and one plain line saying it may not answer the exact question."""
        if not retrieval.evidence:
            return self._abstention(info, retrieval, mode, why, audit)
        if info.both_countries and has_country_spans(scored):
            # each country's closest passage, chosen among that country's passages only
            per = country_evidence(scored, COMPARED, verify_quote)
            shown = shown_passages(per.passages, retrieval.passages)
            lines, marked = [EVIDENCE_COUNTRIES_TEXT, *per.lines], per.highlights
        else:
            top = scored[0].span.sp if scored else retrieval.evidence[0]
            marked = highlights(top.passage, scored, verify_quote)
            shown = shown_passages([top], retrieval.passages)
            # each highlighted sentence carries its [n], the mark of its passage card (trial)
            lines = [EVIDENCE_TEXT, *(f"\u201c{h.shown}\u201d [{h.n}]" for h in marked)]
            if not marked:
                lines.append(NO_HIGHLIGHT_TEXT)
        notes = self._language_notes(info) + self._coverage_notes(info, answered=False)
        return Answer(question=info.text, text="\n\n".join([*lines, *notes]), citations=[],
                      passages=shown, abstained=True, mode=mode,
                      standalone_question=info.standalone, notes=notes,
                      audit={"abstain_reason": why.reason(), "abstain_code": why.code,
                             **(audit or {})},
                      outcome="evidence", highlights=marked,
                      probability=scored[0].probability if scored else None)

    def _notes(self, info: QuestionInfo, citations: Sequence[Citation]) -> list[str]:
        """Lines before an llm answer: language, documents not indexed, a country left silent."""
        notes = self._language_notes(info) + self._coverage_notes(info, answered=True)
        if info.both_countries:
            quoted = {c.passage.country for c in citations}
            silent = [COUNTRY_NAMES[c] for c in ("AM", "GE") if c not in quoted]
            if silent:
                notes.append(f"The indexed documents do not answer this for {silent[0]}; the "
                             "quotes below speak for the other country only.")
        return notes

    @staticmethod
    def _language_notes(info: QuestionInfo, quotes: bool = True) -> list[str]:
        """The note before an answer to a question in another language; a `none` promises
        no quotes (a trial: "the quotes below are verbatim" with none below)."""
        if not quotes:
            note = NO_QUOTE_NOTES.get(info.lang)
            return [f"{note} {NO_QUOTE_ENGLISH_NOTE}"] if note else []
        note = LANGUAGE_NOTES.get(info.lang)
        return [f"{note} {ENGLISH_NOTE}"] if note else []

    # -- llm ------------------------------------------------------------------------------------
    def _llm_answer(
        self, info: QuestionInfo, retrieval: Retrieval
    ) -> Iterator[tuple[Answer, bool]]:
        evidence = retrieval.evidence
        numbered = "\n\n".join(
            f"[{i}] ({sp.passage.location()})\n{display(sp.passage.text)}"
            for i, sp in enumerate(evidence, 1)
        )
        prompt = self.answer_prompt.format(passages=numbered, question=info.standalone,
                                           abstain=ABSTAIN_TEXT)
        text = ""
        try:
            for chunk in self.llm.stream(prompt):
                text += str(chunk.content)
                yield Answer(question=info.text, text=text, citations=[],
                             passages=list(retrieval.passages), abstained=False, mode="llm",
                             standalone_question=info.standalone), False
        except Exception as exc:
            raise LLMError(f"The language model failed: {exc}") from exc
        answer = self._check_llm_text(info, retrieval, text, evidence)
        answer.audit["model_output"] = text  # what the model wrote, before any checking
        yield answer, True

    def _check_llm_text(
        self, info: QuestionInfo, retrieval: Retrieval, text: str,
        evidence: list[ScoredPassage],
    ) -> Answer:
        if normalize(ABSTAIN_TEXT)[:40].lower() in normalize(text).lower():
            return self._abstention(info, retrieval, "llm", Abstention(
                abstain.LLM_NO_ANSWER, "the model found no answer in the passages"))
        checked = check_model_text(text, evidence, self.settings.support_threshold, verify_quote)
        if not checked.supported:
            return self._abstention(info, retrieval, "llm", Abstention(
                abstain.LLM_UNSUPPORTED,
                "no sentence of the model's answer is supported by a passage"))
        notes = self._notes(info, checked.citations)
        return Answer(question=info.text, text="\n\n".join([*notes, checked.text]),
                      citations=checked.citations, passages=list(retrieval.passages),
                      abstained=False, mode="llm", standalone_question=info.standalone,
                      support=checked.support, notes=notes)

    # -- abstaining -----------------------------------------------------------------------------
    def _abstention(
        self, info: QuestionInfo, retrieval: Retrieval, mode: str, why: Abstention,
        audit: dict[str, Any] | None = None,
    ) -> Answer:
        closest = [not_evidence(sp) for sp in retrieval.passages[:3]]
        notes = (self._language_notes(info, quotes=False)
                 + self._coverage_notes(info, answered=False))
        text = " ".join(x for x in (ABSTAIN_TEXT, why.sentence()) if x)
        return Answer(question=info.text, text="\n\n".join([text, *notes]),
                      citations=[], passages=closest, abstained=True, mode=mode,
                      standalone_question=info.standalone, notes=notes,
                      audit={"abstain_reason": why.reason(), "abstain_code": why.code,
                             **(audit or {})})

    # -- audit ----------------------------------------------------------------------------------
    def _finish(self, answer: Answer, t0: float, timings: dict[str, float], f: Filters) -> Answer:
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings_ms = timings
        answer.audit = audit_record(
            answer, model=self.model_name(answer.mode),
            prompt_version=self.answer_prompt.version if answer.mode == "llm" else (
                self.verify_prompt.version if answer.mode == "verify" else None),
            fingerprint=self.fingerprint(), filters=f, timings=timings, settings=self.settings,
        )
        if self.audit_log:
            append_audit(self.audit_log, answer.audit)
        return answer

    def fingerprint(self) -> str:
        """Corpus fingerprint, recomputed only when the number of indexed passages changes."""
        n = self.retriever.lexicon().count
        if self._fp is None or self._fp[0] != n:
            self._fp = (n, self.index.fingerprint())
        return self._fp[1]

    def mode_problem(self, mode: str) -> str | None:
        """None when ``mode`` can run here; otherwise why not (see ``answer.modes``)."""
        return unavailable_reason(mode, self.settings)


def asked_country_first(info: QuestionInfo, scored: list[ScoredSpan]) -> list[ScoredSpan]:
    """A question about one country (AM or GE) quotes that country's documents: the other
    country's spans are dropped whenever the asked country's documents offer any (EU and
    uploads without a country stay). A comparison or a question naming no country is unchanged.
    """
    asked = info.asked_country
    if asked is None or not any(c.span.country == asked for c in scored):
        return scored
    other = {"AM", "GE"} - {asked}
    return [c for c in scored if c.span.country not in other]
