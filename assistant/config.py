"""One settings object, overridable by environment variables prefixed ``ASSISTANT_``.

Example: ``ASSISTANT_CHROMA_URL=http://127.0.0.1:8000 assistant search "..."``.
A ``.env`` file is not read: settings come from the environment and from code only.

Paths: everything the assistant writes (index, uploads, feedback, audit logs) lives under one
root, ``home`` (``ASSISTANT_HOME``): the source checkout when the code runs from one, otherwise
``$XDG_DATA_HOME/micro-gear-assistant`` (``~/.local/share/micro-gear-assistant``). What it reads
and ships with the package (the prompts and the default corpus: manifest, documents, synonyms,
evaluation sets) is found under ``home`` when a ``prompts/`` or ``corpus/`` folder is there, and
otherwise in the installed package (``assistant/resources``, package data of the wheel).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.safety import mask_url

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The prompts and the default corpus as the package ships them. In a source checkout these are
# links to the checkout's prompts/ and corpus/; in a wheel, copies (package data).
RESOURCES = Path(__file__).resolve().parent / "resources"
APP_NAME = "micro-gear-assistant"


def default_home() -> Path:
    """The source checkout when running from one; otherwise the user's data folder."""
    if (PACKAGE_ROOT / "pyproject.toml").is_file() and (PACKAGE_ROOT / "corpus").is_dir():
        return PACKAGE_ROOT
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


class Settings(BaseSettings):
    """Every knob of the assistant, grouped by concern. Each field is ``ASSISTANT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", env_file=None)

    # -- paths ------------------------------------------------------------------------------
    home: Path = Field(
        default_factory=default_home,
        description="The one root: index, data (and, if present, corpus and prompts) under it.",
    )
    corpus_dir: Path | None = Field(None, description="Corpus folder (manifest + documents).")
    index_dir: Path | None = Field(None, description="Persistent Chroma folder (embedded mode).")
    data_dir: Path | None = Field(None, description="Uploads, feedback and audit logs.")
    prompts_dir: Path | None = Field(None, description="Prompt files.")

    # -- index ------------------------------------------------------------------------------
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (http://127.0.0.1:8000) instead of index_dir."
    )
    collection: str = Field("micro_gear", description="Chroma collection name (3-512 chars).")
    embedding_model: str = Field(
        "",
        description="minilm (all-MiniLM-L6-v2, English), e5-small (multilingual-e5-small), or "
        "a local sentence-transformers folder; empty = the default "
        "(assistant/store/embeddings.py).",
    )
    embed_batch_size: int = Field(32, ge=1)
    torch_threads: int = Field(2, ge=1, description="torch.set_num_threads for embedding.")

    # -- ingestion --------------------------------------------------------------------------
    chunk_size: int = Field(1000, ge=200, description="Target chunk size in characters.")
    chunk_overlap: int = Field(150, ge=0, description="Overlap between chunks of one section.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest file ingest accepts, in MB.")
    ingest_lock_timeout_s: float = Field(
        900.0, ge=0, description="How long an ingest waits for another one to finish."
    )
    fetch_timeout_s: float = Field(30.0, gt=0)
    fetch_max_mb: float = Field(50.0, gt=0, description="Largest download corpus fetch accepts.")

    # -- retrieval --------------------------------------------------------------------------
    k: int = Field(6, ge=1, le=50, description="Passages returned to the answer step.")
    fetch_k: int = Field(24, ge=1, description="Candidates taken from each retriever.")
    fusion: Literal["score", "rrf"] = Field(
        "score",
        description="How the three lists are fused: normalised scores (cosines + BM25 / top "
        "BM25) or weighted reciprocal rank.",
    )
    rrf_k: int = Field(10, ge=1, description="Reciprocal-rank-fusion constant (fusion=rrf).")
    weight_dense: float = Field(1.0, ge=0, description="Weight: passages by their own vector.")
    weight_sentence: float = Field(1.0, ge=0, description="Weight: passages by best sentence.")
    weight_lexical: float = Field(0.5, ge=0, description="Weight: passages by BM25.")
    rerank_depth: int = Field(
        40, ge=0, le=200,
        description="How many fused candidates the learned ranker reorders (assistant/"
        "retrieve/rerank.py); 0 = keep the fused order.",
    )
    max_per_doc: int = Field(4, ge=1, description="Diversity cap: passages per document.")
    relevance_floor: float | None = Field(
        None, description="Cosine similarity below which a passage is not evidence; empty = "
        "the embedding model's profile (assistant/store/embeddings.py)."
    )
    upload_weight: float = Field(
        0.6, ge=0, le=1,
        description="Fused scores of uploaded (unofficial) passages are multiplied by this, so "
        "official documents rank first when both answer.",
    )

    # -- answers ----------------------------------------------------------------------------
    mode: Literal["extractive", "verify", "llm"] = Field(
        "extractive",
        description="extractive: verbatim quotes; verify: the closest quotes judged by a local "
        "model (its probability of yes combined with the answer model's); "
        "llm: a model writes the answer (see assistant/answer/modes.py).",
    )
    answer_threshold: float | None = Field(
        None, ge=0, le=1,
        description="Probability a quoted span needs to be shown as the answer (below it the "
        "outcome is `evidence`); empty = the threshold chosen with the answer model on the "
        "tuning part (assistant/answer/answerer.json).",
    )
    answer_none_below: float | None = Field(
        None, ge=0, le=1,
        description="Outcome `none` when every passage's reranker relevance is below this; "
        "empty = the floor chosen with the answer model on the tuning part, 0 = never.",
    )
    answer_model_path: Path | None = Field(
        None, description="Another answer model file (scripts/train_answerer.py writes one); "
        "empty = the one shipped with the code.",
    )
    judge_model_path: Path | None = Field(
        None, description="Another verify-mode combination file (scripts/train_judge.py writes "
        "one); empty = the one shipped with the code (assistant/answer/judge.json).",
    )
    judge_cache_path: Path | None = Field(
        None, description="verify mode: keep the judge's probability of 'yes' per prompt in "
        "this JSON-lines file and never ask the model the same prompt twice (evaluation runs); "
        "empty = no cache.",
    )
    compare_threshold_margin: float = Field(
        0.35, ge=0.0, le=1.0,
        description="How much lower the answer threshold is for a cell of a comparison than "
        "for a chat answer: a cell asks whether a country's documents address a topic, not "
        "whether one span answers a question. Every quote of a cell (one, or two that do not "
        "overlap) reaches this lowered threshold. Chosen on the tune part of the compare gold "
        "matrix by leave-one-topic-out cross-validation (scripts/tune_compare.py).",
    )
    max_question_chars: int = Field(1000, ge=10)
    support_threshold: float = Field(
        0.55, description="Similarity at which an llm sentence counts as supported."
    )
    max_draft_chars: int = Field(200_000, ge=100, description="Longest draft `check` accepts.")

    # -- llm --------------------------------------------------------------------------------
    llm_backend: Literal["openai", "llamacpp"] = "openai"
    llm_base_url: str | None = Field(None, description="OpenAI-compatible server base URL.")
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the server.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="API key, if any.")
    llm_gguf_path: Path | None = Field(None, description="Local GGUF file for llama.cpp.")
    llm_gguf_sha256: str = Field("", description="Expected sha256 of the GGUF file.")
    llm_temperature: float = 0.0
    llm_max_tokens: int = 512
    llm_n_ctx: int = 4096
    llm_threads: int = 2
    llm_timeout_s: float = 120.0

    # -- ui ---------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Chat page bind address.")
    port: int = Field(7860, ge=1, le=65535)
    username: str | None = Field(None, description="Required with a non-loopback host.")
    password: SecretStr | None = Field(None, description="Required with a non-loopback host.")
    max_upload_mb: float = Field(20.0, gt=0)
    upload_nice: int = Field(
        10, ge=0, le=19,
        description="How much lower the CPU priority of the process that ingests a page upload "
        "is than the page's (added to its niceness). 10: while people ask, the page gets about "
        "nine tenths of a core the ingest also wants (Linux weighs niceness 0 against 10 as "
        "1024 to 110), and an idle page leaves the ingest the whole machine; 19 would let any "
        "other busy program on the server hold an upload back for long.",
    )
    malloc_arenas: int = Field(
        2, ge=0,
        description="At most this many glibc malloc arenas in the page's process (0: glibc's "
        "default of 8 per core). Every worker thread of the page otherwise gets an arena of "
        "its own and each keeps the memory it freed: 2 kept the page about 15 MB smaller "
        "at the same speed (docs/performance.md).",
    )
    heap_trim_interval_s: float = Field(
        60.0, ge=0,
        description="After the page takes up a new index generation (its own upload, a "
        "removal, or an ingest another process ran), it gives glibc's freed heap back to the "
        "system at once and once more this many seconds later, never twice within it (the "
        "previous generation is freed only when the questions using it finish; "
        "docs/performance.md). 0: never.",
    )
    page_sessions: int = Field(
        500, ge=1,
        description="How many page sessions (browser tabs, API clients) the server remembers; "
        "the one unused longest is forgotten first, and its next question starts a new "
        "conversation. Each holds 0.3-0.5 MB; gradio's default, 10,000, would let the page "
        "grow by gigabytes over months of page loads.",
    )
    uploads: bool = Field(
        True, description="Accept and use uploaded documents; false on a shared deployment "
        "(the page refuses uploads and answers come from the manifest's documents only).",
    )
    max_feedback_chars: int = Field(5000, ge=1, description="Longest feedback comment.")
    login_attempts_per_minute: int = Field(
        10, ge=1, description="Failed logins a client may make per minute (auth on)."
    )
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses of reverse proxies whose X-Forwarded-For "
        "header is believed (e.g. 127.0.0.1 behind nginx on the same machine). Empty (the "
        "default): no forwarded header is trusted, so a client cannot pick the address the "
        "login limit counts."
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, v: str) -> str:
        if not 3 <= len(v) <= 512:
            raise ValueError(f"collection needs 3-512 characters, got {v!r}")
        return v

    # -- derived paths ------------------------------------------------------------------------
    @property
    def corpus_path(self) -> Path:
        return self.corpus_dir or _own_or_bundled(self.home, "corpus")

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def data_path(self) -> Path:
        return self.data_dir or self.home / "data"

    @property
    def prompts_path(self) -> Path:
        return self.prompts_dir or _own_or_bundled(self.home, "prompts")

    @property
    def bundled_corpus_path(self) -> Path:
        """The default corpus as shipped: the fallback for synonyms and the evaluation sets."""
        return _own_or_bundled(self.home, "corpus")

    @property
    def manifest_path(self) -> Path:
        return self.corpus_path / "corpus.toml"

    @property
    def uploads_path(self) -> Path:
        """Documents added with ``assistant ingest PATH`` or the upload button live here."""
        return self.data_path / "documents"

    def public_dict(self) -> dict[str, object]:
        """Settings for the audit record: secrets masked, paths as strings."""
        out: dict[str, object] = {}
        for key, value in self.model_dump().items():
            if isinstance(value, SecretStr) or key in {"llm_api_key", "password"}:
                out[key] = "***" if value else None
            elif isinstance(value, Path):
                out[key] = str(value)
            elif key.endswith("_url") and isinstance(value, str):
                out[key] = mask_url(value)
            else:
                out[key] = value
        return out


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


def _own_or_bundled(home: Path, name: str) -> Path:
    """``home/name`` when that folder exists, else the copy shipped in the package."""
    own = home / name
    return own if own.is_dir() else RESOURCES / name
