"""Benchmark: ``assistant ingest`` of one real 100-page PDF into a fresh index (embedding included).

Run: ``.venv/bin/python benchmarks/ingest_pdf.py [FILE.pdf]``. By default it reads the 101-page
Auto Multiple Choice manual from Debian's ``auto-multiple-choice-doc-pdf`` package (installed by
``make install-test``). The command runs as a child process exactly as a user would run it, with
its progress bar on the terminal; wall time and the child's peak RSS are printed with the targets.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = Path("/usr/share/doc/auto-multiple-choice/auto-multiple-choice.en.pdf")
TARGETS = {"seconds": 60.0, "peak_rss_gb": 1.5}


def main() -> int:
    pdf = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not pdf.is_file():
        print(f"{pdf} is missing: apt-get install -y auto-multiple-choice-doc-pdf, or name a PDF",
              file=sys.stderr)
        return 2
    from assistant.documents.pdf import read_pdf

    t = time.perf_counter()
    extracted = read_pdf(pdf)
    extract_s = time.perf_counter() - t
    load = os.getloadavg()
    assistant = Path(sys.executable).with_name("assistant")
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "corpus", work / "corpus", ignore=shutil.ignore_patterns("eval"))
        env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(work / "corpus"),
               "ASSISTANT_INDEX_DIR": str(work / "index"), "ASSISTANT_DATA_DIR": str(work / "data"),
               "ASSISTANT_TORCH_THREADS": "2", "PYTHONPATH": str(REPO)}
        t = time.perf_counter()
        out = subprocess.run([str(assistant), "ingest", str(pdf)], env=env, cwd=work,
                             stdout=subprocess.PIPE, text=True, check=False)
        seconds = time.perf_counter() - t
    rss_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    print(out.stdout.strip())
    if out.returncode != 0:
        print(f"assistant ingest exited {out.returncode}", file=sys.stderr)
        return out.returncode
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} at start"
          f"{' (LOADED: figures are pessimistic)' if load[0] > 1.0 else ''}")
    print(f"file: {pdf.name}, {len(extracted.pages)} pages, {len(extracted.text):,} characters; "
          f"extraction alone {extract_s:.2f} s")
    ok = "ok" if seconds <= TARGETS["seconds"] else "MISSED"
    print(f"assistant ingest (process start, model load, extraction, embedding): {seconds:.1f} s"
          f"   target <= {TARGETS['seconds']:g} s  {ok}")
    ok = "ok" if rss_gb <= TARGETS["peak_rss_gb"] else "MISSED"
    print(f"peak RSS: {rss_gb:.2f} GB   target <= {TARGETS['peak_rss_gb']:g} GB  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
