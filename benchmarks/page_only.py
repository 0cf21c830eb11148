"""The chat page with each question's answer replayed: the page's own CPU per request.

    python benchmarks/page_only.py --port 34568 &        # serves the index of this tree
    python benchmarks/load.py --url http://127.0.0.1:34568 --pid $! --client http \
        --users 1 20 --seconds 20 --turns 10
    py-spy record --gil -r 200 -d 20 -p $! -f raw -o page.raw   # during a load phase

The first time a question is asked, the assistant answers it as usual; later, the same
``Answer`` objects are replayed without retrieval or embedding. Every request then costs the
server only the Ask handler's rendering and gradio's own work (queue, event stream, JSON),
which ``load.py`` prints as "CPU/request server". Loopback only, as ``assistant serve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any


def replaying(ask_stream: Any) -> Any:
    """``Assistant.ask_stream`` that answers each question once, then replays that answer."""
    memo: dict[str, list[Any]] = {}

    def replay(self: Any, question: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if question not in memo:
            memo[question] = list(ask_stream(self, question, *args, **kwargs))
        yield from memo[question]

    return replay


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=34568)
    args = ap.parse_args()
    from assistant.answer import core
    from assistant.cli import main as cli

    core.Assistant.ask_stream = replaying(core.Assistant.ask_stream)  # type: ignore[method-assign]
    return cli(["serve", "--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
