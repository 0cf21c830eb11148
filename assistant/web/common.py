"""What every tab of the page shares: the page's context, messages, static files, helpers."""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.safety import redact

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.store.index import Index

GENERIC_ERROR = "⚠ Something went wrong on the server (details in its log). Please try again."
LOADING = "⏳ Loading the embedding model and the index… Ask becomes available when ready."
STATIC = Path(__file__).resolve().parent / "static"


def static_text(name: str) -> str:
    """A static file of the page (CSS or JavaScript) from ``assistant/web/static``."""
    return "\n" + (STATIC / name).read_text(encoding="utf-8")


def head_html() -> str:
    """The page's ``<head>`` addition: its script (clicks on [n], folding on small screens)."""
    return "\n<script>" + static_text("page.js") + "</script>\n"


def llm_unavailable(settings: Settings) -> str:
    """Why the modes that need a language model cannot run here ("" when they can)."""
    from assistant.answer.modes import llm_configured

    return llm_configured(settings) or ""


def safe_error(settings: Settings, exc: BaseException, *files: Path) -> str:
    """An error's text for the page, without credentials, keys or server paths: each of
    ``files`` (an upload's temporary copy) and any path in the page's data folder (its upload
    folder, the stored uploads) is named by its file name, the name the user gave it."""
    return without_server_paths(redact(str(exc), settings), settings, *files)


def without_server_paths(text: str, settings: Settings, *files: Path) -> str:
    """``text`` with each of ``files`` and every path under the data folder (or the system's
    temporary folder, where gradio may keep an upload) shown as its last part, the file name."""
    for f in files:
        for form in {str(f), str(f.resolve())}:
            text = text.replace(form, f.name)
    roots = {str(r) for root in (settings.data_path, Path(tempfile.gettempdir()))
             for r in (root, root.resolve())}
    for root in sorted(roots, key=len, reverse=True):
        text = re.sub(re.escape(root.rstrip("/")) + r"/(?:[^\s/:]+/)*([^\s/:]+)", r"\1", text)
    return text


def new_state() -> dict[str, Any]:
    """A conversation's state: its turns, (question, answer) pairs, the answers.

    A turn is what one chat message is made from, not the message: ``("user", text)``,
    ``("answer", k)`` (the k-th answer, drawn again when the chat is sent) or ``("note", text)``
    (a refusal or an error). The rendered messages are 4-5 kB an answer and gradio already
    keeps the chat it was sent in every session; the state kept them a second time.
    """
    return {"turns": [], "pairs": [], "last": None, "answers": []}


@dataclass
class Page:
    """What the tabs of one page share: settings, the assistant, readiness, the catalog."""

    settings: Settings
    bot: Assistant
    ready: threading.Event
    llm_reason: str
    exports_dir: Path
    catalog: dict[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> Index:
        return self.bot.index

    def refresh_catalog(self) -> None:
        """Re-read which documents are indexed (after an upload or a removal)."""
        from assistant.web.catalog import indexed_docs

        self.catalog["docs"], self.catalog["missing"] = indexed_docs(self.settings, self.index)
