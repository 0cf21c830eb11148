"""Start the chat page: ``python app.py [--host H] [--port N]`` (127.0.0.1:7860 by default).

The same as ``assistant serve``; errors print one line and exit non-zero.
"""

from __future__ import annotations

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
