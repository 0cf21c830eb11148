"""Thumbs up/down with a comment on an answer, appended to a JSONL file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.store.files import append_jsonl
from assistant.types import (
    Answer,
)

if TYPE_CHECKING:

    pass


_FEEDBACK_LOCK = threading.Lock()


def record_feedback(settings: Settings, rating: str, comment: str, answer: Answer | None) -> str:
    """Append one feedback line to data/feedback.jsonl; the confirmation to show."""
    if answer is None:
        return "Ask a question first; feedback is about the last answer."
    too_long = feedback_too_long(settings, comment)
    if too_long:
        return too_long
    line = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": (comment or "").strip(),
        "audit": answer.audit,
    }
    with _FEEDBACK_LOCK:
        append_jsonl(settings.data_path / "feedback.jsonl", line)
    thumb = "👍" if rating == "up" else "👎"
    return f"{thumb} Thank you: your feedback on the last answer was saved."


def feedback_too_long(settings: Settings, comment: str | None) -> str:
    """The message for a comment over ``max_feedback_chars``, or "" when it fits."""
    n = len((comment or "").strip())
    if n <= settings.max_feedback_chars:
        return ""
    return (f"⚠ The comment is {n:,} characters; at most {settings.max_feedback_chars:,} are "
            "kept. Shorten it and press 👍 or 👎 again.")
