"""Write questions for every passage of an index with the local model (doc2query), cached.

    ASSISTANT_LLM_GGUF_PATH=/path/qwen.gguf python scripts/doc2query.py            # bundled index
    ASSISTANT_LLM_GGUF_PATH=... python scripts/doc2query.py --index /other/index   # another one
    ASSISTANT_LLM_GGUF_PATH=... python scripts/doc2query.py --time 3               # time 3 passages

For each passage the model (greedy decoding, bounded reply) is asked for ``--n`` short questions a
policymaker might ask that the passage answers (prompts/doc2query.md). The parsed questions and
the raw reply are appended to corpus/doc2query/questions.jsonl, one line per passage text, keyed
by the sha256 of the text (so the cache survives a re-ingest and identical passages share it),
with the doc id, the model file's sha256 and the prompt version. A run is resumable: texts
already in the cache are skipped; passages are taken in the order of their keys (a fixed
shuffle), so a stopped run leaves a fair sample of every document. Without a local model
(ASSISTANT_LLM_GGUF_PATH) nothing is written, with a note.

Retrieval does not read the cache: both uses of the questions (words added to a passage's BM25
document; a ranker feature, the best cosine between the question and a passage's generated
questions) were measured on the tune part and did not win (docs/notes-d2q.md), nor did
training the ranker on them (scripts/train_ranker.py --doc2query; docs/notes-d2qrank.md). Uploaded
documents get questions only when this script is run on the index that holds them (``--index``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant  # noqa: E402,F401  (offline settings)
from assistant.config import Settings  # noqa: E402
from assistant.documents.manifest import file_sha256  # noqa: E402
from assistant.prompts import Prompt, load_prompt  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.types import Passage  # noqa: E402

MAX_QUESTION_CHARS = 200
_SPLIT = re.compile(r"(?<=\?)\s+(?=\S)")  # two questions on one line
_LEAD = re.compile(r"^\s*(?:[-*\u2022]+|\(?\d{1,2}[.):]|Q\d*[.:]|Question\s*\d*[.:])\s*", re.I)


def text_key(text: str) -> str:
    """The cache key of a passage: the sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(settings: Settings) -> Path:
    return settings.corpus_path / "doc2query" / "questions.jsonl"


def parse_questions(reply: str, n: int) -> list[str]:
    """At most ``n`` distinct questions from a model's reply: one per line (or several on a
    line, each ending in a question mark), numbering and bullets removed, kept only when it
    ends with a question mark and is not overly long."""
    out: list[str] = []
    for part in (p for line in reply.splitlines() for p in _SPLIT.split(line.strip())):
        q = _LEAD.sub("", part.strip()).strip().strip('"').strip()
        if not q.endswith("?") or len(q) < 8 or len(q) > MAX_QUESTION_CHARS:
            continue
        if q.lower() not in {o.lower() for o in out}:
            out.append(q)
        if len(out) == n:
            break
    return out


@dataclass(frozen=True)
class Entry:
    """One cache line: the questions written for one passage text."""

    key: str
    doc_id: str
    questions: tuple[str, ...]
    model_sha256: str
    prompt_version: str
    reply: str = ""  # the model's reply as written (to parse again without the model)

    def to_json(self) -> str:
        return json.dumps({"key": self.key, "doc_id": self.doc_id,
                           "questions": list(self.questions), "model_sha256": self.model_sha256,
                           "prompt_version": self.prompt_version, "reply": self.reply},
                          ensure_ascii=False)


def load(path: Path) -> dict[str, Entry]:
    """Every entry of the cache file by key (the last line wins; a torn last line is skipped)."""
    out: dict[str, Entry] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            entry = Entry(d["key"], d.get("doc_id", ""), tuple(d["questions"]),
                          d.get("model_sha256", ""), d.get("prompt_version", ""),
                          d.get("reply", ""))
        except (ValueError, KeyError, TypeError):
            continue
        out[entry.key] = entry
    return out


def append(path: Path, entries: Iterable[Entry]) -> None:
    """Append entries to the cache file (one line each, flushed, so a stopped run loses none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as fh:
        if torn:  # a run stopped mid-line: the next entry starts on a line of its own
            fh.write("\n")
        for entry in entries:
            fh.write(entry.to_json() + "\n")
            fh.flush()


MAX_TOKENS = 100  # three short questions take about 45 tokens
N_CTX = 1024  # an 800-character passage and the prompt take about 300 tokens


def local_writer(settings: Settings) -> Callable[[str], str]:
    """The configured GGUF model as a function from prompt to reply (greedy, bounded)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    from llama_cpp import Llama

    llm = Llama(model_path=str(settings.llm_gguf_path), n_threads=settings.llm_threads,
                n_ctx=N_CTX, n_batch=256, verbose=False)

    def write(prompt: str) -> str:
        out: Any = llm.create_chat_completion(
            messages=[{"role": "user", "content": prompt}], max_tokens=MAX_TOKENS,
            temperature=0.0, top_k=1)
        return str(out["choices"][0]["message"]["content"])

    return write


def todo(passages: Sequence[Passage], done: set[str]) -> list[Passage]:
    """The passages whose text has no questions cached yet, each text once, in the order of their
    keys (a fixed shuffle: a run stopped half way leaves a fair sample of every document)."""
    out: dict[str, Passage] = {}
    for p in passages:
        key = text_key(p.text)
        if key not in done:
            out.setdefault(key, p)
    return [out[k] for k in sorted(out)]


def generate(passages: Sequence[Passage], write: Callable[[str], str], prompt: Prompt, n: int,
             cache: Path, model_sha256: str, log: Callable[[str], None] = print) -> list[float]:
    """Write, parse and append the questions of each passage not yet cached; seconds each."""
    seconds: list[float] = []
    pending = todo(passages, set(load(cache)))
    for i, p in enumerate(pending, 1):
        t = time.perf_counter()
        reply = write(prompt.format(passage=p.text, n=str(n)))
        questions = parse_questions(reply, n)
        seconds.append(time.perf_counter() - t)
        append(cache, [Entry(
            text_key(p.text), p.doc_id, tuple(questions), model_sha256,
            prompt.version, reply)])
        log(f"{i}/{len(pending)} {p.doc_id} {seconds[-1]:.1f}s {len(questions)}q "
            f"load {os.getloadavg()[0]:.1f}: {' | '.join(questions) or repr(reply[:120])}")
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, help="the index folder (default: the settings' one)")
    ap.add_argument("--n", type=int, default=2,
                    help="questions per passage (default 2: 3 took too long on 2 cores)")
    ap.add_argument("--time", type=int, default=0, metavar="N",
                    help="only time N passages not yet cached and project the whole index")
    args = ap.parse_args()
    settings = Settings(index_dir=args.index) if args.index else Settings()
    if not settings.llm_gguf_path:
        print("no local model configured (ASSISTANT_LLM_GGUF_PATH): no questions written; the "
              "retriever works without them")
        return 0
    prompt = load_prompt(settings.prompts_path, "doc2query", ("passage", "n"))
    passages = Index(settings).passages()
    cache = cache_path(settings)
    pending = todo(passages, set(load(cache)))
    print(f"{len(passages)} passages, {len(pending)} texts without questions in {cache}",
          flush=True)
    model_sha = file_sha256(settings.llm_gguf_path)
    write = local_writer(settings)
    chosen = pending[: args.time] if args.time else pending
    seconds = generate(chosen, write, prompt, args.n, cache, model_sha,
                       lambda s: print(s, flush=True))
    if seconds:
        per = statistics.mean(seconds)
        print(f"{per:.1f} s per passage (mean of {len(seconds)}, median "
              f"{statistics.median(seconds):.1f}); about {per * len(pending) / 60:.0f} min for "
              f"the {len(pending)} passages without questions; load average "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
