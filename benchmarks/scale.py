"""Speed, memory and quality against corpus size: 1x, 10x and 50x the bundled reports.

    python benchmarks/scale.py [--times 1 10 50] [--plot docs/scale.png] [--work DIR]

The corpora are generated (benchmarks/variants.py): the two bundled reports plus renamed and
renumbered variants of them (distinct fictional countries, capitals, project names and
numbers), so every added document is a near-duplicate distractor. Each corpus is ingested into
its own temporary index with the configured embedding model; then a fresh process measures:

- ingest: chunks/s and KB/s of Markdown (pages/s is for PDFs: benchmarks/ingest_pdf.py);
- index size on disk;
- cold start: process start to the first retrieval answered (imports, model, lexical index),
  after the lexical index and sentence vectors were saved as `assistant ingest` saves them;
- warm retrieval p50/p95 over the fixed question set, and in the same run the floor: one query
  embedding plus one Chroma query;
- RSS after the warm queries;
- hit@5 on the fixed set: the known questions about the two reports (evaluation set, both
  parts), relevant = a passage holding the gold quote in its document (as `assistant eval`),
  or a variant's copy of it when the variant changes neither the question nor the quote
  (``variants.holds_answer``: the question cannot tell the two documents apart and the copy
  states the same fact in the same words).

Figures are noisy on a shared machine: the load average is printed beside them. Requires
matplotlib for the plot (the `bench` extra); without it the table is still printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
BUNDLED = {"d11-armenia", "d11-georgia"}


def questions() -> list[dict[str, Any]]:
    """The fixed set: answerable known questions whose gold sources are the bundled reports."""
    rows = [json.loads(line) for line in
            (REPO / "corpus/eval/known_qa.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if r.get("answerable") and not r.get("history")
            and r.get("category", "known") == "known" and r.get("sources")
            and all(s["doc"] in BUNDLED for s in r["sources"])]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(env: dict[str, str]) -> dict[str, float]:
    """In a fresh process: cold start, warm p50/p95, floor, RSS and hit@5 (JSON on stdout)."""
    t0 = time.perf_counter()
    from variants import holds_answer

    from assistant.config import Settings
    from assistant.evaluation.qa import Source
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index

    settings = Settings()
    index = Index(settings)
    retriever = HybridRetriever(index, settings)
    qs = questions()
    retriever.retrieve(str(qs[0]["question"]))
    cold = time.perf_counter() - t0
    warm: list[float] = []
    floor: list[float] = []
    ranks: list[int | None] = []
    for _ in range(2):
        for q in qs:
            t = time.perf_counter()
            got = retriever.retrieve(str(q["question"]))
            warm.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            index.query(index.embeddings.embed_query(str(q["question"])), settings.fetch_k)
            floor.append((time.perf_counter() - t) * 1000)
            if len(ranks) < len(qs):
                sources = [Source(s["doc"], s["quote"]) for s in q["sources"]]
                ranks.append(next((i for i, sp in enumerate(list(got)[:5], 1)
                                   if holds_answer(sp.passage, sources, str(q["question"]))),
                                  None))
    return {"cold_s": cold, "warm_p50": pct(warm, 0.5), "warm_p95": pct(warm, 0.95),
            "floor_p50": pct(floor, 0.5), "rss_mb": rss_mb(), "questions": len(qs),
            "hit5": sum(1 for r in ranks if r) / len(ranks)}


def copy_vectors(settings: Any, source: Any) -> int:
    """Index the variants with the vectors of the bundled reports' passages (no embedding).

    A variant differs from its report only in names and numbers, so its i-th passage and
    sentence take the vectors of the report's i-th passage and sentence (a passage whose
    sentences do not line up takes its passage vector for each). Lexical statistics, sizes,
    memory and latency are real; dense similarity treats a variant as its report's twin, a
    harder test of hit@5 than real vectors would be. Returns the passages added.
    """
    from assistant.documents.chunking import chunk_document
    from assistant.documents.loaders import load_document
    from assistant.documents.manifest import corpus_entries
    from assistant.store.index import Index, SentenceRow
    from assistant.store.ingest import sentence_units

    src, dst = Index(source), Index(settings)
    rows_by_pid: dict[str, list[SentenceRow]] = {}
    for row in src.sentence_rows():
        rows_by_pid.setdefault(row.passage_id, []).append(row)
    originals = {}
    for doc in BUNDLED:
        ps = src.passages(where={"doc_id": doc})
        ids, vecs = src.embeddings_of([p.id for p in ps])
        by_id = dict(zip(ids, vecs, strict=True))
        originals[doc] = [(p, by_id[p.id], sorted(rows_by_pid.get(p.id, []),
                                                  key=lambda r: r.start)) for p in ps]
    added = 0
    for entry in corpus_entries(settings):
        base = entry.info.id.rsplit("-v", 1)[0]
        if base not in originals or entry.info.id in BUNDLED:
            continue
        passages = chunk_document(load_document(entry.path, entry.info, settings), settings)
        orig = originals[base]
        vectors, rows = [], []
        for j, p in enumerate(passages):
            _, vec, srows = orig[min(j, len(orig) - 1)]
            vectors.append(list(vec))
            units = sentence_units(p) or [(0, len(p.text))]
            for k, (a, b) in enumerate(units):
                v = srows[k].vector if len(srows) == len(units) else vec
                rows.append(SentenceRow(p.id, a, b, v))
        dst.add(passages, vectors, rows)
        added += len(passages)
    dst.record_model()
    return added


def run_size(times: int, work: Path, copy_from: Path | None = None) -> dict[str, float]:
    from variants import build_corpus

    from assistant.config import Settings
    from assistant.store.files import folder_size
    from assistant.store.ingest import ingest

    base = work / f"x{times}"
    shutil.rmtree(base, ignore_errors=True)
    corpus = build_corpus(base / "corpus", times)
    env = {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(base / "index"),
           "ASSISTANT_DATA_DIR": str(base / "data"), "ASSISTANT_COLLECTION": "scale"}
    kb = sum(p.stat().st_size for p in (corpus / "documents").iterdir()) / 1024
    settings = Settings(corpus_dir=str(corpus), index_dir=str(base / "index"),
                        data_dir=str(base / "data"), collection="scale")
    load0 = os.getloadavg()[0]
    if copy_from is not None:
        shutil.copytree(copy_from, base / "index")  # the bundled reports, really embedded
        t = time.perf_counter()
        if times > 1:
            copy_vectors(settings, settings.model_copy(update={"index_dir": copy_from}))
        secs = time.perf_counter() - t
        rate = float("nan")  # not an ingest rate: nothing was embedded
    else:
        report = ingest(settings)
        if not report.ok:
            raise SystemExit(f"ingest failed: {report.summary()}")
        chunks, secs = report.chunks_added, report.seconds
        rate = chunks / secs
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.store.index import Index

    t = time.perf_counter()  # as `assistant ingest` does: the lexicon saved for the next start
    HybridRetriever(Index(settings), settings).lexicon()
    prepare_s = time.perf_counter() - t
    out: dict[str, float] = {
        "times": times, "chunks": Index(settings).count(), "ingest_s": secs,
        "chunks_per_s": rate, "kb_per_s": kb / secs if rate == rate else float("nan"),
        "disk_mb": folder_size(base / "index") / 1e6, "load_ingest": load0,
        "prepare_s": prepare_s,
    }
    for run in (1, 2):  # twice: the machine is shared, one run can be unlucky
        done = subprocess.run(
            [sys.executable, __file__, "--measure"], env={**os.environ, **env},
            capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode:
            raise SystemExit(f"measuring {times}x failed:\n{done.stderr[-2000:]}")
        got = json.loads(done.stdout.strip().splitlines()[-1])
        out.update({f"{k}_{run}": v for k, v in got.items()})
        out[f"load_{run}"] = os.getloadavg()[0]
    return out


def plot(rows: list[dict[str, float]], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (pip install '.[bench]'): no plot written")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["chunks"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("warm_p50", "warm p50"), ("warm_p95", "warm p95"),
                       ("floor_p50", "floor p50")):
        a.plot(x, [min(r[f"{key}_1"], r[f"{key}_2"]) for r in rows], marker="o", label=label)
    a.set(xlabel="passages", ylabel="ms", title="retrieval latency", xscale="log")
    a.legend()
    b.plot(x, [min(r["rss_mb_1"], r["rss_mb_2"]) for r in rows], marker="o", label="RSS")
    b.plot(x, [r["disk_mb"] for r in rows], marker="s", label="index on disk")
    b.set(xlabel="passages", ylabel="MB", title="memory and disk", xscale="log")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--plot", type=Path, default=Path("docs/scale.png"))
    ap.add_argument("--work", type=Path, help="keep the corpora and indexes here")
    ap.add_argument("--copy-vectors", action="store_true",
                    help="index the variants with the reports' vectors instead of embedding "
                         "them (minutes instead of hours at 50x; see copy_vectors)")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(dict(os.environ))))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    work = args.work or Path(tempfile.mkdtemp(prefix="assistant-scale-"))
    rows = []
    print(f"load average at start {os.getloadavg()}", flush=True)
    print("size  chunks  ingest chunks/s  KB/s  disk MB | run  cold s  warm p50  p95  floor"
          "  ratio  RSS MB  hit@5  load", flush=True)
    try:
        for times in args.times:
            # --copy-vectors: the 1x index (really embedded) is kept as the variants' source.
            source = work / "bundled-index"
            r = run_size(times, work, source if args.copy_vectors and source.exists() else None)
            if args.copy_vectors and not source.exists():
                if times != 1:
                    raise SystemExit("--copy-vectors needs 1 first in --times")
                shutil.copytree(work / "x1" / "index", source)
            rows.append(r)
            for run in (1, 2):
                print(f"{times:3d}x {r['chunks']:7.0f} {r['ingest_s']:6.0f}s "
                      f"{r['chunks_per_s']:6.1f} {r['kb_per_s']:6.1f} {r['disk_mb']:8.1f} | "
                      f"{run:3d} {r[f'cold_s_{run}']:7.1f} {r[f'warm_p50_{run}']:8.0f} "
                      f"{r[f'warm_p95_{run}']:5.0f} {r[f'floor_p50_{run}']:6.0f} "
                      f"{r[f'warm_p50_{run}'] / r[f'floor_p50_{run}']:5.1f}x "
                      f"{r[f'rss_mb_{run}']:7.0f} {r[f'hit5_{run}']:6.2f} "
                      f"{r[f'load_{run}']:5.1f}", flush=True)
            print(f"     lexicon and sentence vectors saved for the next start in "
                  f"{r['prepare_s']:.1f} s (as `assistant ingest` does)", flush=True)
            (work / "scale.json").write_text(json.dumps(rows, indent=1))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"fixed question set: {int(rows[0]['questions_1'])} questions; "
          f"load average at end {os.getloadavg()}")
    if rows:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
