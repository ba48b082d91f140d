"""The report step: one run's figures (raw files, query hits, alerts by outcome and rule, profiles
loaded, the key reconciliation) as `reports/run_date=<date>/run_report.json` in the curated bucket,
the one-paragraph summary the pipeline publishes, and the HTML report beside the JSON
(`reports/run_date=<date>/report.html`), drawn by the report generator `aml report` uses
(aml_report) over the report's window (the plan's `report_window`, REPORT_DAYS ending on the run
date): the report queries' rows are their result CSVs (the ScenarioQueries Map ran them on Athena),
the curation runs' manifests and the run reports are read from the curated bucket."""
from __future__ import annotations

import json
from datetime import date

from aml_contract.daily_pipeline import REPORT_FILES, REPORTS_PREFIX, RESULT_KEYS
from aml_contract.profiles import QUERY_NAME as PROFILES_QUERY
from aml_report import build, documents
from aml_report import queries as report_queries
from aml_report.page import Section, Table
from lambdas.daily_pipeline import query_results

REPORT_NAME, HTML_NAME = REPORT_FILES["json"], REPORT_FILES["html"]
TITLE = "AML daily pipeline report"


def report_key(run_date: str, name: str = REPORT_NAME) -> str:
    return f"{REPORTS_PREFIX}/run_date={run_date}/{name}"


def build_report(state: dict) -> dict:
    """The run's report from the execution state ($.plan, $.queries, $.alerts, $.profiles); its
    `queries` are the scenario and profiles queries (the report's own are not the run's figures)."""
    plan, alerts = state["plan"], state["alerts"]
    return {"run_id": plan["run_id"], "run_date": plan["run_date"], "window": plan["window"],
            "raw_new_files": plan["raw"]["new_files"], "curated": plan["raw"]["new_files"] > 0,
            "queries": sorted(q["name"] for q in state.get("queries", []) if q["name"] not in report_queries.NAMES),
            "alerts": alerts, "profiles": state.get("profiles"), "reconciliation": state.get(RESULT_KEYS["reconcile"])}


def summary(report: dict) -> str:
    a = report["alerts"]
    unusable = sum(a["unusable"].values())
    unreadable = sum(r.get("ids_unreadable", 0) for r in a.get("per_rule", {}).values())
    scenarios = [q for q in report["queries"] if q != PROFILES_QUERY]
    p = report.get("profiles")
    loaded = (f" Profiles as of {p['as_of']}: {p['profiles']} computed, {p['written']} written, {p['unchanged']} "
              f"unchanged, {p['older_than_stored']} older than stored, {sum(p['unusable'].values())} unusable."
              if p else "")
    return (f"AML daily pipeline {report['run_id']} for {report['run_date']} (window {report['window']['start_date']}"
            f" to {report['window']['end_date']}): {report['raw_new_files']} new raw files"
            f"{' curated' if report['curated'] else ', curation skipped'}; {len(scenarios)} scenario queries, "
            f"{a['hits']} hits: {a['new']} new alerts, {a['merged']} merged into real-time alerts, "
            f"{a['joined']} joined, {a['already_raised']} already raised, {unusable} unusable"
            + (f" ({unreadable} raised without their transaction ids: unreadable lists)" if unreadable else "")
            + (f"; {a['delivery_failed']} deliveries to retry" if a.get("delivery_failed") else "") + "." + loaded
            + (f" {report['reconciliation']['summary']}" if report.get("reconciliation") else ""))


def report_rows(state: dict, s3) -> dict[str, list[dict]]:
    """Each report query's rows, from the result CSV its Map iteration names in $.queries."""
    results = {q["name"]: q for q in state.get("queries", []) if q["name"] in report_queries.NAMES}
    missing = [name for name in report_queries.NAMES if name not in results]
    if missing:
        raise ValueError(f"the state holds no result of the report queries {', '.join(missing)}: were they planned?")
    return {name: query_results.read(s3, results[name]["output_location"]) for name in report_queries.NAMES}


def run_section(report: dict, summary_text: str) -> Section:
    """This run's figures, first on the page (through the generator's section interface)."""
    a, p = report["alerts"], report.get("profiles") or {}
    rows = (("run", report["run_id"]), ("run date", report["run_date"]),
            ("scenario window", f"{report['window']['start_date']} to {report['window']['end_date']}"),
            ("new raw files", f"{report['raw_new_files']:,}" + ("" if report["curated"] else " (curation skipped)")),
            ("scenario hits", a["hits"]), ("new alerts", a["new"]), ("merged into real-time alerts", a["merged"]),
            ("joined", a["joined"]), ("already raised", a["already_raised"]),
            ("unusable rows", sum(a["unusable"].values())), ("profiles written", p.get("written", "")))
    return Section("This run", "The daily pipeline's run that wrote this report; its figures are "
                   f"{REPORT_NAME} beside it.", (Table(("", ""), rows), summary_text))


def html(state: dict, report: dict, summary_text: str, *, s3, bucket: str) -> str:
    """The HTML report of the run: the run's section, then the standard sections over report_window."""
    window = state["plan"]["report_window"]
    start, end = date.fromisoformat(window["start_date"]), date.fromisoformat(window["end_date"])
    zone = build.zone_data(start, end, "athena", report_rows(state, s3), documents.S3Files(bucket, s3))
    standard = build.standard_sections(zone, reconciliation=report.get("reconciliation"))
    return build.render(zone, [run_section(report, summary_text), *standard], title=TITLE,
                        description=f"Daily pipeline run {report['run_id']} for {report['run_date']}")


def write(state: dict, *, s3, bucket: str, kms_key_id: str | None = None) -> dict:
    """Store the JSON report, then the HTML report (SSE-KMS under `kms_key_id` when given: the lake
    buckets refuse a put that does not ask for their key); returns the step's output."""
    report = build_report(state)
    text = summary(report)
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    key, html_key = report_key(report["run_date"]), report_key(report["run_date"], HTML_NAME)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report, indent=1, sort_keys=True).encode(),
                  ContentType="application/json", **encryption)
    page = html(state, report, text, s3=s3, bucket=bucket)  # lists the run reports: this run's is stored
    s3.put_object(Bucket=bucket, Key=html_key, Body=page.encode("utf-8"), ContentType="text/html; charset=utf-8",
                  **encryption)
    return {"report_uri": f"s3://{bucket}/{key}", "html_report_uri": f"s3://{bucket}/{html_key}", "summary": text}
