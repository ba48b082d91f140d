"""The sections every report shows, each built from small inputs (frames of the report queries'
and the named queries' columns, the run manifests' dicts), so each can be checked on hand-made data."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aml.report.page import Section, Table
from aml_contract import names

REALTIME, BATCH = names.ALERT_SOURCES
# An alert's sources (the report query's comma-joined, sorted list) -> the queue's three kinds
# (aml/demo/alert_sources.py counts the same way).
SOURCE_KINDS = {REALTIME: "real time", BATCH: "batch", f"{BATCH},{REALTIME}": "merged"}
KIND_ORDER = ("real time", "batch", "merged")
PALETTE = px.colors.qualitative.Alphabet  # one colour per rule (26, for the 19 rules and more)
SERIES = ("#1f77b4", "#ff7f0e")  # the charts of one or two series
CHART_HEIGHT = 360


def source_kind(sources: str) -> str:
    """'realtime' -> real time, 'batch' -> batch, both -> merged (one alert found by both paths)."""
    key = ",".join(sorted(s.strip() for s in sources.split(",") if s.strip()))
    if key not in SOURCE_KINDS:
        raise ValueError(f"unknown alert sources {sources!r}")
    return SOURCE_KINDS[key]


def colours(keys: list[str]) -> dict[str, str]:
    """One colour per key, stable for a sorted list (a rule keeps its colour in every chart)."""
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(keys))}


def alerts_by_rule_and_kind(frame: pd.DataFrame, rule_ids: tuple[str, ...] = ()) -> pd.DataFrame:
    """Alerts per rule (rows; `rule_ids` listed even without an alert) by kind (columns real time,
    batch, merged, all), from rows of (dt, rule_id, sources, alerts)."""
    kinds = frame.assign(kind=frame["sources"].map(source_kind))
    table = kinds.pivot_table(index="rule_id", columns="kind", values="alerts", aggfunc="sum", fill_value=0)
    table = table.reindex(index=sorted(set(table.index) | set(rule_ids)), columns=list(KIND_ORDER), fill_value=0)
    table = table.astype(int)
    table["all"] = table.sum(axis=1)
    return table.sort_index()


def alerts(frame: pd.DataFrame, rule_ids: tuple[str, ...] = ()) -> Section:
    """Alerts per rule per day, one chart row per kind (real time, batch, merged), a colour per rule;
    the table lists `rule_ids` too (a rule that raised nothing shows 0)."""
    title, intro = "Alerts per rule per day, by source", (
        "One alert queue: real time is the rules Lambda's, batch the daily pipeline's scenario queries', merged an "
        "alert both found (same subject and scenario, overlapping windows: docs/daily-pipeline.md). Day: the "
        "alert's partition (its event time).")
    if frame.empty:
        return Section(title, intro, ("No alert in the period.",))
    data = frame.assign(kind=frame["sources"].map(source_kind), dt=frame["dt"].astype(str))
    shown = [k for k in KIND_ORDER if (data["kind"] == k).any()]
    palette = colours(list(data["rule_id"].unique()))
    fig = make_subplots(rows=len(shown), cols=1, shared_xaxes=True, subplot_titles=shown, vertical_spacing=0.08)
    in_legend: set[str] = set()
    for row, kind in enumerate(shown, start=1):
        part = data[data["kind"] == kind].groupby(["rule_id", "dt"], as_index=False)["alerts"].sum()
        for rule, per_day in part.groupby("rule_id"):
            fig.add_trace(go.Bar(x=per_day["dt"], y=per_day["alerts"], name=rule, legendgroup=rule,
                                 marker_color=palette[rule], showlegend=rule not in in_legend), row=row, col=1)
            in_legend.add(rule)
    fig.update_layout(barmode="stack", height=max(CHART_HEIGHT, 240 * len(shown)), margin={"t": 40})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=sorted(data["dt"].unique()))
    table = alerts_by_rule_and_kind(frame, rule_ids)
    rows = [(rule, *(int(v) for v in values)) for rule, values in zip(table.index, table.to_numpy(), strict=True)]
    rows.append(("all", *(int(v) for v in table.sum().to_numpy())))
    return Section(title, intro, (fig, Table(("rule", *KIND_ORDER, "all"), tuple(rows))))


def top_subjects(frame: pd.DataFrame, n: int = 15) -> Section:
    """The first n rows of customer_risk_summary (queue order): risk score per account."""
    title, intro = "Top subjects by risk score", (
        "customer_risk_summary over the period: an account's risk score is the sum of the weights of the distinct "
        "scenarios it hit (aml_contract/risk.py); in queue: within the alert budget. Accounts are pseudonyms, "
        "shortened to 12 characters.")
    if frame.empty:
        return Section(title, intro, ("No account was alerted in the period.",))
    top = frame.head(n).assign(account=lambda f: f["subject_account_pid"].str[:12])
    fig = go.Figure(go.Bar(x=top["risk_score"], y=top["account"], orientation="h", marker_color=SERIES[0],
                           customdata=top[["scenarios", "alert_count"]],
                           hovertemplate="%{y}: %{x}<br>%{customdata[0]}<br>%{customdata[1]} alerts<extra></extra>"))
    fig.update_layout(height=max(CHART_HEIGHT, 26 * len(top) + 80), yaxis={"autorange": "reversed"},
                      xaxis_title="risk score", margin={"t": 20})
    rows = tuple((int(r.risk_rank), r.account, int(r.risk_score), r.scenarios, int(r.alert_count),
                  "yes" if bool(r.in_queue) else "no", _text(r.risk_rating), _text(r.is_pep))
                 for r in top.itertuples())
    return Section(title, intro, (fig, Table(("rank", "account", "risk score", "scenarios", "alerts", "in queue",
                                              "risk rating", "PEP"), rows)))


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def detection_quality(detection: dict | None, flagged: dict[str, int] | None = None) -> Section:
    """Recall and precision per scenario where labels exist ({scenario: {recall, precision, ...}},
    aml.query.scoring's figures as the demo's summary.json holds them); `flagged`: rows per scenario."""
    title = "Detection quality"
    if not detection:
        return Section(title, "", ("No labels for this period: pass --scores with the labelled figures "
                                   "(e.g. the demo's summary.json) to see recall and precision.",))
    names_ = sorted(set(detection) | set(flagged or {}))
    recall = [detection.get(s, {}).get("recall") for s in names_]
    precision = [detection.get(s, {}).get("precision") for s in names_]
    fig = go.Figure([go.Bar(name="recall", x=names_, y=recall, marker_color=SERIES[0]),
                     go.Bar(name="precision", x=names_, y=precision, marker_color=SERIES[1])])
    fig.update_layout(barmode="group", height=CHART_HEIGHT, yaxis={"tickformat": ".0%", "range": [0, 1.05]},
                      margin={"t": 20})
    rows = tuple((s, *((flagged or {}).get(s, ""),) * (flagged is not None), _pct(r), _pct(p))
                 for s, r, p in zip(names_, recall, precision, strict=True))
    headers = ("scenario", *("rows flagged",) * (flagged is not None), "recall", "precision")
    return Section(title, "Scored against the labels (n/a: no labelled instance of that scenario).",
                   (fig, Table(headers, rows)))


def quarantine_by_reason(glue_runs: list[dict]) -> dict[str, int]:
    """'table: reason' -> rows quarantined, summed over the curation runs' manifests."""
    found: dict[str, int] = {}
    for run in glue_runs:
        for table, figures in sorted(run.get("tables", {}).items()):
            for reason, n in sorted((figures.get("quarantined") or {}).items()):
                found[f"{table}: {reason}"] = found.get(f"{table}: {reason}", 0) + int(n)
    return found


def _bar(labels: list[str], values: list[int], axis: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=SERIES[0], text=values,
                           textposition="auto"))
    fig.update_layout(height=max(200, 30 * len(labels) + 80), xaxis_title=axis, yaxis={"autorange": "reversed"},
                      margin={"t": 20})
    return fig


def pipeline_health(zone_rows: dict[str, int], glue_runs: list[dict], run_reports: list[dict],
                    dead_letters: int | None = None, reconciliation: dict | None = None) -> Section:
    """Rows per zone, quarantine by reason, dead letters, the curation runs' manifests (rows read,
    written, quarantined, reconciled) and the daily pipeline's run reports."""
    parts: list = [_bar(list(zone_rows), list(zone_rows.values()), "rows"),
                   Table(("zone / table", "rows"), tuple(zone_rows.items()))]
    quarantined = quarantine_by_reason(glue_runs)
    parts += ([_bar(list(quarantined), list(quarantined.values()), "rows quarantined")] if quarantined
              else ["No row quarantined by the curation runs listed below."])
    parts.append("Dead letters (records the rules Lambda could not process): "
                 + ("not recorded in the curated zone." if dead_letters is None else f"{dead_letters:,}."))
    if glue_runs:
        parts.append(Table(("curation run", "started", "reconciled", "rows read", "rows written", "quarantined",
                            "warnings"), tuple(
            (r.get("run_id", ""), str(r.get("started_at", ""))[:19], "yes" if r.get("reconciled") else "no",
             *(sum(int(t.get(k, 0)) for t in r.get("tables", {}).values())
               for k in ("rows_read_total", "rows_written", "quarantined_total")), len(r.get("warnings", [])))
            for r in glue_runs)))
    else:
        parts.append("No curation run wrote a day of the period.")
    if run_reports:
        parts.append(Table(("run date", "run", "new raw files", "hits", "new alerts", "merged", "joined",
                            "profiles written"), tuple(
            (r["run_date"], r["run_id"], r["raw_new_files"], r["alerts"]["hits"], r["alerts"]["new"],
             r["alerts"]["merged"], r["alerts"]["joined"], (r.get("profiles") or {}).get("written", ""))
            for r in run_reports)))
    else:
        parts.append("No daily pipeline run report (reports/run_date=.../run_report.json) for a day of the period.")
    if reconciliation:
        parts.append(Table(("table", "source keys", "curated keys", "extra (alarmed)", "missing", "pending (lag)"), tuple(
            (t, f["source"], f["curated"], f["extra"], f["missing"], f.get("pending", 0))
            for t, f in sorted(reconciliation.get("tables", {}).items()))))
    return Section("Pipeline health", "Rows per zone in the period; the curation (Glue) runs that wrote its days, "
                   "from their run manifests (_job_state/runs); the daily pipeline's run reports.", tuple(parts))
