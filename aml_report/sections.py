"""The sections every report shows, each built from small inputs (rows of the report queries' and
the named queries' columns as dicts, the run manifests' dicts), so each can be checked on hand-made
data. Rows come typed from DuckDB (`aml report --engine local`) or as text from Athena's result
CSV (`--engine athena` returns typed frames; the daily pipeline's Report step reads the CSV): the
values a section uses pass through as_int, flag and text, which read both the same way."""
from __future__ import annotations

from decimal import Decimal

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from aml_contract import names
from aml_report.page import Section, Table

REALTIME, BATCH = names.ALERT_SOURCES
# An alert's sources (the report query's comma-joined, sorted list) -> the queue's three kinds
# (aml/demo/alert_sources.py counts the same way).
SOURCE_KINDS = {REALTIME: "real time", BATCH: "batch", f"{BATCH},{REALTIME}": "merged"}
KIND_ORDER = ("real time", "batch", "merged")
PALETTE = qualitative.Alphabet  # one colour per rule (26, for the 19 rules and more)
SERIES = ("#1f77b4", "#ff7f0e")  # the charts of one or two series
CHART_HEIGHT = 360
ALERTS_INTRO = (
    "One alert queue: real time is the rules Lambda's, batch the daily pipeline's scenario queries', merged an "
    "alert both found (same subject and scenario, overlapping windows: docs/daily-pipeline.md). Day: the "
    "alert's partition (its event time).")
TOP_SUBJECTS_INTRO = (
    "customer_risk_summary over the period: an account's risk score is the sum of the weights of the distinct "
    "scenarios it hit (aml_contract/risk.py); in queue: within the alert budget. Accounts are pseudonyms, "
    "shortened to 12 characters.")


def missing(value) -> bool:
    """None, or a float NaN (a NULL in a typed frame's number column)."""
    return value is None or (isinstance(value, float) and value != value)


def as_int(value) -> int:
    """A count or score, typed (int, float, NumPy scalar) or as Athena writes it ("3", "450.0")."""
    return int(Decimal(value)) if isinstance(value, str) else int(value)


def flag(value) -> bool | None:
    """A boolean column: typed, or Athena's "true" / "false"; None when NULL."""
    if missing(value) or value == "":
        return None
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ValueError(f"not a boolean: {value!r}")
        return value.lower() == "true"
    return bool(value)


def text(value) -> str:
    return "" if missing(value) else str(value)


def yes_no(value) -> str:
    found = flag(value)
    return "" if found is None else ("yes" if found else "no")


def source_kind(sources: str) -> str:
    """'realtime' -> real time, 'batch' -> batch, both -> merged (one alert found by both paths)."""
    key = ",".join(sorted(s.strip() for s in sources.split(",") if s.strip()))
    if key not in SOURCE_KINDS:
        raise ValueError(f"unknown alert sources {sources!r}")
    return SOURCE_KINDS[key]


def colours(keys: list[str]) -> dict[str, str]:
    """One colour per key, stable for a sorted list (a rule keeps its colour in every chart)."""
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(keys))}


def _classified(rows: list[dict]) -> list[tuple[str, str, str, int]]:
    """(day, rule, kind, alerts) of each row of (dt, rule_id, sources, alerts)."""
    return [(str(r["dt"]), str(r["rule_id"]), source_kind(str(r["sources"])), as_int(r["alerts"])) for r in rows]


def alerts_by_rule_and_kind(rows: list[dict], rule_ids: tuple[str, ...] = ()) -> dict[str, dict[str, int]]:
    """Alerts per rule (sorted; `rule_ids` listed even without an alert) by kind (real time, batch,
    merged, all), from rows of (dt, rule_id, sources, alerts)."""
    columns = (*KIND_ORDER, "all")
    table = {rule: dict.fromkeys(columns, 0) for rule in rule_ids}
    for _, rule, kind, n in _classified(rows):
        counts = table.setdefault(rule, dict.fromkeys(columns, 0))
        counts[kind] += n
        counts["all"] += n
    return dict(sorted(table.items()))


def alerts(rows: list[dict], rule_ids: tuple[str, ...] = ()) -> Section:
    """Alerts per rule per day, one chart row per kind (real time, batch, merged), a colour per rule;
    the table lists `rule_ids` too (a rule that raised nothing shows 0)."""
    title, intro = "Alerts per rule per day, by source", ALERTS_INTRO
    if not rows:
        return Section(title, intro, ("No alert in the period.",))
    data = _classified(rows)
    shown = [k for k in KIND_ORDER if any(kind == k for _, _, kind, _ in data)]
    palette = colours(sorted({rule for _, rule, _, _ in data}))
    fig = make_subplots(rows=len(shown), cols=1, shared_xaxes=True, subplot_titles=shown, vertical_spacing=0.08)
    in_legend: set[str] = set()
    for row, kind in enumerate(shown, start=1):
        per_rule: dict[str, dict[str, int]] = {}
        for day, rule, found, n in data:
            if found == kind:
                per_day = per_rule.setdefault(rule, {})
                per_day[day] = per_day.get(day, 0) + n
        for rule, per_day in sorted(per_rule.items()):
            days = sorted(per_day)
            fig.add_trace(go.Bar(x=days, y=[per_day[d] for d in days], name=rule, legendgroup=rule,
                                 marker_color=palette[rule], showlegend=rule not in in_legend), row=row, col=1)
            in_legend.add(rule)
    fig.update_layout(barmode="stack", height=max(CHART_HEIGHT, 240 * len(shown)), margin={"t": 40})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=sorted({day for day, *_ in data}))
    table = alerts_by_rule_and_kind(rows, rule_ids)
    columns = (*KIND_ORDER, "all")
    table_rows = [(rule, *(counts[k] for k in columns)) for rule, counts in table.items()]
    table_rows.append(("all", *(sum(counts[k] for counts in table.values()) for k in columns)))
    return Section(title, intro, (fig, Table(("rule", *columns), tuple(table_rows))))


def top_subjects(rows: list[dict], n: int = 15) -> Section:
    """The first n rows of customer_risk_summary (queue order): risk score per account."""
    if not rows:
        return Section("Top subjects by risk score", TOP_SUBJECTS_INTRO, ("No account was alerted in the period.",))
    top = [{**r, "account": str(r["subject_account_pid"])[:12]} for r in rows[:n]]
    fig = go.Figure(go.Bar(x=[as_int(r["risk_score"]) for r in top], y=[r["account"] for r in top], orientation="h",
                           marker_color=SERIES[0], customdata=[[text(r["scenarios"]), as_int(r["alert_count"])]
                                                               for r in top],
                           hovertemplate="%{y}: %{x}<br>%{customdata[0]}<br>%{customdata[1]} alerts<extra></extra>"))
    fig.update_layout(height=max(CHART_HEIGHT, 26 * len(top) + 80), yaxis={"autorange": "reversed"},
                      xaxis_title="risk score", margin={"t": 20})
    table_rows = tuple((as_int(r["risk_rank"]), r["account"], as_int(r["risk_score"]), text(r["scenarios"]),
                        as_int(r["alert_count"]), yes_no(r["in_queue"]) or "no", text(r["risk_rating"]),
                        yes_no(r["is_pep"])) for r in top)
    return Section("Top subjects by risk score", TOP_SUBJECTS_INTRO, (fig, Table(
        ("rank", "account", "risk score", "scenarios", "alerts", "in queue", "risk rating", "PEP"), table_rows)))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def detection_quality(detection: dict | None, flagged: dict[str, int] | None = None) -> Section:
    """Recall and precision per scenario where labels exist ({scenario: {recall, precision, ...}},
    aml.query.scoring's figures as the demo's summary.json holds them); `flagged`: rows per scenario."""
    title = "Detection quality"
    if not detection:
        return Section(title, "", ("No labels for this period: recall and precision need labelled figures "
                                   "(`aml report --scores`, e.g. the demo's summary.json).",))
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
