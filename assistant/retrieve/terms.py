"""The question's words as the corpus knows them (``HybridRetriever.terms`` builds them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueryTerms:
    """The question's words as the corpus knows them.

    ``known``: stemmed tokens found in the corpus (typos mapped to the closest corpus word);
    ``unknown``: tokens the corpus never uses; ``equivalents``: for each known or unknown token,
    corpus words that mean the same here (synonyms from ``corpus/synonyms.toml``);
    ``translated``: the terms that came from the glossary (``corpus/glossary.toml``), the
    English of the question's Armenian, Georgian or Russian words.
    """

    known: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    equivalents: dict[str, frozenset[str]] = field(default_factory=dict)
    typical_weight: float = 1.0
    translated: tuple[str, ...] = ()

    @property
    def expanded(self) -> list[str]:
        """The lexical query: the question's corpus words, and for a word the corpus never uses,
        its equivalents. A word the corpus does use is not widened (its synonyms, "survey" for
        "questionnaire", would pull in every passage that uses them)."""
        out = list(self.known)
        for term, eq in self.equivalents.items():
            if term not in self.known:
                out.extend(sorted(eq))
        return list(dict.fromkeys(out))
