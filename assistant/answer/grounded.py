"""Checks that keep a language model grounded: support of what it wrote, and a yes/no judge.

``llm`` mode: the model writes the answer with [n] markers; each sentence is checked against
the passage it cites (content-word overlap, and every figure and country must appear there).
A sentence cited to no passage or to the wrong one is cited to the passage that supports it.

``verify`` mode: the model never writes. The extractive step proposes its best spans and the
model is asked whether each states what the question asks; its probability of "yes" is read
(not its argmax) and combined with the answer model's (``judging.py``). The answer stays
verbatim quotes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import LLMError
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
class JudgeCache:
    """The judge's probability of "yes" per prompt text, kept in a JSON-lines file so that no
    prompt is sent to the model twice (training and evaluation runs; off by default)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.seen: dict[str, float] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.seen[row["prompt"]] = float(row["p_yes"])

    def get(self, prompt: str) -> float | None:
        return self.seen.get(prompt)

    def put(self, prompt: str, p_yes: float) -> None:
        self.seen[prompt] = p_yes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"prompt": prompt, "p_yes": p_yes}) + "\n")


class Judge:
    """Asks a chat model whether a quoted text states the answer, and reads how sure it is.

    With a llama.cpp model the probability of "yes" is read from the logits of the reply's first
    token, "yes" against "no" (either case), normalised over the two; nothing is generated
    beyond that token. Any other chat model is asked for its reply and its first word read:
    "yes" is 1.0, anything else 0.0.
    """

    def __init__(self, llm: BaseChatModel | None, prompt: Prompt,
                 cache: JudgeCache | None = None) -> None:
        self.llm = llm
        self.prompt = prompt
        self.cache = cache
        self.model_calls = 0  # prompts actually sent to the model (not found in the cache)
        self.calls: list[dict[str, Any]] = []  # what was asked and answered, for the audit

    def cached(self, question: str, quote: str) -> bool:
        msg = self.prompt.format(question=question, quote=quote)
        return self.cache is not None and self.cache.get(msg) is not None

    def probability(self, question: str, quote: str) -> float:
        """The model's probability that the quote states the answer to the question."""
        msg = self.prompt.format(question=question, quote=quote)
        p = self.cache.get(msg) if self.cache is not None else None
        if p is None:
            p = self._p_yes(msg)
            self.model_calls += 1
            if self.cache is not None:
                self.cache.put(msg, p)
        self.calls.append({"quote": quote[:300], "p_yes": round(p, 4), "yes": p >= 0.5})
        return p

    def __call__(self, question: str, quote: str) -> bool:
        return self.probability(question, quote) >= 0.5

    def _p_yes(self, msg: str) -> float:
        if self.llm is None:
            raise LLMError("verify mode needs a language model to judge the quotes")
        client = getattr(self.llm, "client", None)
        if client is not None and hasattr(client, "create_chat_completion"):
            return llamacpp_p_yes(client, msg)
        reply = str(self.llm.invoke(msg).content)
        return 1.0 if reply.strip().lower().lstrip("\"' ").startswith("yes") else 0.0


def llamacpp_p_yes(client: Any, msg: str) -> float:
    """P("yes") of a llama.cpp model's first reply token, normalised over yes and no.

    One token is sampled (llama.cpp reuses the prompt prefix it already read) and the logits of
    the last prompt position are read from the context: they are the first token's distribution.
    """
    import numpy as np
    from llama_cpp import llama_get_logits_ith

    client.create_chat_completion(messages=[{"role": "user", "content": msg}], max_tokens=1,
                                  temperature=0.0)
    n_vocab = client.n_vocab()
    logits = np.ctypeslib.as_array(llama_get_logits_ith(client.ctx, -1), shape=(n_vocab,))

    def ids(*words: str) -> list[int]:
        return [t for w in words for t in client.tokenize(w.encode(), add_bos=False)[:1]]

    yes = float(np.logaddexp.reduce(logits[ids("yes", "Yes")]))
    no = float(np.logaddexp.reduce(logits[ids("no", "No")]))
    return float(1.0 / (1.0 + np.exp(no - yes)))
