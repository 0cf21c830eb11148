"""Near-duplicate passages: the same wording in several documents, told apart only by names
and numbers (one template filled in for each university, each amended copy of a decree).

Left alone, such copies crowd the candidate lists (the 24 nearest passages are 24 copies of
one paragraph, so the passage that answers never becomes a candidate) and the top k (each copy
is in its own document, so the per-document cap does not stop them). Passages whose text is
the same once names (capitalised words) and numbers are masked form a group; retrieval ranks
a group once, through the member that fits the question best: the one in a country the
question names, then the one whose names and numbers the question uses (BM25), then the
closest vector. A question that names two countries keeps each country's best member.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from assistant.types import Passage

_NAME = re.compile(r"\b[^\W\d_][\w-]*", re.UNICODE)
_NUMBER = re.compile(r"\d+")
_CONTENT = re.compile(r"\b[a-z]{3,}\b")
K = TypeVar("K")


def duplicate_key(text: str) -> str | None:
    """The passage's wording with names and numbers masked, or None when nothing but names,
    numbers and markup is left (a heading such as "## Appendix 1" is not a template)."""
    masked = _NAME.sub(lambda m: "X" if m.group(0)[0].isupper() else m.group(0), text)
    masked = " ".join(_NUMBER.sub("0", masked).split())
    return masked if _CONTENT.search(masked) else None


@dataclass(frozen=True)
class DuplicateGroups:
    """Groups of two or more near-duplicate passages, by position in the passage list."""

    group_of: dict[int, int] = field(default_factory=dict)  # passage index -> group
    members: tuple[tuple[int, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.members)

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> DuplicateGroups:
        by_key: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            key = duplicate_key(p.text)
            if key is not None:
                by_key.setdefault(key, []).append(i)
        members = tuple(tuple(m) for m in by_key.values() if len(m) > 1)
        group_of = {i: g for g, m in enumerate(members) for i in m}
        return cls(group_of, members)

    def chooser(
        self,
        passages: Sequence[Passage],
        named: frozenset[str],
        preference: Callable[[int], tuple[float, ...]],
        accepts: Callable[[int], bool],
    ) -> Callable[[int], int]:
        """A function from a passage's index to the index of the member that stands for it.

        A member in a country the question names stands for its own country's members; the
        others are represented by the group's best member (highest ``preference``, the country
        asked about first). Members ``accepts`` rejects never stand for others. Groups are
        worked out when first asked for (a question touches a few of thousands).
        """
        done: dict[int, dict[int, int]] = {}

        def choose(i: int) -> int:
            g = self.group_of.get(i)
            if g is None:
                return i
            if g not in done:
                ok = [j for j in self.members[g] if accepts(j)]
                reps: dict[int, int] = {}
                for c in {passages[j].country for j in ok} & named:
                    own = max((j for j in ok if passages[j].country == c), key=preference)
                    reps.update({j: own for j in ok if passages[j].country == c})
                if ok:
                    best = max(ok, key=lambda j: (passages[j].country in named, *preference(j)))
                    reps.update({j: best for j in ok if j not in reps})
                done[g] = reps
            return done[g].get(i, i)

        return choose


def collapse(order: Iterable[int], key: Callable[[int], K], n: int) -> list[K]:
    """The first ``n`` distinct keys of ``order`` (``key`` maps a grouped passage to its
    representative, so a group appears once, where it first does)."""
    out: dict[K, None] = {}
    for i in order:
        out.setdefault(key(i))
        if len(out) == n:
            break
    return list(out)
