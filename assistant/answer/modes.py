"""The answer modes, in one registry that settings, the CLI, the page and the evaluation read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings


@dataclass(frozen=True)
class AnswerMode:
    name: str
    label: str
    description: str
    needs_llm: bool


MODES: dict[str, AnswerMode] = {
    m.name: m
    for m in (
        AnswerMode("extractive", "Quotes (offline)",
                   "Verbatim sentences of the documents, each with its citation.", False),
        AnswerMode("verify", "Quotes checked by a local model",
                   "The closest quotes, judged by a local language model: its probability of "
                   "yes and the answer model's decide together; the model never writes.", True),
        AnswerMode("llm", "Written by a language model",
                   "A language model writes the answer from the passages; every sentence is "
                   "checked against the passage it cites.", True),
    )
}
MODE_NAMES = tuple(MODES)


def llm_configured(settings: Settings) -> str | None:
    """None when a chat model is configured; otherwise what to set."""
    if settings.llm_backend == "llamacpp":
        path = settings.llm_gguf_path
        if not path:
            return "no model file: set ASSISTANT_LLM_GGUF_PATH to a local .gguf"
        if not Path(path).is_file():
            return f"the model file {path} is missing (ASSISTANT_LLM_GGUF_PATH)"
        return None
    return None if settings.llm_base_url else (
        "no model server: set ASSISTANT_LLM_BASE_URL (an OpenAI-compatible server on this "
        "machine) or ASSISTANT_LLM_BACKEND=llamacpp with ASSISTANT_LLM_GGUF_PATH")


def unavailable_reason(name: str, settings: Settings) -> str | None:
    """None when the mode can run with these settings; otherwise why not, and what to set."""
    mode = MODES.get(name)
    if mode is None:
        return f"unknown answer mode {name!r}; use one of {', '.join(MODE_NAMES)}"
    return llm_configured(settings) if mode.needs_llm else None


def available_modes(settings: Settings) -> dict[str, str | None]:
    """Every mode → None (available) or the reason it is not."""
    return {name: unavailable_reason(name, settings) for name in MODES}
