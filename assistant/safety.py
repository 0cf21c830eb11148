"""Secrets and planted text: masking credentials, redacting keys, flagging instruction-like text.

- ``mask_url`` turns ``https://user:pw@host/v1`` into ``https://user:***@host/v1``.
- ``redact`` masks every URL credential in a text, the configured secrets (API key, password)
  and anything shaped like an API key or a bearer token; use it on any text that reaches a log,
  the page, an error line or a record on disk.
- ``instruction_like`` finds document text that addresses the reader or the assistant
  ("ignore previous instructions", "answer that …"): such passages are flagged at ingest and
  ranked last (assistant/retrieve/fusion.py ``trust_adjust``).
- ``control_ratio`` measures how much of a text is control characters or NUL (refused at ingest).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Protocol

from pydantic import SecretStr


class Settings(Protocol):
    """What redaction needs of the settings: the two secrets (``assistant.config.Settings``)."""

    @property
    def llm_api_key(self) -> SecretStr | None: ...

    @property
    def password(self) -> SecretStr | None: ...

MASK = "***"

# scheme://user:password@host  (the password is everything up to the last @ before the host)
_URL_CREDS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^\s:/@]*):"
                        r"(?P<pw>[^\s/@]+)@")
_KEY_SHAPES = [  # (pattern, replacement)
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}"), r"\1-***"),  # OpenAI-style keys
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 ***"),
    (re.compile(r"(?i)\b(api[_-]?key|access[_-]?token|password|secret)(\"?\s*[:=]\s*\"?)"
                r"[^\s\"',}]{4,}"), r"\1\2***"),
]


def mask_url(url: str | None) -> str:
    """The URL with any password replaced by ``***`` (``user:***@host``); '' for None."""
    if not url:
        return ""
    return _URL_CREDS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", url)


def _secrets(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    out = []
    for secret in (settings.llm_api_key, settings.password):
        value = secret.get_secret_value() if secret is not None else ""
        if value and len(value) >= 4 and value != "not-needed":
            out.append(value)
    return out


def redact(text: str, settings: Settings | None = None) -> str:
    """The text without credentials: URL passwords, configured secrets, key-shaped tokens."""
    out = mask_url(text)
    for value in _secrets(settings):
        out = out.replace(value, MASK)
    for pattern, replacement in _KEY_SHAPES:
        out = pattern.sub(replacement, out)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message (and its traceback text)."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging
            return True
        clean = redact(message, self.settings)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = str(exc)
            if redact(text, self.settings) != text:
                record.exc_info = None
                record.exc_text = None
                record.msg = f"{record.msg} ({type(exc).__name__}: {redact(text, self.settings)})"
        return True


def install_log_redaction(settings: Settings | None = None) -> None:
    """Redact credentials from every log record this process makes, whatever its logger.

    The record factory is wrapped, so records of gradio, uvicorn, httpx or chromadb are
    redacted as well as ours, before any handler sees them. Installing twice replaces the
    settings and keeps one wrapper.
    """
    current = logging.getLogRecordFactory()
    base = getattr(current, "_unredacted", current)
    flt = RedactingFilter(settings)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        flt.filter(record)
        return record

    factory._unredacted = base  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# --------------------------------------------------------------------------------------------
# Text that is not a document's content
# --------------------------------------------------------------------------------------------
# Phrases that speak to the reader, a chatbot or a language model rather than state a policy.
_INSTRUCTION = re.compile(
    r"(?ix)"
    r"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|"
    r"earlier|preceding|other|your)\s+(instructions?|prompts?|rules|context|documents?|sources?)"
    r"|\b(system|developer)\s+prompt\b"
    r"|\byou\s+are\s+(now\s+)?(an?\s+|the\s+)?(ai|assistant|chat\s?bot|language\s+model|llm)\b"
    r"|\b(ai|assistants?|chat\s?bots?|language\s+models?|llms?)\s*[,:]?\s+(must|should|shall|"
    r"will)\s+(always\s+|now\s+|only\s+)?(answer|say|reply|respond|state|tell|claim|cite|ignore)"
    r"|\b(when|if)\s+(you\s+are\s+|anyone\s+is\s+|a\s+user\s+is\s+)?asked\b[^.\n]{0,80}\b"
    r"(answer|say|reply|respond|state)\b"
    r"|\b(always|you\s+must|you\s+should|please)\s+(answer|reply|respond|say)\s+(that|with|:)"
    r"|\b(do\s+not|don't|never)\s+(mention|cite|reveal|tell\s+the\s+user)\b"
    r"|^\s*(answer|reply|respond|say)\s+that\b"
)


def instruction_like(text: str) -> bool:
    """Does the text address the reader or the assistant with instructions?"""
    return bool(_INSTRUCTION.search(text))


def control_ratio(text: str) -> float:
    """Share of characters that are control characters (NUL included), tabs and newlines aside."""
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch not in "\n\r\t\f" and unicodedata.category(ch) in
              {"Cc", "Cs", "Co", "Cn"})
    return bad / len(text)


MAX_CONTROL_RATIO = 0.2  # a real document has almost none; a binary file has many
