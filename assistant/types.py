"""Data objects that carry their own provenance: documents, passages, citations, answers."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

SECTION_SEP = " › "
COUNTRIES = {"AM": "Armenia", "GE": "Georgia", "EU": "European Union", "XX": "Unspecified"}
DOC_TYPES = ("report", "recommendation", "law", "other")


@dataclass(frozen=True)
class SourceURL:
    """One official place a document can be downloaded from."""

    url: str
    format: str  # "pdf" | "html" | "md" | "txt"


@dataclass(frozen=True)
class DocumentInfo:
    """A corpus document as the manifest (or an upload) describes it."""

    id: str
    title: str
    country: str = "XX"
    doc_type: str = "other"
    year: int | None = None
    issuer: str = ""
    source: str = ""  # official source, human readable (URL or citation)
    path: str = ""  # file path, relative to the corpus directory or absolute
    urls: tuple[SourceURL, ...] = ()
    aliases: tuple[str, ...] = ()
    sha256: str = ""  # recorded hash of the file, when known


@dataclass(frozen=True)
class Passage:
    """One chunk of one document, with everything needed to cite it."""

    id: str
    doc_id: str
    title: str
    text: str
    section: str = ""  # section path, joined with SECTION_SEP
    page: int | None = None  # 1-based PDF page number
    page_label: str | None = None  # printed page label
    start: int = 0  # character offsets in the document's extracted text
    end: int = 0
    country: str = "XX"
    doc_type: str = "other"
    year: int | None = None
    source: str = ""
    doc_sha256: str = ""
    doc_chunks: int = 0  # how many chunks the whole document has (to detect partial ingests)

    @staticmethod
    def make_id(doc_id: str, text: str, start: int, end: int, section: str) -> str:
        """Stable content-hash id: the same text at the same place always has the same id."""
        h = hashlib.sha256(f"{doc_id}\x00{section}\x00{start}:{end}\x00{text}".encode())
        return h.hexdigest()[:32]

    def embed_text(self) -> str:
        """The text that is embedded: title and section give the chunk its context."""
        head = f"{self.title}{SECTION_SEP}{self.section}" if self.section else self.title
        return f"{head}\n{self.text}"

    def location(self) -> str:
        """Human-readable provenance: title, section, page."""
        parts = [self.title]
        if self.section:
            parts.append(self.section)
        if self.page is not None:
            label = self.page_label or str(self.page)
            parts.append(f"p. {label}")
        return ", ".join(parts)

    def to_metadata(self) -> dict[str, Any]:
        """Chroma / LangChain metadata (no None values: Chroma rejects them)."""
        meta = {k: v for k, v in asdict(self).items() if k not in {"id", "text"}}
        return {k: v for k, v in meta.items() if v is not None}

    @classmethod
    def from_metadata(cls, pid: str, text: str, meta: dict[str, Any]) -> Passage:
        """The one place metadata turns back into a Passage."""
        known = {f for f in cls.__dataclass_fields__ if f not in {"id", "text"}}
        kwargs = {k: v for k, v in meta.items() if k in known}
        return cls(id=pid, text=text, **kwargs)


@dataclass(frozen=True)
class ScoredPassage:
    """A retrieved passage with the scores that ranked it."""

    passage: Passage
    score: float  # fused score (reciprocal-rank fusion)
    dense: float | None = None  # cosine similarity to the question
    lexical: float | None = None  # BM25 score
    rank: int = 0
    evidence: bool = True  # cleared the relevance floor
    best_sentence: float | None = None  # highest cosine of one of its sentences
    # (start, end, cosine) of each sentence of the passage, offsets within passage.text
    sentences: tuple[tuple[int, int, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self.passage)
        d.update(
            score=round(self.score, 6),
            dense=None if self.dense is None else round(self.dense, 4),
            lexical=None if self.lexical is None else round(self.lexical, 4),
            rank=self.rank,
            evidence=self.evidence,
            best_sentence=None if self.best_sentence is None else round(self.best_sentence, 4),
        )
        return d


@dataclass(frozen=True)
class Citation:
    """One numbered reference: a verbatim quote from one retrieved passage."""

    n: int
    passage: Passage
    quote: str
    verified: bool = True  # the quote was found verbatim in the stored passage

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        return {
            "n": self.n,
            "doc_id": p.doc_id,
            "title": p.title,
            "country": p.country,
            "section": p.section,
            "page": p.page,
            "page_label": p.page_label,
            "quote": self.quote,
            "passage_id": p.id,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class SentenceSupport:
    """Whether one sentence of an answer is supported by the passages it cites."""

    sentence: str
    citations: tuple[int, ...]
    supported: bool
    score: float
    attributed: bool = False  # the checker chose the citation (the model cited none or wrong)


@dataclass
class Answer:
    """An answer that carries its sources, its audit record and its timings."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[ScoredPassage]
    abstained: bool
    mode: str
    standalone_question: str = ""
    support: list[SentenceSupport] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "support": [asdict(s) for s in self.support],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "audit": self.audit,
        }

    def references_markdown(self) -> str:
        """The answer and a numbered reference list, ready to paste into a draft."""
        from assistant.references import answer_markdown  # the one reference style

        return answer_markdown(self)
