"""Checks that keep a language model grounded: support of what it wrote, and a yes/no judge.

``llm`` mode: the model writes the answer with [n] markers; each sentence is checked against
the passage it cites (content-word overlap, and every figure and country must appear there).
A sentence cited to no passage or to the wrong one is cited to the passage that supports it.

``verify`` mode: the model never writes. The extractive step proposes quotes and the model,
held by a grammar that admits only ``yes`` or ``no``, judges whether a quote states what the
question asks. The answer stays verbatim quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.text import display, sentence_spans, tokens
from assistant.types import Citation, Passage, ScoredPassage, SentenceSupport

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.prompts import Prompt

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_MARKER_AFTER_STOP = re.compile(r"([.!?])\s*((?:\[\d{1,3}(?:\s*,\s*\d{1,3})*\]\s*)+)")
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,3}[.)](?=\s)")
_COUNTRY_WORDS = {"armenia", "georgia", "europe"}


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


def with_marker(sentence: str, n: int) -> str:
    """The sentence with its citation marker before the final punctuation."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[: len(body) - len(end)].rstrip()} [{n}]{end}"


def best_support(
    sentence: str, nums: Sequence[int], evidence: Sequence[ScoredPassage]
) -> tuple[float, int, str]:
    """The passage among ``nums`` that best supports the sentence: (score, n, quote)."""
    best, best_n, best_quote = 0.0, 0, ""
    for n in nums:
        p = evidence[n - 1].passage
        sc, quote = support_score(sentence, p.text)
        if sc > best and key_facts_agree(sentence, f"{p.title}\n{p.text}"):
            best, best_n, best_quote = sc, n, quote
    return best, best_n, best_quote


@dataclass
class CheckedText:
    """A model's answer after the checks: text with valid markers, citations, support."""

    text: str
    citations: list[Citation]
    support: list[SentenceSupport]

    @property
    def supported(self) -> bool:
        return any(s.supported for s in self.support)


def check_model_text(
    text: str, evidence: Sequence[ScoredPassage], threshold: float,
    verify: Callable[[str, Passage], bool],
) -> CheckedText:
    """Remove markers that point at no passage, check each sentence, build citations."""
    n_ok = len(evidence)

    def keep(m: re.Match[str]) -> str:
        nums = [int(x) for x in re.split(r"\s*,\s*", m.group(1)) if 1 <= int(x) <= n_ok]
        return "".join(f"[{n}]" for n in dict.fromkeys(nums))

    clean = _MARKER.sub(keep, text).strip()
    support: list[SentenceSupport] = []
    cites: dict[int, Citation] = {}
    out: list[str] = []
    for sent in split_answer_sentences(clean):
        nums = tuple(dict.fromkeys(int(n) for g in _MARKER.findall(sent)
                                   for n in re.split(r"\s*,\s*", g)))
        bare = re.sub(r"\s+([.!?,;:])", r"\1", _MARKER.sub("", sent)).strip()
        best, best_n, best_quote = best_support(bare, nums, evidence)
        attributed = False
        if best < threshold:
            # The model cited nothing, or the wrong passage: a passage that does support the
            # sentence is cited instead, and the support record says so.
            others = tuple(n for n in range(1, n_ok + 1) if n not in nums)
            alt, alt_n, alt_quote = best_support(bare, others, evidence)
            if alt >= threshold:
                best, best_n, best_quote, attributed = alt, alt_n, alt_quote, True
        ok = best >= threshold
        # A marker is a promise that the passage supports the sentence: an unsupported
        # sentence keeps none (its support record shows it unsupported, with no citation).
        cited = ((best_n,) if attributed else nums) if ok else ()
        support.append(SentenceSupport(bare, cited, ok, round(best, 3), attributed))
        out.append(with_marker(bare, best_n) if attributed else sent if ok else bare)
        if ok and best_n not in cites:
            p = evidence[best_n - 1].passage
            cites[best_n] = Citation(n=best_n, passage=p, quote=best_quote,
                                     verified=verify(best_quote, p))
    return CheckedText(" ".join(out), [cites[n] for n in sorted(cites)], support)


# --------------------------------------------------------------------------------------------
# The yes/no judge of verify mode
# --------------------------------------------------------------------------------------------
YES_NO_GRAMMAR = 'root ::= "yes" | "no"'


class Judge:
    """Asks a chat model whether a quoted text states the answer; only ``yes`` or ``no``.

    With a llama.cpp model the reply is held to ``yes`` or ``no`` by a grammar; with any other
    chat model the first word of its reply is read, and anything but "yes" counts as "no".
    """

    def __init__(self, llm: BaseChatModel, prompt: Prompt) -> None:
        self.llm = llm
        self.prompt = prompt
        self.calls: list[dict[str, Any]] = []  # what was asked and answered, for the audit

    def __call__(self, question: str, quote: str) -> bool:
        msg = self.prompt.format(question=question, quote=quote)
        reply = self._reply(msg)
        verdict = reply.strip().lower().lstrip("\"' ").startswith("yes")
        self.calls.append({"quote": quote[:300], "reply": reply[:20], "yes": verdict})
        return verdict

    def _reply(self, msg: str) -> str:
        client = getattr(self.llm, "client", None)
        if client is not None and hasattr(client, "create_chat_completion"):
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_string(YES_NO_GRAMMAR, verbose=False)
            out = client.create_chat_completion(
                messages=[{"role": "user", "content": msg}], grammar=grammar, max_tokens=3,
                temperature=0.0,
            )
            return str(out["choices"][0]["message"]["content"] or "")
        return str(self.llm.invoke(msg).content)
