"""The demo's outputs: summary.json and a small self-contained HTML report (inline SVG charts,
no scripts or external assets, so it opens anywhere and can be archived as is)."""
from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path

BAR_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939")


def write_summary(summary: dict, out_dir: Path) -> Path:
    path = out_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str, sort_keys=False))
    return path


def _hbar_chart(rows: list[tuple[str, float]], title: str, width: int = 640) -> str:
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p>none</p>"
    label_w, bar_h = 220, 20
    top = max(v for _, v in rows) or 1
    height = bar_h * len(rows) + 10
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}">']
    for i, (label, value) in enumerate(rows):
        y = i * bar_h + 5
        w = (width - label_w - 60) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{html.escape(str(label))}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" fill="{BAR_COLOURS[0]}"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{value:g}</text>')
    parts.append("</svg>")
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def _stacked_by_day(counts: dict[str, dict[str, int]], title: str, width: int = 760) -> str:
    """Alerts per rule per day: one stacked column per day, a colour per rule."""
    days = sorted({d for per_rule in counts.values() for d in per_rule})
    rules = sorted(counts)
    if not days:
        return f"<h3>{html.escape(title)}</h3><p>no alerts</p>"
    totals = [sum(counts[r].get(d, 0) for r in rules) for d in days]
    chart_h, left = 200, 40
    col_w = max(8, (width - left - 10) // len(days))
    top = max(totals) or 1
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{left + col_w * len(days) + 10}" '
             f'height="{chart_h + 60}">', f'<text x="0" y="12">{top}</text>']
    for i, day in enumerate(days):
        y = chart_h
        for j, rule in enumerate(rules):
            n = counts[rule].get(day, 0)
            if not n:
                continue
            h = chart_h * n / top
            y -= h
            parts.append(f'<rect x="{left + i * col_w}" y="{y:.1f}" width="{col_w - 2}" height="{h:.1f}" '
                         f'fill="{BAR_COLOURS[j % len(BAR_COLOURS)]}"><title>{html.escape(rule)} {day}: {n}</title></rect>')
        if i % max(1, len(days) // 8) == 0:
            parts.append(f'<text x="{left + i * col_w}" y="{chart_h + 14}" font-size="10">{day}</text>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{BAR_COLOURS[j % len(BAR_COLOURS)]}">&#9632; {html.escape(r)}</span>'
                      for j, r in enumerate(rules))
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts) + f"<p>{legend}</p>"


def _pct(value: float | None) -> str:
    """A share as a percentage; n/a where the scenario has no labelled instances to score."""
    return "n/a" if value is None else f"{value:.0%}"


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kinds_table(by_kind: dict[str, dict[str, int]]) -> str:
    """Flagged accounts per scenario by label kind: one column per kind seen anywhere."""
    if not by_kind:
        return "<p>none</p>"
    columns: list[str] = []
    for counts in by_kind.values():
        columns += [k for k in counts if k not in columns]
    order = {"laundering": 0, "near_miss": 1, "unlabelled": 3}
    columns.sort(key=lambda k: (order.get(k, 2), k))
    return _table(["scenario", *columns], [[name, *(counts.get(k, 0) for k in columns)]
                                           for name, counts in sorted(by_kind.items())])


def _daily_pipeline(run: dict) -> str:
    if not run:
        return "<p>not run</p>"
    rows = [["execution", run.get("execution")], ["status", run.get("status")], ["run date", run.get("run_date")],
            ["window", f"{(run.get('window') or {}).get('start_date')} to {(run.get('window') or {}).get('end_date')}"],
            ["new raw files", (run.get("raw") or {}).get("new_files")],
            ["queries (the scenarios and account_profiles)", run.get("queries")]]
    loaded = run.get("profiles")
    if loaded:
        rows.append(["profiles (computed / written / unchanged / unusable)",
                     f"{loaded['profiles']} / {loaded['written']} / {loaded['unchanged']} / "
                     f"{sum(loaded['unusable'].values())}"])
    rows.append(["states", " → ".join(dict.fromkeys(run.get("states", [])))])
    summary = (run.get("report") or {}).get("summary", "")
    return _table(["", ""], rows) + f"<p>{html.escape(summary)}</p>"


def _by_source(found: dict) -> str:
    columns = ["alerts", "realtime_only", "batch_only", "merged"]
    rows = [[rule, *(counts.get(c, 0) for c in columns)] for rule, counts in sorted(found.get("per_rule", {}).items())]
    rows.append(["all", *(found.get("totals", {}).get(c, 0) for c in columns)])
    return _table(["rule", "alerts", "real time only", "batch only", "merged"], rows)


def write_html(summary: dict, alerts_by_rule_day: dict[str, dict[str, int]],
               top_accounts: list[tuple[str, int]], out_dir: Path) -> Path:
    """The report names every rule and every scenario, even those with nothing to show."""
    stages = summary.get("stages", {})
    zones = summary.get("rows_per_zone", {})
    detection = summary.get("detection", {})
    alerts = summary.get("alerts_per_rule", {})
    hits = summary.get("query_hits", {})
    per_rule_day = defaultdict(dict, alerts_by_rule_day)
    for rule in alerts:
        per_rule_day.setdefault(rule, {})
    sections = [
        "<h1>AML monitoring demo</h1>",
        f"<p>{html.escape(summary.get('description', ''))}</p>",
        "<h2>Pipeline</h2>",
        _table(["stage", "seconds"], [[k, v] for k, v in stages.items()]),
        "<h2>Rows per zone</h2>",
        _table(["zone / table", "rows"], [[k, v] for k, v in zones.items()]),
        "<h2>Daily pipeline</h2>",
        _daily_pipeline(summary.get("daily_pipeline", {})),
        "<h2>One alert queue: alerts by source</h2>",
        "<p>Real time: the rules Lambda. Batch: the daily pipeline's scenario queries. Merged: an alert both "
        "paths found (same subject and scenario, overlapping windows; docs/daily-pipeline.md).</p>",
        _by_source(summary.get("alerts_by_source", {})),
        "<h2>Real-time alerts per rule</h2>",
        _table(["rule", "alerts"], [[k, v] for k, v in sorted(alerts.items())]),
        _stacked_by_day(per_rule_day, "Alerts per rule per day (event time)"),
        "<h2>Scenario queries (local engine)</h2>",
        _table(["scenario", "rows flagged", "recall", "precision"],
               [[k, v, _pct(detection.get(k, {}).get("recall")),
                 _pct(detection.get(k, {}).get("precision"))] for k, v in sorted(hits.items())]),
        "<h2>Who the alerts fall on: flagged accounts by label kind</h2>",
        "<p>Laundering and near-miss accounts are the injected scenarios'; every other column is a kind of "
        "legitimate look-alike of the background (a false positive, and why); unlabelled accounts are plain "
        "background.</p>",
        "<h3>Scenario queries</h3>",
        _kinds_table(summary.get("flagged_by_kind", {}).get("batch", {})),
        "<h3>Real-time rules</h3>",
        _kinds_table(summary.get("flagged_by_kind", {}).get("stream", {})),
        _hbar_chart(top_accounts, "Top accounts by risk score (pseudonyms; weights of the distinct scenarios hit)"),
    ]
    style = ("body{font-family:sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}svg text{font-size:11px}")
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>AML demo report</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
    path = out_dir / "report.html"
    path.write_text(page)
    return path
