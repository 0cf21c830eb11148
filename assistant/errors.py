"""Errors that say what went wrong and how to fix it.

The CLI prints them as one line without a traceback; the UI shows them as a message.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant reports to its user."""


class ConfigError(AssistantError):
    """A setting is missing or has a value that cannot work."""


class InputError(AssistantError):
    """A question, filter or file that the assistant refuses, with the reason."""


class DocumentError(InputError):
    """A document that cannot be ingested (corrupt, encrypted, empty, too large, …)."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class IndexError_(AssistantError):
    """The index is missing, unreachable or inconsistent."""


class FetchError(AssistantError):
    """A corpus document could not be downloaded from its source."""


class LLMError(AssistantError):
    """The language-model backend is not configured, unreachable or failed."""


class PromptError(AssistantError):
    """A prompt file is missing or lacks a required variable."""
