"""The evaluation report as one self-contained HTML page (inline CSS and SVG, no scripts).

Everything that comes from data (questions, answers, quotes, paths) is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import GROUP_TITLES, METRICS, MetricDef, category_rows

CHART_KEYS = ("hit_at_1", "hit_at_5", "mrr", "context_recall", "fact_recall", "exact_all_facts",
              "precision@citations", "quote_verified", "accuracy")

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
tr.group td{background:#eef2f6;font-weight:600}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.meta td:first-child{width:12rem;color:#57606a}
.answer{white-space:pre-wrap;max-width:30rem}.quote{color:#57606a;font-size:.9em}
.cite{margin:.2rem 0}.small{font-size:.85em;color:#57606a}
tr.bad td:first-child{border-left:4px solid #cf222e}
tr.good td:first-child{border-left:4px solid #1a7f37}
.wide{overflow-x:auto}.wide table{min-width:68rem}.answer{min-width:20rem}
.answer,.quote{overflow-wrap:break-word}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _metric_key(m: MetricDef) -> str:
    return f"{m.key}@{m.group}" if m.key == "precision" else m.key


def _summary(report: dict[str, Any]) -> str:
    base = report.get("baseline")
    head = "<tr><th>What is measured</th><th>Ours</th>"
    head += "<th>Naive baseline</th><th>Difference</th>" if base else ""
    head += "<th>Target</th><th>Result</th></tr>"
    rows = [head]
    group = ""
    span = 6 if base else 4
    for m in METRICS:
        if m.group not in report:
            continue
        if m.group != group:
            group = m.group
            rows.append(f'<tr class="group"><td colspan="{span}">'
                        f"{_e(GROUP_TITLES.get(group, group))}</td></tr>")
        ours = float(report[m.group][m.key])
        cells = [f"<td>{_e(m.plain)} <span class=small>({_e(m.short)})</span></td>",
                 f'<td class="num">{_e(m.fmt(ours))}</td>']
        if base:
            theirs = float(base[m.group][m.key])
            cells.append(f'<td class="num">{_e(m.fmt(theirs))}</td>')
            cells.append(f'<td class="num">{_e(m.fmt_gap(ours - theirs))}</td>')
        ok = m.passes(ours)
        target = m.fmt_target().replace(">=", "\u2265").replace("<=", "\u2264")
        cells.append(f'<td class="num">{_e(target)}</td>')
        verdict = "" if ok is None else (
            '<span class="pass">pass</span>' if ok else '<span class="fail">fail</span>')
        cells.append(f"<td>{verdict}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def _chart(report: dict[str, Any]) -> str:
    """Horizontal bars (0 to 1) of the main metrics, ours and the baseline's."""
    base = report.get("baseline")
    metrics = [m for m in METRICS if _metric_key(m) in CHART_KEYS and m.group in report]
    label_w, bar_w, bar_h = 230, 420, 14
    per = bar_h * (2 if base else 1) + 12
    height = per * len(metrics) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" '
             f'height="{height}" role="img" aria-label="Main metrics, 0 to 100 percent" '
             'font-family="sans-serif" font-size="12">']
    for i, m in enumerate(metrics):
        y = 10 + i * per
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 2}" text-anchor="end">'
                     f"{_e(m.short)}</text>")
        series = [("ours", float(report[m.group][m.key]), "#0969da")]
        if base:
            series.append(("naive", float(base[m.group][m.key]), "#8c959f"))
        for j, (name, value, colour) in enumerate(series):
            w = max(0.0, min(1.0, value)) * bar_w
            yy = y + j * bar_h
            parts.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{colour}"><title>{_e(name)}: {_e(m.fmt(value))}</title></rect>')
            # the value in a column of its own, right of the bars: written after the bar it
            # was overprinted by the target's line (a tester's trial)
            parts.append(f'<text x="{label_w + bar_w + 6}" y="{yy + bar_h - 3}">'
                         f"{_e(m.fmt(value))}</text>")
        if m.target is not None:
            x = label_w + m.target * bar_w
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + per - 10}" '
                         'stroke="#cf222e" stroke-width="2" stroke-dasharray="3,2"/>')
    ly = height - 14
    parts.append(f'<rect x="{label_w}" y="{ly - 9}" width="10" height="10" fill="#0969da"/>'
                 f'<text x="{label_w + 14}" y="{ly}">ours</text>')
    if base:
        parts.append(f'<rect x="{label_w + 60}" y="{ly - 9}" width="10" height="10" '
                     f'fill="#8c959f"/><text x="{label_w + 74}" y="{ly}">naive baseline</text>')
    parts.append(f'<line x1="{label_w + 190}" x2="{label_w + 190}" y1="{ly - 10}" y2="{ly}" '
                 f'stroke="#cf222e" stroke-width="2" stroke-dasharray="3,2"/>'
                 f'<text x="{label_w + 196}" y="{ly}">target</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _pr_chart(report: dict[str, Any]) -> str:
    """Precision and recall of ``answer`` against the threshold; the chosen one marked."""
    curve = report.get("pr_curve") or {}
    points = curve.get("points") or []
    if not points:
        return "<p class=small>No answer probabilities in this run (not the extractive mode).</p>"
    left, top, w, h = 50, 10, 460, 220
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + w + 150}" '
             f'height="{top + h + 45}" role="img" aria-label="Precision and recall of answers '
             'against the threshold" font-family="sans-serif" font-size="12">',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" '
             'stroke="#d0d7de"/>']
    for v in (0.0, 0.5, 1.0):
        y = top + h - v * h
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        x = left + v * w
        parts.append(f'<text x="{x:.1f}" y="{top + h + 16}" text-anchor="middle">{v:.1f}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{top + h + 34}" text-anchor="middle">'
                 "threshold on the answer probability</text>")
    for key, colour in (("precision", "#0969da"), ("recall", "#1a7f37")):
        pts = " ".join(f"{left + p['threshold'] * w:.1f},{top + h - p[key] * h:.1f}"
                       for p in points)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
    chosen = curve.get("threshold")
    if chosen is not None:
        x = left + float(chosen) * w
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + h}" '
                     'stroke="#cf222e" stroke-width="2" stroke-dasharray="4,3"/>'
                     f'<text x="{x + 4:.1f}" y="{top + 12}">chosen {float(chosen):.2f}</text>')
    lx = left + w + 12
    parts.append(f'<rect x="{lx}" y="{top + 4}" width="10" height="10" fill="#0969da"/>'
                 f'<text x="{lx + 14}" y="{top + 13}">precision</text>'
                 f'<rect x="{lx}" y="{top + 22}" width="10" height="10" fill="#1a7f37"/>'
                 f'<text x="{lx + 14}" y="{top + 31}">recall</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _status(row: dict[str, Any]) -> tuple[int, str]:
    """Sort order (failures first) and a plain-words verdict for one item."""
    if not row.get("correct"):
        if row.get("answerable"):
            if not row.get("abstained"):
                return 0, "answered, but most expected facts are missing"
            return 0, ("no answer, although the documents answer it" if row.get("outcome") == "none"
                       else "shown as evidence (not answered), although the documents answer it")
        return 0, "answered, although the documents have no answer"
    if row.get("missed_facts"):
        return 1, "right, but some facts are missing"
    return 2, "right" if row.get("answerable") else "correctly declined"


def _items(rows: list[dict[str, Any]]) -> str:
    out = ['<div class="wide"><table><tr><th>Result</th><th>Question</th><th>Answer</th>'
           "<th>Citations</th><th>Missed facts</th><th>Rank of first right passage</th>"
           "<th>Time</th></tr>"]
    for row in sorted(rows, key=lambda r: (_status(r)[0], str(r.get("id")))):
        order, verdict = _status(row)
        cites = "".join(
            f'<div class="cite">[{_e(c.get("n"))}] {_e(c.get("doc_id"))}'
            f'{", " + _e(c.get("section")) if c.get("section") else ""}'
            f'{"" if c.get("verified") else " <span class=fail>(quote not verified)</span>"}'
            f'<div class="quote">\u201c{_e(c.get("quote"))}\u201d</div></div>'
            for c in row.get("citations", [])
        )
        missed = "<br>".join(
            " / ".join(_e(a) for a in fact) for fact in row.get("missed_facts", [])
        )
        rank = row.get("hit_rank")
        rank_txt = "-" if not row.get("answerable") else ("not found" if rank is None else rank)
        klass = "bad" if order == 0 else "good"
        out.append(
            f'<tr class="{klass}"><td>{_e(verdict)}</td>'
            f'<td><span class="small">{_e(row.get("id"))}</span><br>{_e(row.get("question"))}</td>'
            f'<td class="answer">{_e(row.get("answer"))}</td><td>{cites}</td><td>{missed}</td>'
            f'<td class="num">{_e(rank_txt)}</td><td class="num">{_e(row.get("ms"))} ms</td></tr>'
        )
    out.append("</table></div>")
    return "\n".join(out)


def _categories(report: dict[str, Any]) -> str:
    """One row per category (the terminal's table), so that a gain in one kind of question
    cannot hide a loss in another."""
    rows = category_rows(report)
    if len(rows) < 2:
        return "<p>No categories in this set.</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in rows[0])
    body = "".join(
        f"<tr><td>{_e(r[0])}</td>" + "".join(f'<td class="num">{_e(v)}</td>' for v in r[1:])
        + "</tr>" for r in rows[1:])
    return (f"<table><tr>{head}</tr>{body}</table><p class=small>\u201c-\u201d: the figure "
            "does not apply (retrieval and fact recall for questions without an answer, false "
            "answers for questions with one).</p>")


def _meta(report: dict[str, Any]) -> str:
    meta = report.get("meta", {})
    files = meta.get("qa_files") or meta.get("qa_file")
    counts = meta.get("qa_counts") or {}
    sets = ("; ".join(f"{f} ({counts[f]})" if f in counts else f for f in files)
            if isinstance(files, list) else files)
    rows = [("Q&A set", sets), ("Part", meta.get("split")), ("Questions", meta.get("n_items")),
            ("Answer mode", meta.get("mode")), ("Passages per answer (k)", meta.get("k")),
            ("Index fingerprint", meta.get("corpus_fingerprint")), ("Run at", meta.get("date"))]
    base = report.get("baseline")
    if base:
        rows.append(("Baseline", base.get("meta", {}).get("pipeline", "naive")))
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="meta">{body}</table>'


def render_html(report: dict[str, Any]) -> str:
    """The report page as a string."""
    items = report.get("items", [])
    n_bad = sum(1 for r in items if not r.get("correct"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Evaluation report: Micro-GEAR assistant</title>"
        f"<style>{_CSS}</style></head><body>\n"
        "<h1>Evaluation report: Micro-GEAR assistant</h1>\n"
        "<p>The assistant answered a set of known questions about the Micro-GEAR documents; "
        "each answer was checked against the facts and source quotes it should contain. "
        "Some questions have no answer in the documents: there, the right behaviour is to say "
        "so.</p>\n"
        f"{_meta(report)}\n<h2>Summary</h2>\n{_summary(report)}\n"
        f"<h2>By category</h2>\n{_categories(report)}\n"
        f"<h2>Main figures at a glance</h2>\n{_chart(report)}\n"
        "<h2>Answers against the threshold</h2>\n<p>An item is answered when its best quoted "
        "span's probability reaches the threshold; precision is the share of those answers "
        "that hold the expected facts, recall the share of answerable questions answered "
        "so.</p>\n"
        f"{_pr_chart(report)}\n"
        f"<h2>Every question ({len(items)}, {n_bad} not handled correctly, listed first)</h2>\n"
        f"{_items(items)}\n</body></html>\n"
    )


def write_html(report: dict[str, Any], path: Path) -> None:
    """Write the report page to ``path`` (folders created as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
