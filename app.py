"""Start the chat page: ``python app.py [--host H] [--port N]`` (127.0.0.1:7860 by default)."""

from __future__ import annotations

import argparse
import sys

from assistant.config import get_settings
from assistant.errors import AssistantError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the Micro-GEAR assistant's chat page.")
    parser.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        from assistant.ui import serve

        serve(get_settings(**overrides))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
