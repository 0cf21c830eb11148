"""Evaluation of draft checking on ``corpus/eval/drafts/*.md`` and ``corpus/eval/drafts.jsonl``.

Each line of drafts.jsonl names one draft, its part (``tune``: constants may be chosen on it;
``test``: never looked at while tuning) and every sentence the draft splits into, with the
expected status, the planted error (figure, year, country, negation, invented, wrong-reference)
and, for a contradiction, the two values (draft, document).

| metric                 | definition                                                           |
|------------------------|----------------------------------------------------------------------|
| precision / recall     | per status, over the sentences of the part                           |
| planted_error_recall   | planted errors caught: a content error gets a status other than      |
|                        | supported (invented: not found or contradicted); a wrong reference   |
|                        | gets the expected reference status                                   |
| false_flag_rate        | true claims (expected supported) given another status, or a right    |
|                        | reference marked otherwise                                           |
| contradiction_values   | contradictions found whose compared values include both expected ones|
| reference_accuracy     | expected reference statuses matched                                  |
| quote_verified         | supported claims whose every quote is verbatim in its passage        |
| split_errors           | expected sentences not found by the splitter, or found more than once|
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.check.report import CONTRADICTED, NOT_FOUND, STATUSES, SUPPORTED, ClaimResult
from assistant.errors import InputError
from assistant.evaluation.metrics import save_json
from assistant.text import normalize

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.config import Settings

PARTS = ("tune", "test")
PLANTED = ("figure", "year", "country", "negation", "invented", "wrong-reference")


@dataclass(frozen=True)
class Expected:
    text: str
    status: str
    planted: str | None = None
    values: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class DraftItem:
    path: Path
    part: str
    claims: tuple[Expected, ...]


@dataclass
class Outcome:
    draft: str
    part: str
    expected: Expected
    got: ClaimResult | None
    ms: float = 0.0

    @property
    def status(self) -> str:
        return self.got.status if self.got else "missing"

    def ref_statuses(self) -> list[str]:
        return [r.status for r in self.got.references] if self.got else []

    def caught(self) -> bool:
        e = self.expected
        if e.planted == "wrong-reference":
            return self.ref_statuses() == list(e.refs)
        if e.planted == "invented":
            return self.status in {NOT_FOUND, CONTRADICTED}
        return self.status not in {SUPPORTED, "missing"}

    def values_ok(self) -> bool:
        if not self.got or not self.expected.values:
            return False
        want = [_val(v) for v in self.expected.values]
        pairs = [(_val(c.draft), _val(c.document)) for c in self.got.comparisons]
        return any(want[0] in d and want[1] in doc for d, doc in pairs)

    def row(self) -> dict[str, Any]:
        g = self.got
        return {"draft": self.draft, "part": self.part, "text": self.expected.text,
                "expected": self.expected.status, "got": self.status,
                "planted": self.expected.planted, "values": list(self.expected.values),
                "compared": [c.text() for c in g.comparisons] if g else [],
                "refs_expected": list(self.expected.refs), "refs_got": self.ref_statuses(),
                "quote": g.evidence[0].quote if g and g.evidence else ""}


def _val(v: str) -> str:
    return re.sub(r"[,\s]", "", v.lower())


def load_drafts(path: Path) -> list[DraftItem]:
    """The draft set, or InputError naming the line that is wrong."""
    if not path.is_file():
        raise InputError(f"{path}: draft set not found")
    items: list[DraftItem] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            claims = tuple(
                Expected(c["text"], c["status"], c.get("planted"), tuple(c.get("values", ())),
                         tuple(c.get("refs", ())))
                for c in row["claims"])
            item = DraftItem(path.parent / "drafts" / row["draft"], row["part"], claims)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{i}: not a draft row ({exc})") from exc
        bad = [c.status for c in claims if c.status not in STATUSES]
        bad += [c.planted for c in claims if c.planted and c.planted not in PLANTED]
        if item.part not in PARTS or bad:
            raise InputError(f"{path}:{i}: unknown part or status {bad or item.part}")
        if not item.path.is_file():
            raise InputError(f"{path}:{i}: {item.path} not found")
        items.append(item)
    return items


def match(expected: Expected, claims: list[ClaimResult]) -> list[ClaimResult]:
    want = normalize(expected.text).lower()
    return [c for c in claims if want in normalize(c.text).lower()]


def run(assistant: Assistant, items: list[DraftItem]) -> tuple[list[Outcome], list[str]]:
    from assistant.check.draft import check_draft

    outcomes: list[Outcome] = []
    problems: list[str] = []
    for item in items:
        text = item.path.read_text(encoding="utf-8")
        t = time.perf_counter()
        report = check_draft(assistant, text, source=item.path.name)
        ms = (time.perf_counter() - t) * 1000
        used: set[int] = set()
        for e in item.claims:
            found = match(e, report.claims)
            if len(found) != 1:
                problems.append(f"{item.path.name}: {len(found)} sentences match {e.text!r}")
            got = found[0] if found else None
            if got:
                used.add(got.n)
            outcomes.append(Outcome(item.path.name, item.part, e, got, ms))
        for c in report.claims:
            if c.n not in used:
                problems.append(f"{item.path.name}: sentence not in the set: {c.text[:60]!r}")
    return outcomes, problems


def _share(num: int, den: int) -> float:
    return round(num / den, 3) if den else 0.0


def metrics(outcomes: list[Outcome]) -> dict[str, Any]:
    """The figures of one part."""
    per: dict[str, dict[str, float]] = {}
    for s in STATUSES:
        tp = sum(1 for o in outcomes if o.status == s and o.expected.status == s)
        pred = sum(1 for o in outcomes if o.status == s)
        gold = sum(1 for o in outcomes if o.expected.status == s)
        per[s] = {"precision": _share(tp, pred), "recall": _share(tp, gold), "n": gold}
    planted = [o for o in outcomes if o.expected.planted]
    by_kind = {k: _share(sum(o.caught() for o in planted if o.expected.planted == k),
                         sum(1 for o in planted if o.expected.planted == k))
               for k in PLANTED}
    true_claims = [o for o in outcomes if o.expected.status == SUPPORTED
                   and o.expected.planted != "wrong-reference"]
    flagged = [o for o in true_claims if o.status != SUPPORTED
               or any(r != "right" for r in o.ref_statuses())]
    contra = [o for o in outcomes if o.expected.values and o.status == CONTRADICTED]
    refs = [o for o in outcomes if o.expected.refs]
    supported = [o for o in outcomes if o.status == SUPPORTED and o.got]
    return {
        "n_drafts": len({o.draft for o in outcomes}),
        "n_sentences": len(outcomes),
        "status": per,
        "planted_error_recall": _share(sum(o.caught() for o in planted), len(planted)),
        "n_planted": len(planted),
        "planted_by_kind": by_kind,
        "false_flag_rate": _share(len(flagged), len(true_claims)),
        "n_true_claims": len(true_claims),
        "contradiction_values": _share(sum(o.values_ok() for o in contra), len(contra)),
        "reference_accuracy": _share(sum(o.ref_statuses() == list(o.expected.refs)
                                         for o in refs), len(refs)),
        "n_references": sum(len(o.expected.refs) for o in refs),
        "quote_verified": _share(sum(all(e.verified for e in o.got.evidence) and
                                     bool(o.got.evidence) for o in supported if o.got),
                                 len(supported)),
    }


def format_summary(report: dict[str, Any]) -> str:
    lines = []
    for part in PARTS:
        m = report["parts"].get(part)
        if not m:
            continue
        lines.append(f"{part} part: {m['n_drafts']} drafts, {m['n_sentences']} sentences, "
                     f"{m['n_planted']} planted errors, {m['n_true_claims']} true claims")
        lines.append(f"  planted-error recall   {m['planted_error_recall']:.2f} (target >= 0.90)")
        lines.append(f"  false flags on true    {m['false_flag_rate']:.2f} (target <= 0.10)")
        lines.append(f"  reference accuracy     {m['reference_accuracy']:.2f}")
        lines.append(f"  contradiction values   {m['contradiction_values']:.2f}")
        lines.append(f"  supported quotes verif {m['quote_verified']:.2f} (target 1.00)")
        for s, v in m["status"].items():
            lines.append(f"  {s:<17} precision {v['precision']:.2f} recall {v['recall']:.2f} "
                         f"(n={v['n']:.0f})")
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in m["planted_by_kind"].items())
        lines.append(f"  caught by kind: {kinds}")
    if report["problems"]:
        lines.append(f"{len(report['problems'])} splitting problems (see the JSON report)")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--drafts", action="store_true",
                   help="evaluate draft checking (corpus/eval/drafts.jsonl) instead of Q&A")
    p.add_argument("--drafts-file", metavar="FILE", help="another drafts.jsonl")
    p.add_argument("--part", choices=PARTS, help="only this part of the draft set")


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant eval --drafts``: check every draft, print per-part figures."""
    from assistant.answer import Assistant
    from assistant.errors import IndexError_

    path = Path(args.drafts_file) if getattr(args, "drafts_file", None) else (
        settings.corpus_path / "eval" / "drafts.jsonl")
    items = load_drafts(path)
    if getattr(args, "part", None):
        items = [i for i in items if i.part == args.part]
    assistant = Assistant(settings)
    if assistant.index.count() == 0:
        raise IndexError_("The index is empty; run: assistant ingest")
    outcomes, problems = run(assistant, items)
    report: dict[str, Any] = {
        "drafts_file": str(path),
        "corpus_fingerprint": assistant.fingerprint(),
        "parts": {p: metrics([o for o in outcomes if o.part == p])
                  for p in PARTS if any(o.part == p for o in outcomes)},
        "problems": problems,
        "items": [o.row() for o in outcomes],
    }
    print(format_summary(report))
    if getattr(args, "json", None):
        save_json(report, args.json)
    return 0

