"""Every rule that makes the assistant decline, in one place, each with a named reason.

An abstention is the fixed sentence ``ABSTAIN_TEXT`` followed by its reason in plain words
("The documents speak of the teacher-training course but give no number of graduates."),
then the closest passages marked "not an answer". The reason code goes to the audit record.

Rules, in the order they are applied:
1. ``injection``      the question asks to change the rules
2. ``unknown_name``   it names something (a capitalised word) the documents never mention
   ``no_known_words`` it is in the documents' language and none of its words (nor a synonym
                      of one) occurs in them ("How do I bake a chocolate cake?")
3. ``no_evidence``    no passage cleared the relevance floor
4. ``off_subject``    (extractive and verify) even the most relevant passage is unlikely to
                      hold the answer: the reranker's relevance of every passage is below the
                      answer model's ``none_below`` (chosen on the tune part); outcome ``none``.
                      Not for a question in another language than every passage retrieved
                      (``across_languages``): rule 3's dense floor decides there alone
5. ``apparatus_only``  (extractive and verify) every span of the passages read is the
                      documents' apparatus (a reference list, contents, the questionnaire's
                      form): nothing they say comes close; outcome ``none``
6. ``below_threshold`` no span of the passages reaches the answer model's threshold (the
                      outcome is ``evidence``: the closest passage is shown, not quoted as an
                      answer; see ``scorer.py``)
7. ``judge_rejected`` (verify mode) no judged span reaches the threshold of the combined
                      probability (the local model's "yes" and the answer model's, judging.py)
8. ``llm_no_answer`` / ``llm_unsupported`` (llm mode) the model found nothing, or nothing it
                      wrote is supported by a passage
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answer.questions import QuestionInfo, detect_language, looks_like_injection
from assistant.retrieve.hybrid import Retrieval
from assistant.text import tokens

INJECTION = "injection"
UNKNOWN_NAME = "unknown_name"
NO_KNOWN_WORDS = "no_known_words"
NO_EVIDENCE = "no_evidence"
OFF_SUBJECT = "off_subject"
APPARATUS_ONLY = "apparatus_only"
BELOW_THRESHOLD = "below_threshold"
JUDGE_REJECTED = "judge_rejected"
LLM_NO_ANSWER = "llm_no_answer"
LLM_UNSUPPORTED = "llm_unsupported"


@dataclass(frozen=True)
class Abstention:
    """Why the assistant declines: a reason code and a sentence for the reader."""

    code: str
    message: str
    detail: str = ""  # the figures behind it, for the audit only (a reader is not shown them)

    def sentence(self) -> str:
        m = self.message.strip().rstrip(".")
        return (m[:1].upper() + m[1:] + ".") if m else ""

    def reason(self) -> str:
        """The message with its figures, as the audit records it."""
        return f"{self.message} ({self.detail})" if self.detail else self.message


def before_answering(q: QuestionInfo, retrieval: Retrieval) -> Abstention | None:
    """Rules 1–3: the question itself, or what retrieval found, rules an answer out."""
    if looks_like_injection(q.text) or looks_like_injection(q.standalone):
        return Abstention(INJECTION, "the question asks to change the rules; answers come only "
                                     "from the documents")
    names = unknown_names(q.standalone, set(retrieval.terms.unknown))
    if names:
        return Abstention(UNKNOWN_NAME, f"the documents never mention {', '.join(names)}")
    strangers = no_known_words(q, retrieval)
    if strangers:
        return Abstention(NO_KNOWN_WORDS, f"none of the question's words ({', '.join(strangers)}) "
                                          "occurs in the indexed documents")
    if not retrieval.evidence:
        return Abstention(NO_EVIDENCE, "no passage of the indexed documents is close enough to "
                                       "the question")
    return None


def off_subject(q: QuestionInfo, retrieval: Retrieval, floor: float) -> Abstention | None:
    """Rule 4: no passage's relevance (the reranker's probability that it holds the answer)
    reaches ``floor``; with no relevance (reranking off) or floor 0 the rule does not apply,
    nor when the question is in another language than every passage (``across_languages``)."""
    rel = [sp.relevance for sp in retrieval.passages if sp.relevance is not None]
    if floor <= 0 or not rel or max(rel) >= floor or across_languages(q, retrieval):
        return None
    return Abstention(OFF_SUBJECT, "the indexed documents do not seem to speak of what was asked",
                      f"best relevance {max(rel):.3f}, needs {floor:.2f}")


def across_languages(q: QuestionInfo, retrieval: Retrieval) -> bool:
    """Is the question in another language than every passage retrieved?

    Then the relevance's word signals (BM25, the share of the question's terms a passage or its
    title holds) cannot fire, and its level says nothing about whether the documents speak of
    the question: on the tune part the median best relevance of an answerable question is 0.61
    in English and 0.24 in Armenian, Georgian or Russian (0.18 in Armenian), so a floor that
    costs 2% of the English ones costs 18% of the Armenian ones (a trial's "What is a
    micro-credential?" in Armenian got `none`, best 0.08). The dense floor (rule 3) still
    applies: a passage must be close to the question in meaning.
    """
    langs = {detect_language(sp.passage.text) for sp in retrieval.passages}
    return bool(langs) and detect_language(q.standalone) not in langs


def no_known_words(q: QuestionInfo, retrieval: Retrieval) -> list[str]:
    """The question's words as written, when none of them (nor a synonym of one) occurs in the
    indexed documents and the question is in the documents' language; else [].

    The ranker reads a question without corpus words as one in another language and leans on
    the dense similarity alone, which always finds something (the title page, 0.17, for a cake
    recipe). On the tune part the one English question without a corpus word is unanswerable
    (un-005); the 26 others are in Armenian, Georgian or Russian, which this rule leaves alone.
    """
    terms = retrieval.terms
    if terms.known or terms.weights or not terms.unknown or across_languages(q, retrieval):
        return []
    as_written = {tokens(w)[0]: w for w in re.findall(r"[^\W_][\w'-]*", q.standalone)
                  if tokens(w)}
    return [as_written.get(t, t) for t in terms.unknown]


def proper_nouns(question: str) -> dict[str, str]:
    """Capitalised words that are not the first word, names the documents must mention: their
    index term → the word as written (a trial read "never mention franc" for "France");
    short forms and compounds are not names here (``_a_name``)."""
    ws = re.findall(r"[A-Za-z][A-Za-z'-]+", question)
    return {tokens(w)[0]: w for w in ws[1:] if w[0].isupper() and tokens(w) and _a_name(w)}


def unknown_names(question: str, unknown: set[str]) -> list[str]:
    """The names of ``proper_nouns`` whose term is ``unknown`` to the index, as the reader
    wrote them: in the question's order, the words of one name together ("Zhanna Andreasyan",
    not "Andreasyan's, Zhanna"), without a possessive "'s" or a stray mark."""
    words = list(re.finditer(r"[A-Za-z][A-Za-z'-]+", question))
    names: list[list[str]] = []
    last = -1  # the end of the previous unknown name's word, when it is the previous word
    for i, m in enumerate(words[1:], start=1):
        w = m.group(0)
        if not (w[0].isupper() and tokens(w) and _a_name(w) and tokens(w)[0] in unknown):
            continue
        shown = re.sub(r"'s$", "", w).strip("'-")
        if last == words[i - 1].end() and not question[last : m.start()].strip():
            names[-1].append(shown)
        else:
            names.append([shown])
        last = m.end()
    return list(dict.fromkeys(" ".join(n) for n in names))


def _a_name(word: str) -> bool:
    """A capitalised word that names something: four letters or more, and not a compound
    with a lower-case part. A short form ("MC", "Uni") is usually of something the documents
    spell out, and "QA-related" is a compound of their words: on the tune part the rule denied
    three answerable questions for these, as many as the unanswerable ones it caught."""
    return sum(c.isalpha() for c in word) >= 4 and not re.search(r"-[a-z]", word)


def below_threshold(probability: float, threshold: float) -> Abstention:
    return Abstention(BELOW_THRESHOLD, "no span of the closest passages states the answer "
                                       "clearly enough",
                      f"best {probability:.2f}, needs {threshold:.2f}")


def apparatus_only(kinds: Iterable[str]) -> Abstention:
    """Rule 5: only the documents' apparatus came close (``spans.apparatus``)."""
    names = {"reference": "a reference list", "url": "links", "contents": "a list of contents",
             "heading": "headings", "questionnaire": "the survey's questionnaire"}
    seen = [names[k] for k in dict.fromkeys(kinds) if k in names]
    what = ", ".join(seen[:-1]) + f" or {seen[-1]}" if len(seen) > 1 else "".join(seen)
    return Abstention(APPARATUS_ONLY, f"the closest text in the documents is only {what}, "
                                      "which does not answer it")
