"""The audit record of an answer: what was asked, what was found, which settings answered."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.retrieve.filters import Filters
from assistant.types import Answer

DIGEST_KEYS = ("k", "fetch_k", "rrf_k", "max_per_doc", "relevance_floor", "answer_threshold",
               "support_threshold", "chunk_size", "chunk_overlap",
               "embedding_model", "collection")


def settings_digest(settings: Settings) -> dict[str, Any]:
    from assistant.store.embeddings import model_id, profile

    d = {key: getattr(settings, key) for key in DIGEST_KEYS}
    d["embedding_model"] = model_id(settings)
    d["thresholds"] = asdict(profile(settings))
    d["hash"] = hashlib.sha256(json.dumps(settings.public_dict(), sort_keys=True,
                                          default=str).encode()).hexdigest()[:12]
    return d


def audit_record(
    answer: Answer, *, model: str, prompt_version: str | None, fingerprint: str, filters: Filters,
    timings: dict[str, float], settings: Settings,
) -> dict[str, Any]:
    """The record kept with every answer (and appended to the audit log when one is set)."""
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "mode": answer.mode,
        "model": model,
        "prompt_version": prompt_version,
        "corpus_fingerprint": fingerprint,
        "filters": filters.to_dict(),
        "passages": [{"id": sp.passage.id, "doc_id": sp.passage.doc_id,
                      "score": round(sp.score, 5),
                      "dense": None if sp.dense is None else round(sp.dense, 4),
                      "evidence": sp.evidence} for sp in answer.passages],
        "citations": [c.passage.id for c in answer.citations],
        "abstained": answer.abstained,
        "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        "settings": settings_digest(settings),
        **answer.audit,
    }


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line, written whole or not at all (``storage.append_jsonl``)."""
    from assistant.store.files import append_jsonl

    append_jsonl(path, record)
