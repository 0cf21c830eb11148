"""Load on the chat page: N concurrent gradio_client users asking in extractive mode.

    python benchmarks/load.py [--users 20] [--seconds 60] [--url http://127.0.0.1:7860]

Without --url it starts `python app.py` on 127.0.0.1 on a free port, with its index, data and
corpus in a temporary folder (the bundled corpus is indexed at start), and stops it by pid at
the end. Prints requests, errors, p50/p95 latency and the server's RSS before and after.
Only loopback addresses are accepted: this script never sends traffic off the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from appserver import start_app, stop_app  # noqa: E402  (shared with the UI tests)

QUESTIONS = [
    "How many scientific institutions took part in the Armenian survey?",
    "When was the Georgian questionnaire available?",
    "What challenges did institutions in both countries report?",
    "How many institutions responded to the micro-credentials survey in Armenia?",
    "Do Georgian universities issue micro-credentials?",
    "What is a micro-credential?",
    "Which recommendations does the Armenian report make?",
    "What is the capital of Peru?",
]


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MB (VmRSS), or None if unknown."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The app on a free loopback port with a copy of the bundled corpus under ``tmp``."""
    corpus = tmp / "corpus"
    shutil.copytree(REPO / "corpus", corpus, ignore=shutil.ignore_patterns("eval"))
    env = {"ASSISTANT_INDEX_DIR": str(tmp / "index"), "ASSISTANT_DATA_DIR": str(tmp / "data"),
           "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_COLLECTION": "load_bench"}
    try:
        return start_app(tmp, env, timeout=600)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc


def run(url: str, users: int, seconds: float) -> tuple[list[float], list[str]]:
    """Each user asks questions in turn until the time is up; latencies in ms and errors."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    clients = [Client(url, verbose=False) for _ in range(users)]
    end = time.monotonic() + seconds

    def user(i: int) -> None:
        client = clients[i]
        n = i
        while time.monotonic() < end:
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            t = time.perf_counter()
            try:
                chat, _, _ = client.predict(q, [], [], "extractive", api_name="/ask")
                content = chat[-1]["content"]
                text = content[0]["text"] if isinstance(content, list) else str(content)
                ok = not text.startswith("⚠")
                err = "" if ok else text[:120]
            except Exception as exc:  # a load test counts failures, it does not stop on them
                err = f"{type(exc).__name__}: {exc}"[:200]
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if err:
                    errors.append(err)
                else:
                    latencies.append(ms)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    return latencies, errors


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--url", help="a running server (loopback only); default: start one")
    ap.add_argument("--pid", type=int, help="the running server's pid, for its RSS")
    args = ap.parse_args(argv)

    proc = None
    tmp = None
    if args.url:
        host = urlparse(args.url).hostname or ""
        if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
            raise SystemExit("--url must be a loopback address (127.0.0.1, localhost, ::1)")
        url, pid = args.url, args.pid
    else:
        tmp = Path(tempfile.mkdtemp(prefix="assistant-load-"))
        print("starting the server (indexes the bundled corpus first)…", flush=True)
        proc, url = start_server(tmp)
        pid = proc.pid
    try:
        from gradio_client import Client

        Client(url, verbose=False).predict(QUESTIONS[0], [], [], "extractive", api_name="/ask")
        before = rss_mb(pid)
        print(f"{args.users} users for {args.seconds:.0f} s against {url}", flush=True)
        t0 = time.monotonic()
        lat, errors = run(url, args.users, args.seconds)
        wall = time.monotonic() - t0
        after = rss_mb(pid)
    finally:
        if proc is not None:
            stop_app(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    n = len(lat) + len(errors)
    print(f"requests      {n} ({n / wall:.1f}/s over {wall:.0f} s)")
    print(f"errors        {len(errors)}")
    for e in sorted(set(errors))[:5]:
        print(f"  {e}")
    if lat:
        print(f"latency p50   {pct(lat, 0.50):.0f} ms")
        print(f"latency p95   {pct(lat, 0.95):.0f} ms")
        print(f"latency mean  {statistics.fmean(lat):.0f} ms, max {max(lat):.0f} ms")
    fmt = lambda v: "unknown" if v is None else f"{v:.0f} MB"  # noqa: E731
    print(f"server RSS    before {fmt(before)}, after {fmt(after)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
