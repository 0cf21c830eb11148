"""Split the known Q&A set into a tuning part and a test part, once, reproducibly.

Stratified by country (Armenia, Georgia, both, none), answerable or not, and question type
(how many / when / who / which / what / other). Within a stratum the items are ordered by a
hash of their id and dealt alternately, so the split does not depend on file order and nobody
chose which item goes where. The result is written back as a "split" field on each line.

    python scripts/split_known.py corpus/eval/known_qa.jsonl
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path


def stratum(item: dict) -> tuple[str, bool, str]:
    docs = {s["doc"] for s in item["sources"]}
    country = ("both" if len(docs) > 1 else next(iter(docs), "none")).replace("d11-", "")
    q = item["question"].lower()
    qtype = next((t for t, rx in (("count", r"\bhow (many|much)\b|\bnumber of\b"),
                                  ("date", r"\bwhen\b|\bwhat year\b|\bwhich year\b|\bdate\b"),
                                  ("who", r"\bwho\b"), ("which", r"\bwhich\b"),
                                  ("what", r"\bwhat\b")) if re.search(rx, q)), "other")
    return country, bool(item["answerable"]), qtype


def main(path: Path) -> None:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    groups: dict[tuple[str, bool, str], list[dict]] = defaultdict(list)
    for it in items:
        groups[stratum(it)].append(it)
    turn = 0  # carried across strata, so odd-sized strata do not all lean one way
    for key in sorted(groups, key=str):
        for it in sorted(groups[key], key=lambda i: hashlib.sha256(i["id"].encode()).hexdigest()):
            it["split"] = "tune" if turn % 2 == 0 else "test"
            turn += 1
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items),
                    encoding="utf-8")
    n_test = sum(it["split"] == "test" for it in items)
    print(f"{len(items)} items: {len(items) - n_test} tune, {n_test} test")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
