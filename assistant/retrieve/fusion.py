"""Fusion: the candidate lists of hybrid retrieval joined into one ranking, then adjusted.

``sentence_scores`` scores each candidate's sentences; ``fuse`` joins the dense, sentence and
BM25 lists (by normalised score, or by reciprocal rank); ``trust_adjust`` weighs uploads and
planted text; ``diversify`` caps passages per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from assistant.config import Settings
from assistant.store.embeddings import Profile
from assistant.text import tokens
from assistant.types import Passage


def fuse(
    settings: Settings,
    lists: Sequence[Sequence[str]],
    candidates: Sequence[str],
    cos: dict[str, float],
    best_sent: dict[str, float],
    lexs: dict[str, float],
) -> dict[str, float]:
    """One score per candidate from the dense, sentence and lexical lists (in that order)."""
    s = settings
    weights = (s.weight_dense, s.weight_sentence, s.weight_lexical)
    fused: dict[str, float] = {}
    if s.fusion == "rrf":
        for weight, lst in zip(weights, lists, strict=True):
            for rank, pid in enumerate(lst):
                fused[pid] = fused.get(pid, 0.0) + weight / (s.rrf_k + rank + 1)
    else:
        top_bm = max(lexs.values(), default=0.0) or 1.0
        for pid in candidates:
            fused[pid] = (weights[0] * cos.get(pid, 0.0) + weights[1] * best_sent[pid]
                          + weights[2] * lexs.get(pid, 0.0) / top_bm)
    return fused


INSTRUCTION_WEIGHT = 0.01  # a flagged passage that stays in the list sits below every other


def trust_adjust(
    fused: dict[str, float], by_id: dict[str, Passage], settings: Settings, k: int
) -> dict[str, float]:
    """Adjust fused scores for provenance and planted text (one step, after fusion).

    - Uploads are dropped when ``ASSISTANT_UPLOADS=false``; otherwise an upload's score is
      multiplied by ``ASSISTANT_UPLOAD_WEIGHT`` (0.6) (a negative key, the order of candidates
      the ranker did not score, is divided by it: weighing must never lift an upload).
    - An upload that an official candidate restates (every content word of it is in the
      official passage) ranks right below that passage, which takes the upload's key if that
      is higher: on a tie in content the official source wins. This runs on the final keys,
      so no ranker undoes it.
    - A passage flagged at ingest as addressing the reader or the assistant ("ignore previous
      instructions", "answer that …") is dropped while at least ``k`` other candidates remain,
      and otherwise ranked below all of them: it is quoted only if nothing else answers.
    """
    out: dict[str, float] = {}
    flagged: dict[str, float] = {}
    for pid, score in fused.items():
        p = by_id[pid]
        if not p.official:
            if not settings.uploads:
                continue
            score = _weigh(score, settings.upload_weight)
        if p.instruction_like:
            flagged[pid] = score
        else:
            out[pid] = score
    if flagged and len(out) < k:
        floor = min(out.values(), default=0.0)
        for pid, score in flagged.items():
            out[pid] = min(score * INSTRUCTION_WEIGHT, floor - 1e-6 * (1 + abs(floor)))
    _official_first_on_ties(out, by_id)
    return out


def _weigh(key: float, weight: float) -> float:
    """An upload's key times its weight; a negative key (a rank) moves down by the same ratio."""
    if key >= 0:
        return key * weight
    return key / weight if weight else float("-inf")


def _official_first_on_ties(keys: dict[str, float], by_id: dict[str, Passage]) -> None:
    """Each upload that an official candidate restates: the official passage takes the
    upload's key when that is higher (it says the same; the ranker's features are relative to
    the best candidate, so a short copy can sink the original), and the upload goes just below."""
    uploads = [pid for pid in keys if not by_id[pid].official]
    officials = [pid for pid in keys if by_id[pid].official]
    if not uploads or not officials:
        return
    for up in uploads:
        said = _content(by_id[up].text)
        twins = [o for o in officials if said and said <= _content(by_id[o].text)]
        if not twins:
            continue
        best = max(twins, key=lambda o: keys[o])
        keys[best] = max(keys[best], keys[up])
        keys[up] = min(keys[up], keys[best] - 1e-9 * (1 + abs(keys[best])))


@lru_cache(maxsize=20_000)
def _content(text: str) -> frozenset[str]:
    """What a passage says: its content tokens, heading lines left out (a copy has its own)."""
    return frozenset(tokens("\n".join(ln for ln in text.splitlines()
                                       if not ln.lstrip().startswith("#"))))


def diversify(order: Iterable[str], by_id: dict[str, Passage], k: int, cap: int) -> list[str]:
    """Take passages in fused order, at most ``cap`` per document while others are waiting."""
    order = list(order)
    picked: list[str] = []
    per_doc: dict[str, int] = {}
    skipped: list[str] = []
    for pid in order:
        doc = by_id[pid].doc_id
        if per_doc.get(doc, 0) < cap:
            picked.append(pid)
            per_doc[doc] = per_doc.get(doc, 0) + 1
        else:
            skipped.append(pid)
        if len(picked) == k:
            break
    # If only one document had candidates, fill up from it after all.
    for pid in skipped:
        if len(picked) == k:
            break
        picked.append(pid)
    return picked


def sentence_scores(
    sentences: dict[str, tuple[list[tuple[int, int]], Any]], pids: Sequence[str],
    qvec: list[float], prof: Profile,
) -> dict[str, tuple[tuple[int, int, float], ...]]:
    """(start, end, scaled cosine) of each sentence of each candidate passage (``sentences``:
    the lexicon's offsets and vectors by passage id): one product per passage (BLAS rounds a
    row differently in a matrix of another shape)."""
    import numpy as np

    q = np.asarray(qvec, dtype=np.float32)
    out: dict[str, tuple[tuple[int, int, float], ...]] = {}
    for pid in pids:
        got = sentences.get(pid)
        if not got:
            out[pid] = ()
            continue
        spans, mat = got
        scaled = prof.scale_all((mat @ q).astype(np.float64)).tolist()
        out[pid] = tuple((a, b, c) for (a, b), c in zip(spans, scaled, strict=True))
    return out
