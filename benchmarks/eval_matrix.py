"""Every figure of docs/evaluation.md, from one command.

For each embedding model (all-MiniLM-L6-v2 and multilingual-e5-small): ingest the bundled corpus
into a fresh temporary index (timed), then run the Q&A sets' chosen part (the test part by
default) in extractive mode, with the naive LangChain baseline on the same model, and in verify
mode when a language model is configured (ASSISTANT_LLM_*). Prints one table per run, overall
and by category, as Markdown, and writes everything to artifacts/eval_matrix.json.

    python benchmarks/eval_matrix.py                  # test part, both models, extractive + naive
    python benchmarks/eval_matrix.py --split tune     # the part constants may be chosen on
    python benchmarks/eval_matrix.py --models minilm --modes extractive verify
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant  # noqa: E402,F401  (offline settings)
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.baseline import NaiveBaseline  # noqa: E402
from assistant.evaluation.metrics import CATEGORY_COLUMNS  # noqa: E402
from assistant.evaluation.qa import load_qa, select_split  # noqa: E402
from assistant.evaluation.run import build_report, default_sets, run_items  # noqa: E402

HEADLINE = (("retrieval", "hit_at_5", "hit@5"), ("retrieval", "mrr", "MRR"),
            ("answer", "fact_recall", "fact recall"), ("citations", "precision", "cit. prec."),
            ("citations", "quote_verified", "verified"),
            ("abstention", "false_answer_rate", "false answers"),
            ("abstention", "false_abstention_rate", "false abst."),
            ("latency", "p50_ms", "p50 ms"))


def markdown(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def fmt(m: dict[str, Any], group: str, key: str) -> str:
    v = m[group][key]
    return f"{v:.0f}" if key.endswith("_ms") else f"{v:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--models", nargs="+", default=["minilm", "e5-small"])
    ap.add_argument("--modes", nargs="+", default=["extractive", "naive", "verify"])
    ap.add_argument("--json", default=str(ROOT / "artifacts" / "eval_matrix.json"))
    args = ap.parse_args()

    from assistant.answer import Assistant
    from assistant.answer.modes import llm_configured
    from assistant.store.index import Index
    from assistant.store.ingest import ingest

    results: dict[str, Any] = {}
    overall_rows = [["model", "mode", "n", *(h for _, _, h in HEADLINE)]]
    category_blocks = []
    for model in args.models:
        with tempfile.TemporaryDirectory(prefix=f"evalm-{model}-") as tmp:
            s = Settings(embedding_model=model, index_dir=Path(tmp) / "index",
                         data_dir=Path(tmp) / "data", collection=f"evalm_{model.replace('-', '_')}")
            items = []
            for path in default_sets(s):
                items.extend(load_qa(path, s))
            items = select_split(items, args.split)
            t = time.perf_counter()
            index = Index(s)
            report = ingest(s, index=index)
            ingest_s = time.perf_counter() - t
            print(f"{model}: ingested {report.chunks_added} chunks in {ingest_s:.1f} s "
                  f"(model load included)", file=sys.stderr)
            bot = Assistant(s, index=index)
            for mode in args.modes:
                if mode == "verify" and llm_configured(s):
                    print(f"{model}: verify skipped ({llm_configured(s)})", file=sys.stderr)
                    continue
                t = time.perf_counter()
                if mode == "naive":
                    naive = NaiveBaseline(s, embeddings=index.embeddings)
                    try:
                        res = run_items(items, naive)
                    finally:
                        naive.close()
                else:
                    res = run_items(items, bot, mode=mode, k=s.k)
                rep = build_report(res, {"model": model, "mode": mode, "split": args.split,
                                         "ingest_s": round(ingest_s, 1)})
                print(f"{model} {mode}: {len(res)} items in {time.perf_counter() - t:.0f} s",
                      file=sys.stderr)
                results[f"{model}/{mode}"] = rep
                overall_rows.append([model, mode, str(len(res)),
                                     *(fmt(rep, g, k) for g, k, _ in HEADLINE)])
                rows = [["category", "n", *(h for _, _, h in CATEGORY_COLUMNS)]]
                for cat, m in rep["categories"].items():
                    n_ans = m["abstention"]["n_answerable"]
                    n_una = m["abstention"]["n_unanswerable"]
                    row = [cat, str(n_ans + n_una)]
                    for g, k, _ in CATEGORY_COLUMNS:
                        applies = (n_una if k == "false_answer_rate" else
                                   n_ans + n_una if k == "accuracy" else n_ans)
                        row.append(fmt(m, g, k) if applies else "-")
                    rows.append(row)
                category_blocks.append(f"**{model}, {mode}** ({args.split} part)\n\n"
                                       + markdown(rows))
    print(f"\n### Overall ({args.split} part)\n")
    print(markdown(overall_rows))
    print("\n### By category\n")
    print("\n\n".join(category_blocks))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    for rep in results.values():
        rep.pop("items", None)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nJSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
