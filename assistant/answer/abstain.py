"""Every rule that makes the assistant decline, in one place, each with a named reason.

An abstention is the fixed sentence ``ABSTAIN_TEXT`` followed by its reason in plain words
("The documents speak of the teacher-training course but give no number of graduates."),
then the closest passages marked "not an answer". The reason code goes to the audit record.

Rules, in the order they are applied:
1. ``injection``      the question asks to change the rules
2. ``unknown_name``   it names something (a capitalised word) the documents never mention
3. ``no_evidence``    no passage cleared the relevance floor
4. ``no_sentence``    no statement of the passages scores above the sentence floor
5. ``slot_missing``   the best statements speak of the subject but do not give what is asked
                      (a count *of what*, a date, a person, an amount, a share, a duration)
6. ``judge_rejected`` (verify mode) the local model judged that no candidate states the answer
7. ``llm_no_answer`` / ``llm_unsupported`` (llm mode) the model found nothing, or nothing it
                      wrote is supported by a passage
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.extractive import Candidate
from assistant.answer.questions import QuestionInfo, looks_like_injection
from assistant.retrieve.hybrid import Retrieval
from assistant.text import display, tokens

INJECTION = "injection"
UNKNOWN_NAME = "unknown_name"
NO_EVIDENCE = "no_evidence"
NO_SENTENCE = "no_sentence"
SLOT_MISSING = "slot_missing"
JUDGE_REJECTED = "judge_rejected"
LLM_NO_ANSWER = "llm_no_answer"
LLM_UNSUPPORTED = "llm_unsupported"


@dataclass(frozen=True)
class Abstention:
    """Why the assistant declines: a reason code and a sentence for the reader."""

    code: str
    message: str

    def sentence(self) -> str:
        m = self.message.strip().rstrip(".")
        return (m[:1].upper() + m[1:] + ".") if m else ""


def before_answering(q: QuestionInfo, retrieval: Retrieval) -> Abstention | None:
    """Rules 1–3: the question itself, or what retrieval found, rules an answer out."""
    if looks_like_injection(q.text) or looks_like_injection(q.standalone):
        return Abstention(INJECTION, "the question asks to change the rules; answers come only "
                                     "from the documents")
    names = proper_nouns(q.standalone) & set(retrieval.terms.unknown)
    if names:
        return Abstention(UNKNOWN_NAME, f"the documents never mention {', '.join(sorted(names))}")
    if not retrieval.evidence:
        return Abstention(NO_EVIDENCE, "no passage of the indexed documents is close enough to "
                                       "the question")
    return None


def proper_nouns(question: str) -> set[str]:
    """Capitalised words that are not the first word: names the documents must mention."""
    ws = re.findall(r"[A-Za-z][A-Za-z'-]+", question)
    return {tokens(w)[0] for w in ws[1:] if w[0].isupper() and tokens(w)}


def no_sentence() -> Abstention:
    return Abstention(NO_SENTENCE, "no sentence of the closest passages answers the question")


def _subject(q: QuestionInfo, retrieval: Retrieval, cands: Sequence[Candidate]) -> str:
    """The question's words that the closest sentences do use: what the documents speak of."""
    seen = set()
    for c in cands[:3]:
        seen.update(tokens(c.raw))
    words = []
    for w in re.findall(r"[A-Za-z][A-Za-z-]+", q.standalone):
        t = tokens(w)
        if t and t[0] in seen and t[0] not in {"armenia", "georgia"} and w.lower() not in words:
            words.append(w.lower())
    return " ".join(words[:4])


def answerable(
    q: QuestionInfo, chosen: Sequence[Candidate], cands: Sequence[Candidate],
    retrieval: Retrieval, floor: float = 0.0,
) -> tuple[list[Candidate], Abstention | None]:
    """Rule 5: keep the chosen statements that give what the question asks for.

    A question with a slot (how many, when, who is the minister, how much, what share, how
    long) is answered only by statements holding a value of that kind; for a count, the
    statement (or its section) must also name the counted thing or one of its equivalents.
    When none of them does, the best other candidate above the floor that does is the answer;
    when there is none, the answer is an abstention that says what the documents lack.
    """
    slot = q.slot
    if slot is None or not chosen:
        return list(chosen), None
    noun_forms: set[str] = set()
    if slot.noun:
        noun_forms = {slot.noun} | set(retrieval.terms.equivalents.get(slot.noun, ()))

    def fills(c: Candidate) -> bool:
        if not slot.filled_by(display(c.raw)):
            return False
        if not noun_forms:
            return True
        p = c.sp.passage
        around = p.text[max(0, c.start - 200) : c.end]
        return bool(noun_forms & set(tokens(f"{p.section} {around}")))

    kept = [c for c in chosen if fills(c)]
    if kept:
        return kept, None
    # The best statements do not give it; a statement that does and still clears the floor is
    # the answer (the figure often sits in a plainer sentence next to the best-worded one).
    backup = next((c for c in cands if c.score >= floor and fills(c)), None)
    if backup is not None:
        return [backup], None
    subject = _subject(q, retrieval, cands)
    what = f"speak of {subject}" if subject else "speak of the subject"
    return [], Abstention(SLOT_MISSING, f"the documents {what} but give no {slot.describe()}")
