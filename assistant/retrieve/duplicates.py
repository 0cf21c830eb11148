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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.types import Passage

_NAME = re.compile(r"\b[^\W\d_][\w-]*", re.UNICODE)
_NUMBER = re.compile(r"\d+")
_CONTENT = re.compile(r"\b[a-z]{3,}\b")


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

    def ids(self, n: int) -> Any:
        """Each of ``n`` passages' group as a numpy array (a passage in no group has its own)."""
        import numpy as np

        out = np.arange(len(self.members), len(self.members) + n, dtype=np.int64)
        for i, g in self.group_of.items():
            out[i] = g
        return out

    def members_of(self, gid: int) -> tuple[int, ...]:
        """The passages of group ``gid`` as numbered by ``ids`` (a lone passage's own id)."""
        n = len(self.members)
        return self.members[gid] if gid < n else (gid - n,)

    def canonical(self, n: int) -> tuple[Any, Any]:
        """One passage per group (its first member) and per lone passage, with its id as
        ``ids`` numbers it: retrieval scores these, and so each group once."""
        import numpy as np

        k = len(self.members)
        lone = [i for i in range(n) if i not in self.group_of]
        passages = [m[0] for m in self.members] + lone
        gids = list(range(k)) + [k + i for i in lone]
        return np.asarray(passages, dtype=np.int64), np.asarray(gids, dtype=np.int64)


def stand_ins(members: Any, countries: Any, named: frozenset[str], bm25: Any, cosine: Any
              ) -> list[int]:
    """The members that stand for a group in one retrieval, best first.

    ``members`` are the group's passages the filters accept (a numpy array), ``countries``,
    ``bm25`` and ``cosine`` theirs, in the same order. The group's best member (in a country
    the question names if any, then highest BM25 -- the names and numbers the question uses --
    then the closest vector) stands in, and for each other country the question names its own
    best member (a comparison needs both). Exact ties go to the member listed first (the
    passage order of the index).
    """
    import numpy as np

    if len(members) < 2:
        return [int(i) for i in members]
    asked = np.isin(countries, sorted(named))
    # Best first; on a tie the member listed first (stable sort of the negated keys). Scores
    # rounded to 6 digits: the same vector scored in another row of a product must tie.
    cosine, bm25 = np.round(cosine, 6), np.round(bm25, 6)
    out = [int(members[np.lexsort((-cosine, -bm25, ~asked))[0]])]
    for c in sorted(set(countries[asked].tolist())):
        own = np.flatnonzero(countries == c)
        best = int(members[own[np.lexsort((-cosine[own], -bm25[own]))[0]]])
        if best not in out:
            out.append(best)
    return out
