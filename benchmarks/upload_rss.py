"""The page's memory before and after one upload: what an ingest leaves in the page.

    python benchmarks/upload_rss.py [--pdf FILE] [--index DIR] [--users 3] [--seconds 30]

Starts `python app.py` on 127.0.0.1 (as load.py does: a temporary copy of the corpus, and of
--index DIR if given), runs --users light users for --seconds, uploads --pdf through the page's
upload endpoint (waiting for its message), runs the users for --seconds again, and prints the
server's RSS before, right after the upload and at the end, with the load average. Loopback only;
every loop is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import pct, rss_mb, run, start_server, stop_app, upload  # noqa: E402

DEFAULT_PDF = Path("/usr/share/doc/camlidl/camlidl-1.04.doc.pdf")  # 26 pages, Debian camlidl


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    ap.add_argument("--index", type=Path, help="copy this index folder in instead of ingesting")
    ap.add_argument("--users", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    if not args.pdf.is_file():
        raise SystemExit(f"{args.pdf} is missing: apt-get install camlidl, or pass --pdf")
    if args.seconds > 3600:
        raise SystemExit("--seconds is at most 3600")
    tmp = Path(tempfile.mkdtemp(prefix="assistant-upload-rss-"))
    proc, url = start_server(tmp, args.index)
    try:
        lat, errors = run(url, args.users, args.seconds, "http", 10)
        before = rss_mb(proc.pid) or float("nan")
        print(f"before: {len(lat)} answers, {len(errors)} errors, RSS {before:.0f} MB; "
              f"load {os.getloadavg()}", flush=True)
        secs, msg = upload(url, args.pdf)
        right = rss_mb(proc.pid) or float("nan")
        print(f"upload {secs:.1f} s: {msg[:150]}", flush=True)
        lat, errors = run(url, args.users, args.seconds, "http", 10)
        after = rss_mb(proc.pid) or float("nan")
    finally:
        stop_app(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"RSS right after the upload {right:.0f} MB, after {args.seconds:g} s more "
          f"{after:.0f} MB: {(after - before) / before:+.1%} ({len(lat)} answers, "
          f"{len(errors)} errors, p95 {pct(lat, 0.95):.0f} ms); load {os.getloadavg()}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
