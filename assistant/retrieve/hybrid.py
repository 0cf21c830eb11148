"""Hybrid retrieval: chunk vectors and sentence vectors (Chroma) and BM25, fused, diversified.

Fusion is by normalised score by default (cosines plus BM25 over the top BM25 score), or by
weighted reciprocal rank (``ASSISTANT_FUSION=rrf``). LangChain's ``EnsembleRetriever`` does RRF
but drops the scores; the relevance floor and the audit record need them, so fusion is here
(``fusion``).
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from assistant.config import Settings
from assistant.errors import AssistantError, InputError
from assistant.retrieve.duplicates import DuplicateGroups, stand_ins
from assistant.retrieve.filters import Filters
from assistant.retrieve.fusion import diversify, fuse, sentence_scores, trust_adjust
from assistant.retrieve.glossary import Glossary, load_glossary
from assistant.retrieve.lexical import LexicalIndex, cached, cached_sentences
from assistant.retrieve.rerank import Candidate, Ranker, feature_rows, load_ranker, term_share
from assistant.retrieve.synonyms import SynonymTable, load_synonyms
from assistant.retrieve.terms import QueryTerms
from assistant.store.embeddings import profile
from assistant.store.index import Index
from assistant.text import COUNTRIES, compared_countries, countries_in, sentence_spans, tokens
from assistant.types import Passage, ScoredPassage

EQUIVALENT_WEIGHT = 0.8  # a synonym or neighbour of a question word counts this much in BM25
TYPO_CUTOFF = 0.8  # difflib similarity at which an unknown word is read as a corpus word
ROOT_CHARS = 6  # words sharing a root this long (one a prefix of the other) are equivalent
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieval(Sequence[ScoredPassage]):
    """What one retrieval found: the ranked passages and the question's terms.

    It is a sequence of its passages (``for sp in retrieval``, ``retrieval[0]``), so code that
    only needs the passages can treat it as a list.
    """

    query: str
    passages: tuple[ScoredPassage, ...]
    terms: QueryTerms

    @property
    def evidence(self) -> list[ScoredPassage]:
        return [sp for sp in self.passages if sp.evidence]

    def __iter__(self) -> Iterator[ScoredPassage]:
        return iter(self.passages)

    def __len__(self) -> int:
        return len(self.passages)

    @overload
    def __getitem__(self, i: int) -> ScoredPassage: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ScoredPassage]: ...
    def __getitem__(self, i: int | slice) -> ScoredPassage | Sequence[ScoredPassage]:
        return self.passages[i]


@dataclass
class _Lexicon:
    """What retrieval keeps of one index generation: BM25 statistics, and memos of what depends
    on a passage, not on the question (a new generation builds a new lexicon, empty memos)."""

    passages: list[Passage]
    bm25: LexicalIndex
    vocab: set[str] = field(default_factory=set)
    count: int = 0
    # passage id → (offsets of its sentences, their embeddings as a matrix)
    sentences: dict[str, tuple[list[tuple[int, int]], Any]] = field(default_factory=dict)
    generation: tuple[int, int, str] = (0, 0, "")
    groups: DuplicateGroups = field(default_factory=DuplicateGroups)
    # Only when there are groups: every passage's vector (the normalised mean of its
    # sentences), each passage's group id, and for one passage per group (``canonical``) its
    # group id, its vector and its sentences' vectors with their group ids.
    vectors: Any = None
    group_ids: Any = None
    canonical_gids: Any = None
    canonical_vectors: Any = None
    canonical_sentences: Any = None
    canonical_sentence_gids: Any = None
    countries: Any = None  # each passage's country code
    by_group: Any = None  # passage indexes ordered by group id, and where each group starts
    # passage id → its place in Chroma's storage order (the order ``get`` returns rows in)
    storage: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, Passage] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)  # passage id → its BM25 row
    _roots: dict[str, set[str]] = field(default_factory=dict)
    _tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    _close: dict[str, str | None] = field(default_factory=dict)
    _countries: dict[str, float | None] = field(default_factory=dict)
    _vectors: dict[str, Any] = field(default_factory=dict)
    _units: dict[str, Any] = field(default_factory=dict)  # see sentence_units

    def __post_init__(self) -> None:
        self.by_id = self.by_id or {p.id: p for p in self.passages}
        self.row_of = self.row_of or {pid: i for i, pid in enumerate(self.bm25.ids)}

    def tokens_of(self, text: str) -> frozenset[str]:
        """The token set of a passage, sentence or title (cached: the corpus repeats them)."""
        got = self._tokens.get(text)
        if got is None:
            got = self._tokens[text] = frozenset(tokens(text))
        return got

    def sentence_units(self, p: Passage, spans: Sequence[tuple[int, int, float]]
                       ) -> tuple[tuple[frozenset[str], ...], tuple[bool, ...]]:
        """Each sentence's token set and whether it is a lead-in (ends in ":"), memoised by
        passage id (a passage's sentence offsets never change within a generation)."""
        got = self._units.get(p.id)
        if got is None or len(got[0]) != len(spans):
            text = p.text
            got = (tuple(self.tokens_of(text[a:b]) for a, b, _ in spans),
                   tuple(text[a:b].rstrip(" \t*_").endswith(":") for a, b, _ in spans))
            self._units[p.id] = got
        return got

    def country_weight(self, term: str) -> float | None:
        """A country's name weighs its IDF among the passages of the countries the assistant
        knows: documents of no known country (uploads, others) never make "Armenia" rare."""
        if term not in self._countries:
            weight = None
            if countries_in(term):  # only a country's name pays for the pass over passages
                import numpy as np
                rows = np.fromiter((p.country in COUNTRIES for p in self.passages), bool)
                if rows.any() and not rows.all():
                    weight = self.bm25.idf_among(term, rows)
            self._countries[term] = weight
        return self._countries[term]

    def close_match(self, term: str) -> str | None:
        """The corpus word a misspelt ``term`` stands for (difflib), or None; memoised."""
        if term not in self._close:
            close = difflib.get_close_matches(term, self.vocab, n=1, cutoff=TYPO_CUTOFF)
            self._close[term] = close[0] if close and len(term) >= 5 else None
        return self._close[term]

    def same_root(self, term: str) -> set[str]:
        """Corpus words that share a root of ROOT_CHARS letters or more with ``term``, where
        one is a prefix of the other ("institut" / "institution", "accredit" / "accreditation").
        """
        if len(term) < ROOT_CHARS or term.isdigit():
            return set()
        if term not in self._roots:
            self._roots[term] = {
                v for v in self.vocab
                if len(v) >= ROOT_CHARS and v[:ROOT_CHARS] == term[:ROOT_CHARS]
                and (v.startswith(term) or term.startswith(v))
            }
        return set(self._roots[term])


@dataclass(frozen=True)
class FirstStage:
    """The fused candidates of one query and what each list said about them."""

    lex: _Lexicon
    terms: QueryTerms
    by_id: dict[str, Passage]
    order: list[str]  # candidate ids, best fused score first
    fused: dict[str, float]
    cos: dict[str, float]  # passage cosines (scaled)
    lexs: dict[str, float]  # BM25 of the candidates in the lexical list
    bm25: dict[str, float]  # BM25 of every passage
    sentences: dict[str, tuple[tuple[int, int, float], ...]]  # (start, end, scaled cosine)
    floor: float  # the relevance floor of the embedding model

    def candidates(self, depth: int) -> list[Candidate]:
        """The ``depth`` best fused candidates, with what the ranker's features need."""
        weights = self.terms.weights
        eq = self.terms.equivalents
        out = []
        for rank, pid in enumerate(self.order[:depth], 1):
            p = self.by_id[pid]
            own = self.sentences[pid]
            sents = own or tuple((a, b, 0.0) for a, b in sentence_spans(p.text))
            if own:
                words, leads = self.lex.sentence_units(p, own)
            else:
                words = tuple(self.lex.tokens_of(p.text[a:b]) for a, b, _ in sents)
                leads = ()
            shares = [term_share(weights, eq, w) for w in words]
            focus = max(range(len(sents)), key=lambda i: sents[i][2] + shares[i], default=None)
            top3 = sorted((c for _, _, c in own), reverse=True)[:3]
            lead_ins = [c for (_, _, c), lead in zip(own, leads, strict=True) if lead]
            out.append(Candidate(
                passage=p,
                rank=rank,
                fused=self.fused[pid],
                dense=self.cos.get(pid, 0.0),
                sentence=max((c for _, _, c in self.sentences[pid]), default=0.0),
                bm25=self.bm25.get(pid, 0.0),
                passage_terms=term_share(weights, eq, self.lex.tokens_of(p.text)),
                sentence_terms=max(shares, default=0.0),
                title_terms=term_share(weights, eq,
                                       self.lex.tokens_of(f"{p.title} {p.section}")),
                focus="" if focus is None else p.text[sents[focus][0]:sents[focus][1]],
                sentence_top3=sum(top3) / len(top3) if top3 else 0.0,
                lead_in_sim=max(lead_ins, default=0.0),
            ))
        return out


class HybridRetriever:
    """Dense + sentence + BM25, fused, with a relevance floor and a per-document cap."""

    def __init__(self, index: Index, settings: Settings | None = None) -> None:
        self.index = index
        self.settings = settings or index.settings
        self._lex: _Lexicon | None = None
        self._lex_checked = 0.0
        self._lock = threading.Lock()
        self._synonyms: SynonymTable | None = None
        self._glossary: Glossary | None = None
        self.ranker: Ranker | None = None  # the shipped one, loaded on first use
        self.on_new_generation: list[Callable[[], None]] = []  # see _take_up; keep them short
        self._built = 0

    def _corpus_file(self, name: str) -> Path:
        """The corpus folder's own ``name``; else the one bundled with the project."""
        own = self.settings.corpus_path / name
        return own if own.exists() else self.settings.bundled_corpus_path / name

    @property
    def synonyms(self) -> SynonymTable:
        if self._synonyms is None:
            self._synonyms = load_synonyms(self._corpus_file("synonyms.toml"))
        return self._synonyms

    @property
    def glossary(self) -> Glossary:
        if self._glossary is None:
            self._glossary = load_glossary(self._corpus_file("glossary.toml"))
        return self._glossary

    # -- the question's terms -----------------------------------------------------------------
    def terms(self, query: str) -> QueryTerms:
        """The query's tokens mapped onto the corpus vocabulary, with their equivalents.

        The English terms of its Armenian, Georgian or Russian words (the glossary) count as
        its terms too; one the corpus never uses is kept only when a synonym or a root of it
        is used (it was not written by the user, so it is not "unknown").
        """
        lex = self.lexicon()
        known: list[str] = []
        unknown: list[str] = []
        own = list(dict.fromkeys(tokens(query)))
        for t in own:
            if t in lex.vocab or t.isdigit():
                known.append(t)
                continue
            close = lex.close_match(t)
            if close is not None:
                known.append(close)
            else:
                unknown.append(t)
        glossed = [t for t in self.glossary.terms(query) if t not in own and t not in known]
        known.extend(t for t in glossed if t in lex.vocab)
        equivalents: dict[str, frozenset[str]] = {}
        for t in [*known, *unknown, *(t for t in glossed if t not in lex.vocab)]:
            eq = set(self.synonyms.equivalents(t) & lex.vocab) | lex.same_root(t)
            eq.discard(t)
            if eq:
                equivalents[t] = frozenset(eq)
        # A word the corpus never uses but whose synonym it does is not unknown any more.
        still_unknown = tuple(t for t in unknown if t not in equivalents)
        keep = [*known, *(t for t in [*unknown, *glossed] if t in equivalents and t not in known)]
        typical = lex.bm25.typical_weight()
        weights = {t: w if (w := lex.country_weight(t)) is not None
                   else lex.bm25.idf.get(t, typical) for t in keep}
        translated = tuple(t for t in glossed if t in weights)
        return QueryTerms(tuple(known), still_unknown, weights, equivalents, typical, translated)

    # -- the lexical side ---------------------------------------------------------------------
    def lexicon(self) -> _Lexicon:
        """All passages and their BM25 statistics, rebuilt when the index changes.

        The index's generation (counts and the writers' stamp) is checked every 2 s, so a
        document another process ingests becomes answerable without a restart. One thread
        checks and rebuilds while the others keep answering from the current lexicon (an
        ingest changes the index every few seconds; questions must not wait for each rebuild).
        A rebuild that races another process's writes is tried again; if it still fails, the
        previous lexicon keeps serving (it is consistent, only older) and the next check
        rebuilds it.
        """
        lex = self._lex
        if lex is not None and time.monotonic() - self._lex_checked < 2.0:
            return lex
        if not self._lock.acquire(blocking=lex is None):
            return lex  # type: ignore[return-value]  # another thread is checking
        try:
            lex = self._lex  # built by another thread while this one waited?
            now = time.monotonic()
            if lex is not None and now - self._lex_checked < 2.0:
                return lex
            try:
                generation = self.index.generation()
                if lex is None or lex.generation != generation:
                    self._lex = lex = self._take_up(generation)
            except AssistantError:
                if lex is None:
                    raise
                log.warning("the index changed while it was read; the previous lexicon serves")
            self._lex_checked = now
            return lex
        finally:
            self._lock.release()

    def _build_lexicon(self, generation: tuple[int, int, str]) -> _Lexicon:
        import numpy as np

        problem = self.index.model_problem()
        if problem:
            raise InputError(problem)

        passages, stored = self.index.passages_and_storage()
        ids = [p.id for p in passages]

        def build() -> LexicalIndex:
            return LexicalIndex.build(ids, [tokens(p.embed_text()) for p in passages])

        s = self.settings
        folder = (s.data_path if s.chroma_url else s.index_path) / "lexical"
        bm25 = cached(folder, generation, build)
        if bm25.ids != ids:  # saved for other passages under the same generation: rebuild
            bm25 = build()
        def read() -> tuple[list[tuple[str, int, int]], Any]:
            got = self.index.sentence_rows()
            matrix = (np.stack([r.vector for r in got]).astype(np.float32) if got
                      else np.zeros((0, 0), dtype=np.float32))
            return [(r.passage_id, r.start, r.end) for r in got], matrix

        rows, matrix = cached_sentences(folder, generation, read)
        groups = DuplicateGroups.of(passages)
        at_of = {pid: i for i, pid in enumerate(ids)}
        owner = np.asarray([at_of.get(pid, -1) for pid, _, _ in rows], dtype=np.int64)
        order = np.argsort(owner, kind="stable")  # each passage's rows together: views, no copies
        if len(order) and (order != np.arange(len(order))).any():
            matrix, owner = matrix[order], owner[order]
            rows = [rows[j] for j in order]
        sents: dict[str, tuple[list[tuple[int, int]], Any]] = {}
        bounds = np.flatnonzero(np.diff(owner, prepend=-2, append=-2))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if owner[a] >= 0:
                sents[ids[owner[a]]] = ([(st, en) for _, st, en in rows[a:b]], matrix[a:b])
        storage = {pid: i for i, pid in enumerate(stored)}
        lex = _Lexicon(passages, bm25, bm25.vocab, len(passages), sents, generation, groups,
                       storage=storage)
        if groups and len(matrix):
            starts = bounds[:-1][owner[bounds[:-1]] >= 0]
            ends = bounds[1:][owner[bounds[:-1]] >= 0]
            sums = np.zeros((len(passages), matrix.shape[1]), dtype=np.float32)
            sums[owner[starts]] = np.add.reduceat(matrix, bounds[:-1])[owner[bounds[:-1]] >= 0]
            sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
            span = {int(owner[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)}
            canon, gids = groups.canonical(len(passages))
            rows_of = [np.arange(*span.get(int(p), (0, 0))) for p in canon]
            at = np.concatenate(rows_of)
            lex.vectors, lex.group_ids = sums, groups.ids(len(passages))
            lex.canonical_gids, lex.canonical_vectors = gids, sums[canon]
            lex.canonical_sentences = matrix[at]
            lex.canonical_sentence_gids = np.repeat(gids, [len(r) for r in rows_of])
            lex.countries = np.asarray([p.country for p in passages])
            by_group = np.argsort(lex.group_ids, kind="stable")
            ordered = lex.group_ids[by_group]
            lex.by_group = (by_group, np.flatnonzero(np.diff(ordered, prepend=-1)))
        return lex

    def refresh(self) -> None:
        with self._lock:
            self._lex = None

    def catch_up(self) -> None:
        """Take up the index's changes now (after another process wrote to it), not at the next
        2 s check; questions asked meanwhile are answered from the current lexicon."""
        with self._lock:
            generation = self.index.generation()
            if self._lex is None or self._lex.generation != generation:
                self._lex = self._take_up(generation)
            self._lex_checked = time.monotonic()

    def _take_up(self, generation: tuple[int, int, str]) -> _Lexicon:
        """The lexicon of ``generation``; each after the first tells ``on_new_generation``."""
        lex, self._built = self._build_lexicon(generation), self._built + 1
        for listener in self.on_new_generation if self._built > 1 else ():
            listener()
        return lex

    # -- retrieval ----------------------------------------------------------------------------
    def retrieve(
        self,
        query: str,
        filters: Filters | dict[str, Any] | None = None,
        k: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> Retrieval:
        """The k best passages for ``query``, each marked as evidence or not, and its terms.

        The first stage fuses the dense, sentence and BM25 lists; its ``rerank_depth`` best
        candidates are then ordered by the learned ranker's probability of relevance.
        """
        s = self.settings
        k = k or s.k
        timings = timings if timings is not None else {}
        first = self.first_stage(query, filters, timings)
        relevance: dict[str, float] = {}
        if s.rerank_depth:
            t = time.perf_counter()
            cands = first.candidates(s.rerank_depth)
            self.ranker = self.ranker or load_ranker()
            probs = self.ranker.relevance(
                feature_rows(query, cands, no_terms=not first.terms.known))
            relevance = {c.passage.id: float(p) for c, p in zip(cands, probs, strict=True)}
            timings["rerank_ms"] = (time.perf_counter() - t) * 1000
        # Reranked candidates by probability; the rest (negative keys) after them, in fused order.
        n = len(first.order)
        order_key = {pid: relevance.get(pid, -1.0 - i / n) for i, pid in enumerate(first.order)}
        adjusted = trust_adjust(order_key, first.by_id, s, k)
        order = sorted(adjusted, key=lambda pid: -adjusted[pid])
        picked = diversify(order, first.by_id, k, s.max_per_doc)
        out = []
        for r, pid in enumerate(picked):
            sents = first.sentences[pid]
            best = max((c for _, _, c in sents), default=None)
            strength = max(first.cos.get(pid, 0.0), best or 0.0)
            out.append(ScoredPassage(
                passage=first.by_id[pid],
                score=first.fused[pid],
                dense=first.cos.get(pid),
                lexical=first.lexs.get(pid),
                rank=r + 1,
                evidence=strength >= first.floor,
                best_sentence=best,
                sentences=sents,
                relevance=relevance.get(pid),
            ))
        return Retrieval(query, tuple(out), first.terms)

    def first_stage(
        self,
        query: str,
        filters: Filters | dict[str, Any] | None = None,
        timings: dict[str, float] | None = None,
    ) -> FirstStage:
        """Every candidate of the three lists, fused, in fused order (nothing dropped yet)."""
        s = self.settings
        f = Filters.of(filters)
        timings = timings if timings is not None else {}

        t = time.perf_counter()
        qvec = self.index.embeddings.embed_query(query)
        timings["embed_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        lex = self.lexicon()
        terms = self.terms(query)
        qtok = terms.expanded
        boost = {t: EQUIVALENT_WEIGHT for t in qtok if t not in terms.known}
        boost.update({t: terms.weights[t] / lex.bm25.idf[t] for t in terms.known  # countries
                      if lex.bm25.idf.get(t) and terms.weights[t] != lex.bm25.idf[t]})
        # BM25 of every passage: the ranker reads it for every candidate.
        every = lex.bm25.scores(qtok, boost) if qtok else None
        timings["lexical_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        if lex.groups and lex.vectors is not None:
            dense_ids, sent_order, lex_ids, cos, lexs = self._collapsed_lists(
                lex, query, qvec, f, every)
            dense: list[tuple[Passage, float]] = []
        else:
            where = f.where()
            dense = self.index.query(qvec, s.fetch_k, where=where)
            sent_hits = self.index.query_sentences(qvec, s.fetch_k * 4, where=where)
            top = lex.bm25.top(qtok, s.fetch_k, boost, scores=every,
                               accept=lambda i: f.accepts(lex.passages[i])) if qtok else []
            dense_ids = [p.id for p, _ in dense]
            sent_order = list(dict.fromkeys(pid for pid, _ in sent_hits))
            lex_ids = [lex.passages[i].id for i, _ in top]
            cos = {p.id: sim for p, sim in dense}
            lexs = {lex.passages[i].id: score for i, score in top}
        timings["dense_ms"] = (time.perf_counter() - t) * 1000

        # Three candidate lists: passages by their own vector, by their best sentence
        # (small-to-big), and by BM25. Fused by normalised score (default) or by reciprocal rank.
        by_id = lex.by_id  # the lexicon's passages, unless Chroma returned a newer one
        newer = {p.id: p for p, _ in dense if by_id.get(p.id) != p}
        if newer:
            by_id = {**by_id, **newer}
        lists = [dense_ids, [pid for pid in sent_order if pid in by_id], lex_ids]
        candidates = list(dict.fromkeys(pid for lst in lists for pid in lst))
        missing = [pid for pid in candidates if pid not in cos]
        if missing:
            cos.update(self._cosines(lex, missing, qvec))
        # Every cosine on one scale, whichever model made it (see embeddings.Profile).
        prof = profile(s, self.index.embeddings)
        cos = {pid: prof.scale(c) for pid, c in cos.items()}
        sentences = sentence_scores(lex.sentences, candidates, qvec, prof)
        best_sent = {pid: max((c for _, _, c in sc), default=0.0) for pid, sc in sentences.items()}
        fused = fuse(s, lists, candidates, cos, best_sent, lexs)
        order = sorted(fused, key=lambda pid: -fused[pid])
        # The ranker reads BM25 of the candidates (of every one, not only the lexical list's).
        bm_of = ({pid: float(every[lex.row_of[pid]]) for pid in candidates if pid in lex.row_of}
                 if every is not None else {})
        return FirstStage(lex, terms, by_id, order, fused, cos, lexs, bm_of, sentences,
                          prof.relevance_floor)

    def _collapsed_lists(
        self, lex: _Lexicon, query: str, qvec: list[float], f: Filters, every: Any
    ) -> tuple[list[str], list[str], list[str], dict[str, float], dict[str, float]]:
        """The three candidate lists with each near-duplicate group ranked once (see
        ``duplicates``): Chroma's nearest 24 would be copies of one paragraph. The vectors of
        one passage per group are scored, then each group is replaced by the members that
        stand in for it. Returns the dense, sentence and BM25 lists (ids), the passages'
        cosines and the BM25 scores of the lexical list."""
        import numpy as np

        s = self.settings
        q = np.asarray(qvec, dtype=np.float32)
        n_ids = len(lex.groups.members) + len(lex.passages)
        bm = every if every is not None else np.zeros(len(lex.passages))
        accepted = (np.fromiter((f.accepts(p) for p in lex.passages), bool, len(lex.passages))
                    if f else np.ones(len(lex.passages), bool))
        group_ok = np.zeros(n_ids, bool)
        group_ok[lex.group_ids[accepted]] = True
        group_bm = np.zeros(n_ids)
        by_group, starts = lex.by_group
        group_bm[lex.group_ids[by_group[starts]]] = np.maximum.reduceat(
            np.where(accepted, bm, 0.0)[by_group], starts)

        def best_gids(scores: Any, gids: Any, n: int) -> list[int]:
            out: dict[int, None] = {}
            for g in gids[np.argsort(-scores, kind="stable")].tolist():
                if group_ok[g]:
                    out.setdefault(g)
                    if len(out) == n:
                        break
            return list(out)

        dense = best_gids(lex.canonical_vectors @ q, lex.canonical_gids, s.fetch_k)
        # As Chroma's list: the passages of the fetch_k * 4 best sentences.
        rows = lex.canonical_sentence_gids[
            np.argsort(-(lex.canonical_sentences @ q), kind="stable")]
        sent = list(dict.fromkeys(int(g) for g in rows[group_ok[rows]][: s.fetch_k * 4]))
        order = np.argsort(-group_bm, kind="stable")
        lexical = [int(g) for g in order[: s.fetch_k] if group_bm[g] > 0]

        named = compared_countries(query)  # a comparison keeps each country's copy
        cos: dict[int, float] = {}

        def members(gids: list[int]) -> list[int]:
            out: list[int] = []
            for g in gids:
                m = lex.groups.members_of(g)
                if len(m) == 1:  # a lone passage
                    out.extend(i for i in m if accepted[i])
                    continue
                ok = np.asarray(m)[accepted[list(m)]]
                c = lex.vectors[ok] @ q
                cos.update(zip(ok.tolist(), c.tolist(), strict=True))
                out.extend(stand_ins(ok, lex.countries[ok], named, bm[ok], c))
            return out

        lists = [members(dense), members(sent), members(lexical)]
        ids = lex.bm25.ids
        used = {i for lst in lists for i in lst}
        cosines = {ids[i]: cos[i] if i in cos else float(lex.vectors[i] @ q) for i in used}
        return ([ids[i] for i in lists[0]], [ids[i] for i in lists[1]],
                [ids[i] for i in lists[2]], cosines, {ids[i]: float(bm[i]) for i in lists[2]})

    def _cosines(self, lex: _Lexicon, ids: list[str], qvec: list[float]) -> dict[str, float]:
        """Cosines of stored passages the dense query did not return: their vectors read once
        per generation, multiplied in Chroma's storage order as one ``get`` gave them (the same
        matrix, so the same floats to the last bit)."""
        import numpy as np

        need = [pid for pid in ids if pid not in lex._vectors]
        if need:
            got_ids, vectors = self.index.embeddings_of(need)
            for pid, vec in zip(got_ids, vectors, strict=True):
                lex._vectors[pid] = np.asarray(vec, dtype=np.float32)
        have = sorted((pid for pid in ids if pid in lex._vectors),
                      key=lambda pid: lex.storage.get(pid, len(lex.storage)))
        if not have:  # deleted by another process since the lexicon was read
            return {}
        matrix = np.asarray([lex._vectors[pid] for pid in have], dtype=np.float32)
        sims = matrix @ np.asarray(qvec, np.float32)
        return {pid: float(c) for pid, c in zip(have, sims, strict=True)}
