"""Time to the first answer on the chat page, as a user sees it, in Debian's chromium.

    python benchmarks/first_answer.py [--url http://127.0.0.1:7860]

Without --url it starts `python app.py` on 127.0.0.1 with a temporary index (the bundled corpus
is indexed first) and stops it by pid at the end. Prints: process start to page served, page
served to "Ready", and "Ready" to the first answer on screen (the target is ≤ 2 s).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from appserver import start_app, stop_app  # noqa: E402  (shared with the UI tests)

QUESTION = "When was the Georgian questionnaire available?"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server on this machine; default: start one")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    proc = tmp = None
    t0 = time.monotonic()
    if args.url:
        url = args.url
    else:
        tmp = Path(tempfile.mkdtemp(prefix="assistant-first-"))
        corpus = tmp / "corpus"
        shutil.copytree(REPO / "corpus", corpus, ignore=shutil.ignore_patterns("eval"))
        env = {"ASSISTANT_INDEX_DIR": str(tmp / "index"), "ASSISTANT_DATA_DIR": str(tmp / "data"),
               "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_COLLECTION": "first_answer"}
        print("starting the server (indexes the bundled corpus first)…", flush=True)
        proc, url = start_app(tmp, env, timeout=900)
    served = time.monotonic()
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url, wait_until="load")
            page.locator("#status").get_by_text("Ready").wait_for(timeout=600_000)
            ready = time.monotonic()
            page.locator("#question textarea").fill(QUESTION)
            page.get_by_role("button", name="Ask", exact=True).click()
            page.locator("#sources mark").first.wait_for(timeout=120_000)
            answered = time.monotonic()
            browser.close()
    finally:
        if proc is not None:
            stop_app(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if proc is not None:
        print(f"process start → page served   {served - t0:.1f} s (includes a first-run index)")
    print(f"page served → \"Ready\"         {ready - served:.1f} s")
    print(f"\"Ready\" → first answer shown  {answered - ready:.2f} s (target ≤ 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
