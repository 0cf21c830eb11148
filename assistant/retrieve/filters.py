"""Filters on country, document type and document id, checked against what is indexed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.errors import InputError
from assistant.types import COUNTRIES, DOC_TYPES, Passage


@dataclass(frozen=True)
class Filters:
    """Metadata filters: any of the listed countries / documents / document types."""

    country: tuple[str, ...] = ()
    doc_id: tuple[str, ...] = ()
    doc_type: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: Filters | dict[str, Any] | None) -> Filters:
        if value is None:
            return cls()
        if isinstance(value, Filters):
            return value
        def tup(v: Any) -> tuple[str, ...]:
            if v is None or v == "":
                return ()
            return (v,) if isinstance(v, str) else tuple(v)
        unknown = set(value) - {"country", "doc_id", "doc_type"}
        if unknown:
            raise InputError(f"Unknown filter {sorted(unknown)}; use country, doc_id or doc_type")
        f = cls(
            country=tuple(c.upper() for c in tup(value.get("country"))),
            doc_id=tup(value.get("doc_id")),
            doc_type=tup(value.get("doc_type")),
        )
        bad = [c for c in f.country if c not in COUNTRIES]
        if bad:
            raise InputError(f"Unknown country {bad}; use one of {', '.join(COUNTRIES)}")
        bad = [t for t in f.doc_type if t not in DOC_TYPES]
        if bad:
            raise InputError(f"Unknown document type {bad}; use one of {', '.join(DOC_TYPES)}")
        return f

    def __bool__(self) -> bool:
        return bool(self.country or self.doc_id or self.doc_type)

    def where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause."""
        clauses = [
            {key: {"$in": list(vals)}}
            for key, vals in (("country", self.country), ("doc_id", self.doc_id),
                              ("doc_type", self.doc_type))
            if vals
        ]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, p: Passage) -> bool:
        return (
            (not self.country or p.country in self.country)
            and (not self.doc_id or p.doc_id in self.doc_id)
            and (not self.doc_type or p.doc_type in self.doc_type)
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (("country", self.country), ("doc_id", self.doc_id),
                                         ("doc_type", self.doc_type)) if v}
