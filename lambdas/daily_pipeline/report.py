"""The report step: one run's figures (raw files, query hits, alerts by outcome and rule, profiles
loaded, the key reconciliation) as
`reports/run_date=<date>/run_report.json` in the curated bucket, and the one-paragraph summary the
pipeline publishes. The analysts' HTML report over any period is `aml report` (issue "Report")."""
from __future__ import annotations

import json

from aml_contract.daily_pipeline import REPORTS_PREFIX, RESULT_KEYS
from aml_contract.profiles import QUERY_NAME as PROFILES_QUERY

REPORT_NAME = "run_report.json"


def report_key(run_date: str) -> str:
    return f"{REPORTS_PREFIX}/run_date={run_date}/{REPORT_NAME}"


def build(state: dict) -> dict:
    """The run's report from the execution state ($.plan, $.queries, $.alerts, $.profiles)."""
    plan, alerts = state["plan"], state["alerts"]
    return {"run_id": plan["run_id"], "run_date": plan["run_date"], "window": plan["window"],
            "raw_new_files": plan["raw"]["new_files"], "curated": plan["raw"]["new_files"] > 0,
            "queries": sorted(q["name"] for q in state.get("queries", [])), "alerts": alerts,
            "profiles": state.get("profiles"), "reconciliation": state.get(RESULT_KEYS["reconcile"])}


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


def write(state: dict, *, s3, bucket: str, kms_key_id: str | None = None) -> dict:
    """Store the report (SSE-KMS under `kms_key_id` when given: the lake buckets refuse a put that
    does not ask for their key); returns the step's output."""
    report = build(state)
    key = report_key(report["run_date"])
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report, indent=1, sort_keys=True).encode(),
                  ContentType="application/json", **encryption)
    return {"report_uri": f"s3://{bucket}/{key}", "summary": summary(report)}
