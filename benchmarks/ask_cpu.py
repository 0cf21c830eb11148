"""CPU of one chat-page request, in process: the Ask handler and the handler that follows it.

    python benchmarks/ask_cpu.py [--n 200] [--turns 10] [--profile OUT.prof]

Calls the page's own handlers (``make_ask`` and ``make_exports`` of ``web/chat_tab.py``) as
gradio calls them for one user, over the tune questions of the bundled Q&A sets, a new
conversation every --turns questions, after one warm-up pass. Prints the median and p90 of
``time.process_time`` per request (all threads of this process) and the load average. Each
question's vector is memoised in the warm-up pass unless --live-embedding: the query embedding
is C code that releases the GIL, and under load its CPU time swamps the Python work measured.
The page's web stack (gradio's pre- and post-processing, the event stream) is not included:
``benchmarks/load.py`` measures the whole page.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any


def tune_questions(settings: Any) -> list[str]:
    from assistant.evaluation.qa import load_qa, select_split
    from assistant.evaluation.run import DEFAULT_SETS

    folder = settings.corpus_path / "eval"
    items = [it for name in DEFAULT_SETS if (folder / name).exists()
             for it in load_qa(folder / name, settings)]
    return [it.question for it in select_split(items, "tune")]


def memo_queries(embeddings: Any) -> None:
    """Each question's vector computed once (the warm-up pass), then read from a dict."""
    embed = embeddings.embed_query
    seen: dict[str, list[float]] = {}

    def embed_query(text: str) -> list[float]:
        if text not in seen:
            seen[text] = embed(text)
        return seen[text]

    embeddings.embed_query = embed_query


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="timed requests")
    ap.add_argument("--turns", type=int, default=10, help="questions per conversation")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the timed requests here")
    ap.add_argument("--live-embedding", action="store_true",
                    help="embed every question again (default: each question's vector is "
                         "memoised in the warm-up pass, so the figure is the Python work that "
                         "holds the GIL, not the embedding's C code that runs beside it)")
    args = ap.parse_args()

    import tempfile
    import threading

    import torch

    torch.set_num_threads(args.threads)
    from assistant.answer import Assistant
    from assistant.config import get_settings
    from assistant.web.chat_tab import make_ask, make_exports
    from assistant.web.common import Page, llm_unavailable, new_state

    settings = get_settings(torch_threads=args.threads)
    ready = threading.Event()
    ready.set()
    page = Page(settings, Assistant(settings), ready, llm_unavailable(settings),
                Path(tempfile.mkdtemp(prefix="ask-cpu-")))
    page.refresh_catalog()
    ask, exports = make_ask(page), make_exports(page)
    if not args.live_embedding:
        memo_queries(page.bot.index.embeddings)
    questions = tune_questions(settings)

    def run(n: int, times: list[float] | None = None) -> None:
        state: dict[str, Any] = new_state()
        for i in range(n):
            if i % args.turns == 0:
                state = new_state()
            q = questions[i % len(questions)]
            t = time.process_time()
            for out in ask(q, [], [], "extractive", state):
                state = out[2]
            exports(state)
            if times is not None:
                times.append((time.process_time() - t) * 1000)

    run(len(questions))  # warm-up: model, index, lexicon, caches of every question
    load = Path("/proc/loadavg").read_text().split()[:3]
    times: list[float] = []
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        run(args.n, times)
        prof.disable()
        prof.dump_stats(args.profile)
    else:
        run(args.n, times)
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(f"{args.n} requests ({len(questions)} tune questions, {args.turns} per conversation): "
          f"CPU per request median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms, "
          f"mean {statistics.fmean(times):.1f} ms; load before {' '.join(load)}, after "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
