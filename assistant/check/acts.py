"""Acts a claim states (adoption, establishment): supported only by a sentence stating one."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from assistant.text import tokens, words


@lru_cache(maxsize=50_000)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


# Acts a claim may state: each is supported only by a sentence that states an act of its kind
# ("Armenia has adopted a law defining X" is not stated by "X is defined in Article 26 of the
# Law on Education"). (words of the claim that state the act, words of a sentence that state
# it too), by the beginning of the word; a closed list, not tuned.
_ACTS = (
    (("adopt", "approv", "enact", "ratif", "endors", "promulgat"),
     ("adopt", "approv", "enact", "ratif", "endors", "promulgat", "pass", "sign", "force")),
    (("establish", "creat", "launch", "founded"),
     ("establish", "creat", "launch", "found", "set", "open", "introduc", "start")),
)


# Words that end the thing an act is done to ("adopted a national law | defining …").
_OBJECT_END = frozenset({"in", "on", "for", "of", "by", "to", "with", "at", "from", "that",
                         "which", "who", "as", "and", "or", "since", "under", "into", "within",
                         "between", "after", "before", "during", "than"})
# Legal instruments a text may name for one another ("a law" / "legislation").
_LEGAL = frozenset({"law", "laws", "legislation", "act", "acts", "decree", "decrees",
                    "regulation", "regulations", "code", "resolution", "order"})


# Words that make the thing not yet made: a *draft* law is no adopted law ("changes are taking
# place based on the new draft law" does not state that a law was adopted). A closed list.
_UNMADE = frozenset({"draft", "drafts", "proposed", "planned", "future", "prospective"})


def _only_unmade(head: str, c_phrase: Sequence[str], u_words: Sequence[str]) -> bool:
    """Does the unit name the act's object only as a draft, proposal or plan, while the claim
    names the thing itself ("adopted a law" against "the new draft law")?"""
    if _UNMADE & set(c_phrase):
        return False
    head_toks = set(_tokens(head))
    hits = [i for i, w in enumerate(u_words)
            if (head in _LEGAL and w in _LEGAL) or (head_toks and head_toks <= set(_tokens(w)))]
    return bool(hits) and all(_UNMADE & set(u_words[max(0, i - 3):i]) for i in hits)


def _act_object(ws: Sequence[str], i: int) -> str | None:
    """The head word of what the act at ``ws[i]`` is done to ("adopted a national law
    defining …": law), None when the claim does not say (a passive "was adopted")."""
    phrase: list[str] = []
    for w in ws[i + 1:i + 6]:
        if w in _OBJECT_END or w.endswith("ing"):
            break
        phrase.append(w)
    heads = [w for w in phrase if _tokens(w)]
    return heads[-1] if heads else None


def lacks_act(claim: str, unit: str) -> bool:
    """Does the claim state an act (adoption, establishment) the unit does not state, or not
    of the same thing? ("Armenia has adopted a national law" is stated neither by "… is
    defined in Article 26 of the Law on Education" nor by "the EUCO adopted the proposal".)"""
    c_words, u_words = words(claim), words(unit)
    u_toks = set(_tokens(unit))
    for states, stated in _ACTS:
        at = next((i for i, w in enumerate(c_words) if w.startswith(states)), None)
        if at is None:
            continue
        if not any(w.startswith(stated) for w in u_words):
            return True
        head = _act_object(c_words, at)
        if head and not (set(_tokens(head)) <= u_toks
                         or (head in _LEGAL and _LEGAL & set(u_words))):
            return True
        if head and _only_unmade(head, c_words[at + 1:at + 6], u_words):
            return True
    return False
