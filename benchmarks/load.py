"""Load on the chat page: 1, 20 and 50 concurrent gradio_client users asking in extractive mode.

    python benchmarks/load.py [--users 1 20 50] [--seconds 60] [--ingest FILE]
                              [--url http://127.0.0.1:7860 --pid N] [--index DIR]

Each phase runs its users for --seconds, one after the other, so every figure is printed beside
the single-user figure of the same run (and the load average of the machine). With --ingest, a
further phase runs the middle user count while FILE is uploaded through the page's own upload
endpoint (the page ingests it in a child process, as when a user adds a document; that
process's CPU is printed apart from the server's CPU per request).

Without --url it starts `python app.py` on 127.0.0.1 on a free port, with its index, data and
corpus in a temporary folder (the bundled corpus is indexed at start, or --index DIR is copied
in), and stops it by pid at the end. Only loopback addresses are accepted: this script never
sends traffic off the machine. Every loop is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
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


def cpu_seconds(pid: int | None, children: bool = False) -> float | None:
    """CPU time (user + system) a process has used so far, or None if unknown; ``children``:
    that of its ended child processes instead (the page's upload ingests)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    at = 13 if children else 11
    return (int(fields[at]) + int(fields[at + 1])) / os.sysconf("SC_CLK_TCK")


def start_server(tmp: Path, index: Path | None = None,
                 extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """The app on a free loopback port with a copy of the bundled corpus under ``tmp``."""
    corpus = tmp / "corpus"
    shutil.copytree(REPO / "corpus", corpus, ignore=shutil.ignore_patterns("eval"))
    if index is not None:
        shutil.copytree(index, tmp / "index")
    env = {"ASSISTANT_INDEX_DIR": str(tmp / "index"), "ASSISTANT_DATA_DIR": str(tmp / "data"),
           "ASSISTANT_CORPUS_DIR": str(corpus), **(extra_env or {})}
    if index is None and "ASSISTANT_CHROMA_URL" not in env:
        # a fresh index of its own; a copied index or a server keeps the collection name
        env.setdefault("ASSISTANT_COLLECTION", "load_bench")
    try:
        return start_app(tmp, env, timeout=900)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc


def upload(url: str, path: Path) -> tuple[float, str]:
    """Add ``path`` through the page's upload endpoint; (seconds, the page's message)."""
    from gradio_client import Client, handle_file

    t = time.perf_counter()
    msg, _, _ = Client(url, verbose=False).predict(
        handle_file(str(path)), path.stem, "XX", "other", api_name="/upload")
    return time.perf_counter() - t, str(msg)


class HttpUser:
    """A light client: the page's REST call (POST ``/gradio_api/call/ask``, then its event
    stream) over one keep-alive connection. gradio_client spends about as much CPU per request
    as the server does, which on a 2-core machine halves what the server gets."""

    def __init__(self, url: str) -> None:
        import http.client

        u = urlparse(url)
        self.prefix = u.path.rstrip("/") + "/gradio_api/call"
        self.conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=600)
        self.session = uuid.uuid4().hex  # one session per user, as one browser tab has

    def predict(self, question: str) -> list[dict[str, Any]]:
        """The chat the page returns for ``question`` (its last event's first output)."""
        return self.call("ask", [question, [], [], "extractive"])

    def call(self, api_name: str, data: list[Any]) -> Any:
        """One call of the page's endpoint ``api_name`` in this user's session: its first output."""
        body = json.dumps({"data": data, "session_hash": self.session})
        prefix = f"{self.prefix}/{api_name}"
        self.conn.request("POST", prefix, body, {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        event_id = json.loads(resp.read())["event_id"]
        self.conn.request("GET", f"{prefix}/{event_id}")
        resp = self.conn.getresponse()
        event, data = "", ""
        for raw in resp.read().decode("utf-8").splitlines():
            if raw.startswith("event: "):
                event = raw[7:]
            elif raw.startswith("data: ") and event in {"generating", "complete", "error"}:
                data = raw[6:]
        if event != "complete":
            raise RuntimeError(f"the page ended with {event!r}: {data[:160]}")
        return json.loads(data)[0]


def run(url: str, users: int, seconds: float, client: str = "gradio",
        turns: int = 0) -> tuple[list[float], list[str]]:
    """Each user asks questions in turn until the time is up; latencies in ms and errors.

    With ``turns``, a user starts a new conversation (the page's New conversation) after that
    many questions; without, each user's conversation grows for the whole run, and the page
    keeps every answer of it in the session's state.
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    if client == "http":
        clients: list[Any] = [HttpUser(url) for _ in range(users)]
    else:
        from gradio_client import Client

        clients = [Client(url, verbose=False) for _ in range(users)]
    end = time.monotonic() + seconds

    def ask(i: int, q: str) -> list[dict[str, Any]]:
        if client == "http":
            return clients[i].predict(q)  # type: ignore[no-any-return]
        chat, _, _ = clients[i].predict(q, [], [], "extractive", api_name="/ask")
        return chat  # type: ignore[no-any-return]

    def clear(i: int) -> None:
        if client == "http":
            clients[i].call("clear", [])
        else:
            clients[i].predict(api_name="/clear")

    def user(i: int) -> None:
        n = i
        asked = 0
        while time.monotonic() < end:
            if turns and asked and asked % turns == 0:
                clear(i)
            asked += 1
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            t = time.perf_counter()
            try:
                content = ask(i, q)[-1]["content"]
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


def used(pid: int | None, start: tuple[float | None, float]) -> tuple[float | None, float]:
    """CPU seconds the server (None if unknown) and this process used since ``start``."""
    now = cpu_seconds(pid)
    server = None if now is None or start[0] is None else now - start[0]
    return server, time.process_time() - start[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def report(label: str, lat: list[float], errors: list[str], wall: float,
           cpu: tuple[float | None, float] = (None, 0.0)) -> None:
    """One phase's line; ``cpu``: CPU seconds the server and this client process used in it."""
    n = len(lat) + len(errors)
    server, client = cpu
    per = (f"  CPU/request server {server / n * 1000:4.0f} ms client {client / n * 1000:4.0f} ms"
           if server is not None and n else "")
    print(f"{label:18s} requests {n:5d} ({n / wall:5.1f}/s)  errors {len(errors):3d}  "
          f"p50 {pct(lat, 0.50):6.0f} ms  p95 {pct(lat, 0.95):6.0f} ms  "
          f"max {max(lat, default=float('nan')):6.0f} ms  load {os.getloadavg()[0]:.1f}{per}",
          flush=True)
    for e in sorted(set(errors))[:3]:
        print(f"    {e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, nargs="+", default=[1, 20, 50])
    ap.add_argument("--seconds", type=float, default=30.0, help="per phase")
    ap.add_argument("--ingest", type=Path, help="also run the middle user count during its upload")
    ap.add_argument("--url", help="a running server (loopback only); default: start one")
    ap.add_argument("--pid", type=int, help="the running server's pid, for its RSS")
    ap.add_argument("--index", type=Path, help="copy this index folder in instead of ingesting")
    ap.add_argument("--chroma-url", help="the started server uses this Chroma server (loopback)")
    ap.add_argument("--client", choices=["gradio", "http"], default="gradio",
                    help="gradio_client (as a Python user would), or the lighter REST call "
                         "(leaves the server more of the machine's CPU)")
    ap.add_argument("--turns", type=int, default=0,
                    help="each user starts a new conversation after this many questions")
    args = ap.parse_args(argv)
    if args.seconds > 3600:
        raise SystemExit("--seconds is at most 3600 per phase")
    for u in (u for u in (args.url, args.chroma_url) if u):
        host = urlparse(u).hostname or ""
        if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
            raise SystemExit(f"{u} is not a loopback address (127.0.0.1, localhost, ::1)")

    proc = None
    tmp = None
    if args.url:
        url, pid = args.url, args.pid
    else:
        tmp = Path(tempfile.mkdtemp(prefix="assistant-load-"))
        print("starting the server…", flush=True)
        extra = {"ASSISTANT_CHROMA_URL": args.chroma_url} if args.chroma_url else None
        proc, url = start_server(tmp, args.index, extra)
        pid = proc.pid
    failed = False
    try:
        from gradio_client import Client

        Client(url, verbose=False).predict(QUESTIONS[0], [], [], "extractive", api_name="/ask")
        print(f"against {url} ({args.client} client); load average {os.getloadavg()}", flush=True)
        before = rss_mb(pid)
        for users in args.users:
            t0, c0 = time.monotonic(), (cpu_seconds(pid), time.process_time())
            lat, errors = run(url, users, args.seconds, args.client, args.turns)
            report(f"{users} users", lat, errors, time.monotonic() - t0, used(pid, c0))
            failed |= bool(errors)
        if args.ingest:
            users = args.users[len(args.users) // 2]
            done: dict[str, object] = {}

            def ingest() -> None:
                try:
                    done["result"] = upload(url, args.ingest)
                except Exception as exc:  # reported below, the load phase goes on
                    done["result"] = (float("nan"), f"{type(exc).__name__}: {exc}")

            th = threading.Thread(target=ingest, daemon=True)
            c0_children = cpu_seconds(pid, children=True)
            t0, c0 = time.monotonic(), (cpu_seconds(pid), time.process_time())
            th.start()
            lat, errors = run(url, users, args.seconds, args.client, args.turns)
            report(f"{users} users+ingest", lat, errors, time.monotonic() - t0, used(pid, c0))
            th.join(timeout=1800)
            secs, msg = done.get("result", (float("nan"), "still running"))  # type: ignore[misc]
            print(f"    upload of {args.ingest.name}: {secs:.1f} s: {str(msg)[:160]}")
            ingest_cpu, before_cpu = cpu_seconds(pid, children=True), c0_children
            if ingest_cpu is not None and before_cpu is not None:
                print(f"    CPU of the ingest process (a child of the server, not counted "
                      f"above): {ingest_cpu - before_cpu:.1f} s")
            failed |= bool(errors)
        after = rss_mb(pid)
    finally:
        if proc is not None:
            stop_app(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    fmt = lambda v: "unknown" if v is None else f"{v:.0f} MB"  # noqa: E731
    print(f"server RSS    before {fmt(before)}, after {fmt(after)}; "
          f"load average {os.getloadavg()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
