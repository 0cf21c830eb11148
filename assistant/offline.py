"""Keep every library offline: no telemetry, no analytics, no model-hub look-ups."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "DO_NOT_TRACK": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def apply() -> None:
    """Set the offline variables; a value the user already exported wins, except telemetry."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    # Telemetry and analytics are never left to the shell.
    for key in ("ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[key] = OFFLINE_ENV[key]
