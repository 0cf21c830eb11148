"""Soak: ten minutes of users on the chat page, with a ~50-page PDF added half-way through.

    python benchmarks/soak.py [--minutes 10] [--users 5] [--pdf FILE] [--question TEXT]
                              [--index DIR] [--probe SECONDS]

Starts `python app.py` on 127.0.0.1 (a temporary copy of the corpus, and of --index DIR if
given), runs --users users asking in extractive mode for --minutes, uploads --pdf through the
page's upload endpoint at the half-way mark, and once the upload is done asks --question, which
only the new document answers, and checks that the page cites it, without a restart. Samples the
server's RSS every 10 s. Prints errors, p50/p95 per minute, the RSS growth from the first
minute's end to the last sample, and PASS/FAIL against: 0 errors, new document answered, RSS
growth <= 10%. Loopback only; every loop is bounded by --minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (  # noqa: E402
    pct,
    rss_mb,
    run,
    start_server,
    stop_app,  # noqa: E402
    upload,
)

DEFAULT_PDF = Path("/usr/share/doc/r-doc-pdf/manual/R-FAQ.pdf")  # 52 pages, Debian r-doc-pdf


def ask_new(url: str, question: str, title: str) -> tuple[bool, str]:
    """Does the page answer ``question`` citing the document titled ``title``?"""
    from gradio_client import Client

    chat, sources, _ = Client(url, verbose=False).predict(
        question, [], [], "extractive", api_name="/ask")
    content = chat[-1]["content"]
    text = content[0]["text"] if isinstance(content, list) else str(content)
    return title in str(sources) and not text.startswith("⚠"), text[:200]


def print_probes(lines: list[str], t0: float) -> None:
    """One line per memory probe of the page (``--probe``): where its memory is."""
    wall0 = time.time() - (time.monotonic() - t0)
    for line in lines:
        p = json.loads(line)
        outside = p["anonymous"] - p["malloc_arena"] - p["malloc_hblkhd"]
        print(f"probe {p['t'] - wall0:4.0f} s: RSS {p['rss']} MB (anonymous {p['anonymous']});"
              f" glibc heap {p['malloc_arena']} MB in {p['arenas']} arenas: in use "
              f"{p['malloc_uordblks']}, free {p['malloc_fordblks']}; mmapped "
              f"{p['malloc_hblkhd']}; outside malloc {outside} MB; "
              f"{p.get('sessions', 0)} sessions (state {p.get('state_kb', 0)} kB, "
              f"gradio's copy {p.get('config_kb', 0)} kB each); "
              f"{p.get('events', 0)} gradio events; {p['lexicons']} lexicon(s); "
              f"{p['threads']} threads")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=5)
    ap.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    ap.add_argument("--question", default="What does CRAN stand for?")
    ap.add_argument("--index", type=Path, help="copy this index folder in instead of ingesting")
    ap.add_argument("--turns", type=int, default=0,
                    help="each user starts a new conversation after this many questions "
                         "(default: one conversation per user and minute)")
    ap.add_argument("--client", choices=["gradio", "http"], default="gradio")
    ap.add_argument("--probe", type=float, default=0.0, metavar="SECONDS",
                    help="every SECONDS, read where the page's memory is (benchmarks/memprobe:"
                         " glibc heap and arenas, sessions, gradio events) and print it at the"
                         " end; about 1 s of the page's time a probe")
    args = ap.parse_args(argv)
    if not args.pdf.is_file():
        raise SystemExit(f"{args.pdf} is missing: apt-get install r-doc-pdf, or pass --pdf")
    if args.minutes > 120:
        raise SystemExit("--minutes is at most 120")

    tmp = Path(tempfile.mkdtemp(prefix="assistant-soak-"))
    probe_out = tmp / "probe.jsonl"
    probe_env = {"MEMPROBE_OUT": str(probe_out), "PYTHONPATH": os.pathsep.join(
        x for x in (str(Path(__file__).resolve().parent / "memprobe"),
                    os.environ.get("PYTHONPATH")) if x)} if args.probe else None
    proc, url = start_server(tmp, args.index, probe_env)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.monotonic()

    def sample() -> None:
        probed = 0.0
        while not stop.wait(10.0):
            mb = rss_mb(proc.pid)
            if mb is not None:
                samples.append((time.monotonic() - t0, mb))
            if args.probe and time.monotonic() - probed >= args.probe:
                probed = time.monotonic()
                os.kill(proc.pid, signal.SIGUSR1)

    events: dict[str, object] = {}

    def ingest_midway() -> None:
        if stop.wait(args.minutes * 30):
            return
        events["upload"] = upload(url, args.pdf)
        events["answered"] = ask_new(url, args.question, args.pdf.stem)

    threads = [threading.Thread(target=sample, daemon=True),
               threading.Thread(target=ingest_midway, daemon=True)]
    for th in threads:
        th.start()
    minutes: list[tuple[list[float], list[str]]] = []
    try:
        print(f"{args.users} users for {args.minutes:g} min against {url}; "
              f"load average {os.getloadavg()}", flush=True)
        for m in range(int(args.minutes)):
            lat, errors = run(url, args.users, 60.0, args.client, args.turns)
            minutes.append((lat, errors))
            print(f"minute {m + 1:2d}: {len(lat) + len(errors):5d} requests, {len(errors)} errors,"
                  f" p50 {pct(lat, 0.5):5.0f} ms, p95 {pct(lat, 0.95):5.0f} ms, RSS "
                  f"{rss_mb(proc.pid) or float('nan'):.0f} MB, load {os.getloadavg()[0]:.1f}",
                  flush=True)
        threads[1].join(timeout=1800)
    finally:
        stop.set()
        stop_app(proc)
        probes = probe_out.read_text().splitlines() if probe_out.exists() else []
        shutil.rmtree(tmp, ignore_errors=True)
    print_probes(probes, t0)

    errors = sum(len(e) for _, e in minutes)
    for e in sorted({e for _, errs in minutes for e in errs})[:5]:
        print(f"  error: {e}")
    secs, msg = events.get("upload", (float("nan"), "not done"))  # type: ignore[misc]
    answered, text = events.get("answered", (False, "not asked"))  # type: ignore[misc]
    base = next((mb for t, mb in samples if t >= 60.0), samples[0][1] if samples else None)
    end = samples[-1][1] if samples else None
    growth = (end - base) / base if base and end else float("nan")
    print(f"upload of {args.pdf.name}: {secs:.0f} s: {str(msg)[:160]}")
    print(f"new document answered on the page: {answered} ({text[:120]!r})")
    print(f"RSS after minute 1 {base} MB, at the end {end} MB: growth {growth:+.1%}")
    ok = errors == 0 and answered and growth <= 0.10
    print(f"errors {errors}; {'PASS' if ok else 'FAIL'}; load average {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
