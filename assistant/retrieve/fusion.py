"""Fusion: the candidate lists of hybrid retrieval joined into one ranking, then adjusted.

``fuse`` joins the dense, sentence and BM25 lists (by normalised score, or by reciprocal rank);
``trust_adjust`` weighs uploads and planted text; ``diversify`` caps passages per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assistant.config import Settings
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
      multiplied by ``ASSISTANT_UPLOAD_WEIGHT`` (0.6), so an official document ranks first
      when both answer.
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
            score *= settings.upload_weight
        if p.instruction_like:
            flagged[pid] = score
        else:
            out[pid] = score
    if flagged and len(out) < k:
        floor = min(out.values(), default=0.0)
        for pid, score in flagged.items():
            out[pid] = min(score * INSTRUCTION_WEIGHT, floor - 1e-6 * (1 + abs(floor)))
    return out


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
