"""Serve the page: check the binding, index on a first run, warm up, launch."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.web.auth import check_binding, trust_forwarded_headers
from assistant.web.chat_tab import EXAMPLES
from assistant.web.common import head_html, static_text
from assistant.web.memory import (
    forget_deep_link_copies,
    limit_malloc_arenas,
    trim_after_take_ups,
)
from assistant.web.page import build_app, theme
from assistant.web.uploads import app_kwargs, empty_upload_tmp, upload_tmp_dir

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answer import Assistant
    from assistant.store.index import Index

log = logging.getLogger(__name__)


def ensure_index(settings: Settings, index: Index) -> None:
    """On a first run (empty index), index the bundled corpus, printing progress."""
    if index.count() > 0:
        return
    from assistant.store.ingest import ingest

    print("The index is empty: indexing the bundled corpus (once)…", file=sys.stderr, flush=True)
    last = [-1]

    def step(done: int, total: int, label: str) -> None:
        pct = 100 * done // max(total, 1)
        if pct >= last[0] + 10 or done >= total:
            last[0] = pct
            print(f"  {done}/{total} chunks ({pct}%) {label}", file=sys.stderr, flush=True)

    report = ingest(settings, index=index, progress=step)
    for path, reason in report.failed.items():
        print(f"  skipped {path}: {reason}", file=sys.stderr)
    print(f"Indexed: {report.summary()}", file=sys.stderr, flush=True)


def warm_up(bot: Assistant, ready: threading.Event) -> None:
    """Load the embedding model, the index and the lexicon with one question; then ``ready``."""
    try:
        bot.ask(EXAMPLES[0])
    except Exception:
        log.exception("warming up failed; the first question will load the model")
    finally:
        ready.set()


# Gradio rebuilds a pandas table of up to 10,000 past events after every event, for its
# monitoring page (which this page does not enable): 6% of the server's GIL-held time under 20
# users after a few hundred questions, and more as the table fills. Never rebuilt here; and
# the events it would be built from are kept 100 deep, not 10,000 (two per question: a
# dictionary each, about 5 MB more memory once full, for a table nobody reads).
GRADIO_ENV = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": str(10**9),
              "GRADIO_ANALYTICS_MAX_EVENTS": "100"}


def gradio_env() -> None:
    """Gradio's settings for serving (the environment can override them); before the queue."""
    import os

    for key, value in GRADIO_ENV.items():
        os.environ.setdefault(key, value)


def launch_options(settings: Settings, auth: tuple[str, str] | None) -> dict[str, Any]:
    """What ``gr.Blocks.launch`` is given: loopback-safe, offline, the page's look.

    Gradio keeps what every session was last sent (its chat, sources, every component's
    settings: 0.3-0.5 MB a conversation) until ``state_session_capacity`` newer sessions
    exist; closing a tab frees only the ``gr.State``. ``page_sessions`` bounds it.
    """
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        auth=auth,
        theme=theme(),
        css=static_text("page.css") + static_text("compare.css"),
        head=head_html(),
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        show_error=False,
        footer_links=["api", "settings"],
        max_file_size=f"{int(settings.max_upload_mb * 2) + 1}mb",
        prevent_thread_lock=True,
        quiet=True,
        state_session_capacity=settings.page_sessions,
        app_kwargs=app_kwargs(settings, with_login_limit=bool(auth)),
        i18n=page_i18n(),
    )


# Words gradio's page reads out but its English strings lack: a visually hidden status line
# says "common.complete" to a screen reader when an event ends (a trial heard the key).
MISSING_STRINGS = {"common.complete": "Done"}


def page_i18n() -> Any:
    """The page's strings for gradio's own keys it has no English text for."""
    import gradio as gr

    return gr.I18n(en=dict(MISSING_STRINGS))


def serve(settings: Settings, block: bool = True) -> gr.Blocks:
    """Check the binding, index a fresh clone's corpus, and start the page (loading at start)."""
    import os

    auth = check_binding(settings)
    limit_malloc_arenas(settings.malloc_arenas)  # before the server's threads start
    forget_deep_link_copies()
    from assistant.answer import Assistant
    from assistant.safety import install_log_redaction
    from assistant.store.index import Index

    install_log_redaction(settings)
    trust_forwarded_headers(settings)
    gradio_env()
    # Gradio keeps uploads in its own folder: ours, emptied on every start.
    tmp = upload_tmp_dir(settings)
    os.environ["GRADIO_TEMP_DIR"] = str(tmp)
    removed = empty_upload_tmp(settings)
    if removed:
        log.info("emptied the page's upload folder %s (%d entries)", tmp, removed)

    index = Index(settings)
    ensure_index(settings, index)
    bot = Assistant(settings, index=index)
    trim_after_take_ups(bot, settings.heap_trim_interval_s)
    ready = threading.Event()
    threading.Thread(target=warm_up, args=(bot, ready), daemon=True, name="warm-up").start()
    app = build_app(settings, bot, ready=ready)
    app.queue(default_concurrency_limit=2)
    try:
        app.launch(**launch_options(settings, auth))
    except OSError as exc:
        # Let the warm-up finish first: exiting while its thread is inside the embedding
        # engine's C code ended a busy-port start in SIGSEGV after its one clear line (CI).
        ready.wait()
        raise ConfigError(
            f"Cannot serve on {settings.host}:{settings.port} ({exc}). Stop the program using "
            "that port, or choose another with --port N (ASSISTANT_PORT)."
        ) from exc
    print(f"The chat page is on http://{settings.host}:{settings.port} (Ctrl+C stops it)",
          file=sys.stderr, flush=True)
    if block:
        app.block_thread()
    return app
