"""Where a PDF ingest spends its time: cProfile of `ingest` into a fresh temporary index.

    python benchmarks/profile_ingest.py [FILE.pdf] [--top 18]

Default FILE: Debian glpk-doc's gmpl.pdf (74 pages). The model is loaded before profiling, so
the profile holds extraction, chunking, sentence splitting, embedding and the Chroma writes.
Prints pages/s (with the load average) and the functions by own time, then the project's own
functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = Path("/usr/share/doc/glpk-doc/gmpl.pdf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", type=Path, nargs="?", default=DEFAULT)
    ap.add_argument("--top", type=int, default=18)
    args = ap.parse_args()
    if not args.pdf.is_file():
        raise SystemExit(f"{args.pdf} is missing: apt-get install glpk-doc, or name a PDF")
    import pypdfium2

    from assistant.config import Settings
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    work = Path(tempfile.mkdtemp(prefix="profile-ingest-"))
    try:
        shutil.copytree(REPO / "corpus", work / "corpus",
                        ignore=shutil.ignore_patterns("eval", "documents"))
        (work / "corpus" / "documents").mkdir()
        s = Settings(corpus_dir=work / "corpus", index_dir=work / "index",
                     data_dir=work / "data")
        index = Index(s)
        index.embeddings.embed_query("warm up")
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        report = ingest(s, paths=[args.pdf], index=index)
        prof.disable()
        wall = time.perf_counter() - t
        pages = len(pypdfium2.PdfDocument(str(args.pdf)))
        print(report.summary())
        print(f"{pages} pages in {wall:.1f} s = {pages / wall:.2f} pages/s; "
              f"load average {os.getloadavg()}")
        stats = pstats.Stats(prof)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats("assistant/", 30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
