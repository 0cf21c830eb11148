"""Generated questions (doc2query) in retrieval: read from the cache that scripts/doc2query.py
writes, never generated here (no model is needed to answer).

Two uses, each measured on the tune part (docs/notes-d2q.md):
- lexical: a passage's generated questions are added to its BM25 document;
- dense: the ranker feature ``question_sim``, the best cosine between the user's question and
  the passage's generated questions (embedded once on the query side, saved beside the index).
A passage without generated questions (an upload, or a corpus never run through the script)
gets its best sentence's cosine plus ``QUESTION_OFFSET`` instead: the value a passage with that
sentence cosine typically has, so lacking questions neither helps nor hurts it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.config import Settings
from assistant.store.doc2query import questions_by_text, text_key
from assistant.store.embeddings import Profile, model_id
from assistant.text import tokens
from assistant.types import Passage

# Median over the tune questions' candidates of (best generated-question cosine minus best
# sentence cosine), both scaled (benchmarks/rerank.py --question-offset); see the module doc.
QUESTION_OFFSET = -0.036
log = logging.getLogger(__name__)


def generated_for(settings: Settings, passages: Sequence[Passage]) -> dict[str, tuple[str, ...]]:
    """Passage id → its generated questions, for the passages the cache has questions for."""
    by_key = questions_by_text(settings)
    out = {}
    for p in passages:
        got = by_key.get(text_key(p.text))
        if got:
            out[p.id] = got
    return out


def for_lexicon(settings: Settings, passages: Sequence[Passage]
                ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The generated questions the settings use: for the dense feature, and for BM25."""
    questions = generated_for(settings, passages) if settings.doc2query else {}
    return questions, (questions if settings.doc2query_lexical else {})


def digest(questions: Mapping[str, tuple[str, ...]]) -> str:
    """A short fingerprint of the generated questions (part of the lexical index's key)."""
    basis = json.dumps(sorted(questions.items()), ensure_ascii=False)
    return hashlib.sha256(basis.encode()).hexdigest()[:16] if questions else ""


def lexical_docs(passages: Sequence[Passage], questions: Mapping[str, tuple[str, ...]]
                 ) -> list[list[str]]:
    """Each passage's BM25 document: its tokens, then the tokens of its generated questions."""
    return [tokens(p.embed_text()) + tokens(" ".join(questions.get(p.id, ())))
            for p in passages]


def question_vectors(settings: Settings, embeddings: Any,
                     questions: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Passage id → the matrix of its generated questions' vectors (query side, as the user's
    question is embedded). Vectors are saved by question text in ``index/doc2query/`` per
    embedding model, so each question is embedded once."""
    import numpy as np

    if not questions:
        return {}
    folder = (settings.data_path if settings.chroma_url else settings.index_path) / "doc2query"
    path = folder / f"vectors-{model_id(settings).replace('/', '_').replace(':', '_')}.npz"
    known: dict[str, Any] = {}
    if path.is_file():
        try:
            with np.load(path) as z:
                known = dict(zip(json.loads(str(z["texts"])), z["vectors"], strict=True))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("the saved question vectors %s could not be read (%s)", path, exc)
    missing = sorted({q for qs in questions.values() for q in qs} - set(known))
    if missing:
        for q in missing:
            known[q] = np.asarray(embeddings.embed_query(q), dtype=np.float32)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            texts = sorted(known)
            tmp = folder / f".{path.name}.{os.getpid()}.npz"
            np.savez(tmp, texts=np.asarray(json.dumps(texts, ensure_ascii=False)),
                     vectors=np.stack([known[t] for t in texts]))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("the question vectors could not be saved in %s (%s)", folder, exc)
    return {pid: np.stack([known[q] for q in qs]) for pid, qs in questions.items()}


def question_similarity(vectors: Mapping[str, Any], pids: Sequence[str], qvec: Sequence[float],
                        prof: Profile, best_sentence: Mapping[str, float],
                        offset: float = QUESTION_OFFSET) -> dict[str, float]:
    """Each passage's best scaled cosine between ``qvec`` and its generated questions; for a
    passage without any, its best sentence's cosine plus ``offset`` (see the module doc)."""
    import numpy as np

    q = np.asarray(qvec, dtype=np.float32)
    out = {}
    for pid in pids:
        mat = vectors.get(pid)
        if mat is None or not len(mat):
            out[pid] = best_sentence.get(pid, 0.0) + offset
        else:
            out[pid] = float(prof.scale_all((mat @ q).astype(np.float64)).max())
    return out
