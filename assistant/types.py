"""Data objects that carry their own provenance: documents, passages, citations, answers.

Also the one reference style (``format_reference``, ``answer_markdown``): how a citation is
written for a draft, the same on the page, in the CLI and in exports::

    Micro-GEAR D1.1 Armenia (2024), II. Survey results › Question N8, p. 14
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.prompts import OUTCOME_LABELS
from assistant.text import display, md_escape, plain

if TYPE_CHECKING:
    from langchain_core.documents import Document

SECTION_SEP = " › "
COUNTRIES = {"AM": "Armenia", "GE": "Georgia", "EU": "European Union", "XX": "Unspecified"}
DOC_TYPES = ("report", "recommendation", "law", "other")
ORIGINS = ("official", "upload")  # a manifest document, or a file a user added
UNOFFICIAL_NOTE = "uploaded document, not an official source"


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
    # Regular expressions (case-insensitive) that name this document in a question, so that a
    # question about a document that is not indexed can say so.
    mentions: tuple[str, ...] = ()
    origin: str = "official"  # "official" (the manifest) or "upload"
    uploaded_by: str = ""  # who added an upload, where known
    uploaded_at: str = ""  # when (ISO 8601, UTC)


@dataclass(frozen=True)
class Passage:
    """One chunk of one document, with everything needed to cite it."""

    id: str
    doc_id: str
    title: str
    text: str
    section: str = ""  # section path, joined with SECTION_SEP
    page: int | None = None  # 1-based PDF page number
    page_label: str | None = None  # printed page label (checked against the page), if any
    # Pages that begin inside this passage: (offset in ``text``, page, label or "").
    page_breaks: tuple[tuple[int, int, str], ...] = ()
    start: int = 0  # character offsets in the document's extracted text
    end: int = 0
    country: str = "XX"
    doc_type: str = "other"
    year: int | None = None
    source: str = ""
    doc_sha256: str = ""
    doc_chunks: int = 0  # how many chunks the whole document has (to detect partial ingests)
    origin: str = "official"  # "official" (a manifest document) or "upload"
    uploaded_by: str = ""
    uploaded_at: str = ""
    instruction_like: bool = False  # the text addresses the reader or the assistant
    chunking: int = 0  # version of the chunker that cut it (0: cut before versions were kept)

    @property
    def official(self) -> bool:
        return self.origin != "upload"

    def origin_note(self) -> str:
        """"uploaded document, not an official source" for an upload; "" for an official one."""
        return "" if self.official else UNOFFICIAL_NOTE

    @property
    def is_plain_text(self) -> bool:
        """Text that is not Markdown (a PDF's pages, a .txt file): shown as stored."""
        return self.page is not None or self.source.lower().endswith((".pdf", ".txt"))

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
        """Human-readable provenance: title, section, page(s) of the whole passage."""
        return _location(self.title, self.section, self.page_display())

    def page_display(self) -> str:
        """ "p. 7" or "pp. 7–8": the pages the whole passage is on."""
        return page_display(self.pages_between(0, len(self.text)))

    def pages_between(self, start: int, end: int) -> list[tuple[int, str | None]]:
        """The pages, as (page, label), that text[start:end] of this passage lies on."""
        if self.page is None:
            return []
        out: list[tuple[int, str | None]] = [(self.page, self.page_label)]
        for offset, page, label in self.page_breaks:
            if offset <= start:
                out = [(page, label or None)]
            elif offset < end:
                out.append((page, label or None))
        return out

    def quote_pages(self, quote: str) -> list[tuple[int, str | None]]:
        """The pages a quote of this passage is on; the whole passage's when it is not found."""
        from assistant.text import quote_span

        span = quote_span(self.text, quote) if quote else None
        start, end = span if span else (0, len(self.text))
        return self.pages_between(start, end)

    def to_metadata(self) -> dict[str, Any]:
        """Chroma / LangChain metadata (scalars only, no None values: Chroma rejects both)."""
        meta = {k: v for k, v in asdict(self).items() if k not in {"id", "text"}}
        meta["page_breaks"] = json.dumps(self.page_breaks) if self.page_breaks else ""
        return {k: v for k, v in meta.items() if v is not None}

    @classmethod
    def from_metadata(cls, pid: str, text: str, meta: dict[str, Any]) -> Passage:
        """The one place metadata turns back into a Passage."""
        known = {f for f in cls.__dataclass_fields__ if f not in {"id", "text"}}
        kwargs = {k: v for k, v in meta.items() if k in known}
        breaks = kwargs.get("page_breaks")
        if isinstance(breaks, str):
            kwargs["page_breaks"] = tuple(
                (int(o), int(p), str(lab)) for o, p, lab in json.loads(breaks)
            ) if breaks else ()
        if "origin" not in kwargs and str(kwargs.get("doc_id", "")).startswith("upload-"):
            kwargs["origin"] = "upload"  # indexed before passages carried their origin
        return cls(id=pid, text=text, **kwargs)

    def to_document(self, **extra: Any) -> Document:
        """A LangChain ``Document`` with this passage's provenance in its metadata.

        The metadata holds everything :meth:`to_metadata` holds (doc id, title, section, page,
        character span ``start``/``end``, ...) plus ``passage_id`` and any ``extra`` fields
        (scores); the document's ``id`` is the passage id. :meth:`from_document` reverses it.
        """
        from langchain_core.documents import Document

        meta = {**self.to_metadata(), "passage_id": self.id, **extra}
        return Document(page_content=self.text, metadata=meta, id=self.id)

    @classmethod
    def from_document(cls, doc: Document) -> Passage:
        """The passage a :meth:`to_document` Document came from."""
        meta = dict(doc.metadata)
        return cls.from_metadata(str(meta.get("passage_id") or doc.id), doc.page_content, meta)


def page_display(pages: list[tuple[int, str | None]]) -> str:
    """ "p. 25", "pp. 25–26" (printed labels where known, else PDF page numbers), or ""."""
    if not pages:
        return ""
    first, last = pages[0], pages[-1]
    a, b = first[1] or str(first[0]), last[1] or str(last[0])
    return f"p. {a}" if first[0] == last[0] else f"pp. {a}\u2013{b}"


def _location(title: str, section: str, pages: str) -> str:
    return ", ".join(x for x in (title, section, pages) if x)


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
    # The learned ranker's probability that the passage answers the question (None: not ranked)
    relevance: float | None = None

    def to_document(self) -> Document:
        """The passage as a LangChain ``Document``, with its scores next to its provenance."""
        return self.passage.to_document(
            score=self.score, rank=self.rank, evidence=self.evidence,
            **{k: v for k, v in (("dense", self.dense), ("lexical", self.lexical),
                                 ("best_sentence", self.best_sentence)) if v is not None},
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self.passage)
        d.update(
            score=round(self.score, 6),
            dense=None if self.dense is None else round(self.dense, 4),
            lexical=None if self.lexical is None else round(self.lexical, 4),
            rank=self.rank,
            evidence=self.evidence,
            best_sentence=None if self.best_sentence is None else round(self.best_sentence, 4),
            relevance=None if self.relevance is None else round(self.relevance, 4),
        )
        return d


@dataclass(frozen=True)
class Citation:
    """One numbered reference: a verbatim quote from one retrieved passage."""

    n: int
    passage: Passage
    quote: str  # verbatim: what verification checks against the stored passage
    verified: bool = True  # the quote was found verbatim in the stored passage
    shown: str = ""  # the quote as the reader sees it (list letters, footnote marks dropped)

    @property
    def display_quote(self) -> str:
        return self.shown or self.quote

    @property
    def pages(self) -> list[tuple[int, str | None]]:
        """The pages the quote is on (not the page its passage starts on), as (page, label)."""
        return self.passage.quote_pages(self.quote)

    @property
    def page(self) -> int | None:
        """The page the quote starts on."""
        pages = self.pages
        return pages[0][0] if pages else None

    @property
    def page_label(self) -> str | None:
        """The printed label of the quote's page ("7"), or of its pages ("25–26")."""
        pages = self.pages
        if not pages:
            return None
        first, last = pages[0], pages[-1]
        if first[0] == last[0]:
            return first[1]
        if first[1] and last[1]:
            return f"{first[1]}\u2013{last[1]}"
        return None

    @property
    def page_display(self) -> str:
        """ "p. 26" or "pp. 25–26" for the quote, or "" when the source has no pages."""
        return page_display(self.pages)

    def location(self) -> str:
        """Title, section and the quote's page(s)."""
        p = self.passage
        return _location(p.title, p.section, self.page_display)

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        pages = self.pages
        return {
            "n": self.n,
            "doc_id": p.doc_id,
            "title": p.title,
            "country": p.country,
            "section": p.section,
            "page": pages[0][0] if pages else None,
            "page_label": self.page_label,
            "pages": [pg for pg, _ in pages],
            "page_display": page_display(pages),
            "quote": self.quote,
            "shown": self.display_quote,
            "passage_id": p.id,
            "verified": self.verified,
            "origin": p.origin,
            "official": p.official,
            "origin_note": p.origin_note() or None,
            "uploaded_by": p.uploaded_by or None,
            "uploaded_at": p.uploaded_at or None,
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
    # Lines shown before the quotes: the documents' language, a named document that is not
    # indexed, a country the documents are silent on. Already part of ``text``.
    notes: list[str] = field(default_factory=list)
    # answer: a quoted span states what was asked; evidence: no span clearly enough
    # (the closest passage is shown, its best sentences in ``highlights``; for a comparison,
    # each country's closest passage); none: nothing relevant is indexed. ``abstained`` is true
    # for evidence and none. An answer to a comparison that answers one country only holds the
    # other country's closest quote in ``highlights`` (never a citation).
    outcome: str = ""
    highlights: list[Citation] = field(default_factory=list)
    probability: float | None = None  # the answer model's probability for the best span

    def __post_init__(self) -> None:
        if not self.outcome:
            self.outcome = "none" if self.abstained else "answer"

    @property
    def abstain_reason(self) -> str:
        return str(self.audit.get("abstain_reason", "")) if self.abstained else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "outcome": self.outcome,
            "abstained": self.abstained,
            "probability": None if self.probability is None else round(self.probability, 4),
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "support": [asdict(s) for s in self.support],
            "highlights": [c.to_dict() for c in self.highlights],
            "notes": list(self.notes),
            "abstain_reason": self.abstain_reason or None,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "audit": self.audit,
        }

    def references_markdown(self) -> str:
        """The answer and a numbered reference list, ready to paste into a draft."""
        return answer_markdown(self)


# ------------------------------------------------------------------------------------------
# The reference style: how a citation is written for a draft (page, CLI and exports alike)
# ------------------------------------------------------------------------------------------
_MARKER = re.compile(r"\[(\d{1,3})\]")


def page_of(passage: Passage) -> str | None:
    """The printed page a passage is on ("14", "iv"), or None where the document has no pages."""
    if passage.page is None:
        return None
    return passage.page_label or str(passage.page)


def short_title(passage: Passage) -> str:
    """The document as a reference names it: "Micro-GEAR D1.1 Armenia (2024)".

    A title of the form "Series: long subtitle" is cut to the series, and the country is
    added when the series does not name it (the D1.1 reports differ only by country). The
    year is added unless the title already holds it.
    """
    title = display(passage.title)
    head, sep, _ = title.partition(": ")
    name = head.strip() if sep and len(head.split()) >= 2 else title
    country = COUNTRIES.get(passage.country, "")
    if sep and name != title and passage.country in {"AM", "GE"} and country not in name:
        name = f"{name} {country}"
    if passage.year and str(passage.year) not in name:
        name = f"{name} ({passage.year})"
    return name


def section_path(passage: Passage) -> str:
    """The passage's full section path, markup dropped, joined with " › "."""
    parts = [display(s) for s in passage.section.split(SECTION_SEP.strip())]
    return SECTION_SEP.join(p for p in parts if p)


def format_reference(citation: Citation | Passage) -> str:
    """ "Micro-GEAR D1.1 Armenia (2024), II. Survey results › Question N8, p. 14".

    For a citation the page is the page its quote is on ("pp. 25–26" across a break); for a
    passage, the page(s) the passage covers.
    """
    p = citation.passage if isinstance(citation, Citation) else citation
    parts = [short_title(p)]
    section = section_path(p)
    if section:
        parts.append(section)
    pages = citation.page_display if isinstance(citation, Citation) else p.page_display()
    if pages:
        parts.append(pages)
    return ", ".join(parts)


Escape = Callable[[str], str]


def export_text(s: str) -> str:
    """Plain text for pasting or for Word: markup dropped, every tag removed by the sanitiser."""
    return plain(display(s))


def export_markdown(s: str) -> str:
    """Text inside a Markdown file: as :func:`_text`, then Markdown-significant marks escaped."""
    return md_escape(display(s))


def reference_line(c: Citation, esc: Escape = export_text) -> str:
    """One numbered line of a reference list: [n] reference: “quote”; an upload says it is one."""
    # the space goes outside ``esc``, which strips text at its edges
    note = "" if c.passage.official else f" {esc(f'({c.passage.origin_note()})')}"
    return f"[{c.n}] {esc(format_reference(c))}{note}: \u201c{esc(c.quote)}\u201d"


def _keep_edges(x: str, esc: Escape) -> str:
    """``esc(x)`` with a space kept where ``x`` began or ended with one (beside a marker)."""
    body = esc(x)
    if not body:
        return " " if x[:1].isspace() else ""
    return (" " if x[:1].isspace() else "") + body + (" " if x[-1:].isspace() else "")


def answer_text(answer: Answer, esc: Escape = export_text) -> str:
    """The answer's text as the page shows it, markup dropped, paragraphs kept; an `evidence`
    or `none` outcome starts with its label, as on the page (a trial pasted evidence as if it
    were an answer).

    Citation markers ("[2]") are the program's own and are kept as they are."""
    paras = [] if answer.outcome == "answer" else [OUTCOME_LABELS[answer.outcome]]
    for p in re.split(r"\n\s*\n", answer.text.strip()):
        pieces = _MARKER.split(p)  # text, number, text, number, ...
        out = "".join(_keep_edges(x, esc) if i % 2 == 0 else f"[{x}]"
                      for i, x in enumerate(pieces))
        paras.append(re.sub(r"\s+", " ", out).strip())
    return "\n\n".join(p for p in paras if p)


def cited(answer: Answer) -> list[Citation]:
    """The citations an answer's text refers to, in number order. ``evidence`` gives its
    highlighted sentences (their text quotes them, and a quote taken away must say where it is
    from); an abstention with nothing quoted has none. An answer to a comparison gives its
    citations and the closest passage's quote of a country it did not answer."""
    if answer.outcome == "evidence":
        return sorted(answer.highlights, key=lambda c: c.n)
    if answer.abstained:
        return []
    return sorted([*answer.citations, *answer.highlights], key=lambda c: c.n)


def question_lines(answer: Answer, esc: Escape = export_text, asked: bool = True) -> list[str]:
    """The question an answer replies to, as asked ("Question: …"), and the form a follow-up
    was read as ("Read as: …") where it was rewritten. ``asked=False`` (a heading already
    names the question) gives the rewritten form alone."""
    lines = [f"Question: {esc(answer.question)}"] if asked else []
    read_as = " ".join(answer.standalone_question.split())
    if read_as and read_as != " ".join(answer.question.split()):
        lines.append(f"Read as: {esc(read_as)}")
    return lines


def answer_markdown(answer: Answer, markdown_file: bool = False, question: bool = True) -> str:
    """The question, the answer and its numbered references, ready to paste into a draft
    (plain text), or, with ``markdown_file``, for a .md file (document and user text escaped).
    ``question=False`` leaves the "Question:" line out (a heading names it)."""
    esc = export_markdown if markdown_file else export_text
    asked = question_lines(answer, esc, asked=question)
    lines = [*asked, "", answer_text(answer, esc)] if asked else [answer_text(answer, esc)]
    refs = cited(answer)
    if refs:
        lines += ["", "References", ""]
        lines += [reference_line(c, esc) for c in refs]
    return "\n".join(lines).strip() + "\n"


def markers(text: str) -> list[int]:
    """The citation numbers in an answer's text, in order of first appearance."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen
