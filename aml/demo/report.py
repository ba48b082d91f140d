"""The demo's outputs: summary.json, and report.html drawn by the report generator (aml_report):
the standard sections over the demo's period, with the demo's labels, dead letters and source
reconciliation, and the demo's own sections (its stages, the daily pipeline run, who the alerts
fall on) through the same section interface."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import plotly.graph_objects as go

from aml.report import data
from aml_report import build, sections
from aml_report.page import Section, Table

KIND_ORDER = {"laundering": 0, "near_miss": 1, "unlabelled": 3}  # the look-alike kinds (2) between


def write_summary(summary: dict, out_dir: Path) -> Path:
    path = out_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str, sort_keys=False))
    return path


def stages_section(summary: dict) -> Section:
    stages = summary.get("stages", {})
    fig = go.Figure(go.Bar(x=list(stages.values()), y=list(stages), orientation="h",
                           marker_color=sections.SERIES[0]))
    fig.update_layout(height=max(200, 26 * len(stages) + 80), xaxis_title="seconds",
                      yaxis={"autorange": "reversed"}, margin={"t": 20})
    return Section("Demo run", "Seconds per stage of `make demo`.",
                   (fig, Table(("stage", "seconds"), tuple(stages.items())),
                    f"Total: {summary.get('total_seconds', 0):g} s."))


def daily_pipeline_section(run: dict) -> Section:
    title = "Daily pipeline (the last day's run)"
    if not run:
        return Section(title, "", ("Not run.",))
    window = run.get("window") or {}
    rows = [("execution", run.get("execution")), ("status", run.get("status")), ("run date", run.get("run_date")),
            ("window", f"{window.get('start_date')} to {window.get('end_date')}"),
            ("new raw files", (run.get("raw") or {}).get("new_files")),
            ("queries (the scenarios, account_profiles and the report's)", run.get("queries")),
            ("HTML report (the Report step's)", (run.get("report") or {}).get("html_report_uri"))]
    loaded = run.get("profiles")
    if loaded:
        rows.append(("profiles (computed / written / unchanged / unusable)",
                     f"{loaded['profiles']} / {loaded['written']} / {loaded['unchanged']} / "
                     f"{sum(loaded['unusable'].values())}"))
    rows.append(("states", " → ".join(dict.fromkeys(run.get("states", [])))))
    return Section(title, "", (Table(("", ""), tuple((k, "" if v is None else v) for k, v in rows)),
                               (run.get("report") or {}).get("summary", "")))


def kind_columns(by_kind: dict[str, dict[str, int]]) -> list[str]:
    """Every label kind seen: laundering, near_miss, the look-alike kinds (sorted), unlabelled."""
    found = {k for counts in by_kind.values() for k in counts}
    return sorted(found, key=lambda k: (KIND_ORDER.get(k, 2), k))


def flagged_by_kind_section(flagged: dict) -> Section:
    """Flagged accounts per scenario (batch) and per rule (real time) by label kind."""
    parts: list = []
    for path, label in (("batch", "Scenario queries"), ("stream", "Real-time rules")):
        by_kind = flagged.get(path, {})
        if not by_kind:
            parts.append(f"{label}: none flagged.")
            continue
        columns, names = kind_columns(by_kind), sorted(by_kind)
        palette = sections.colours(columns)
        fig = go.Figure([go.Bar(name=k, y=names, x=[by_kind[n].get(k, 0) for n in names], orientation="h",
                                marker_color=palette[k]) for k in columns])
        fig.update_layout(barmode="stack", title=label, height=max(240, 24 * len(names) + 120),
                          yaxis={"autorange": "reversed"}, xaxis_title="accounts flagged", margin={"t": 40})
        parts += [fig, Table(("scenario", *columns), tuple((n, *(by_kind[n].get(k, 0) for k in columns))
                                                           for n in names))]
    return Section("Who the alerts fall on: flagged accounts by label kind",
                   "Laundering and near-miss accounts are the injected scenarios'; every other kind is a legitimate "
                   "look-alike of the background (a false positive, and why); unlabelled accounts are plain background.",
                   tuple(parts))


def write_html(summary: dict, data_dir: Path, start: date, end: date, out_dir: Path) -> Path:
    """report.html over the demo's days, from its curated zone and summary."""
    zone = data.gather(start, end, data_dir=data_dir)
    standard = build.standard_sections(zone, summary.get("detection"), query_hits=summary.get("query_hits"),
                                       dead_letters=(summary.get("stream") or {}).get("dead_lettered"),
                                       reconciliation=summary.get("reconciliation"))
    demo = [stages_section(summary), daily_pipeline_section(summary.get("daily_pipeline", {})),
            flagged_by_kind_section(summary.get("flagged_by_kind", {}))]
    return build.write(out_dir / "report.html", zone, [demo[0], *standard[:3], demo[2], standard[3], demo[1]],
                       title="AML monitoring demo", description=summary.get("description", ""))
