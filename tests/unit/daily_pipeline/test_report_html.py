"""The Report step's HTML report (in-process moto S3): drawn by the shared generator (aml_report)
from the report queries' result CSVs as Athena writes them, the curation runs' manifests and the run
reports in the curated bucket, beside the JSON report, under the lake key."""
from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from aml_contract import profiles
from aml_contract.daily_pipeline import REPORT_DAYS
from aml_report import queries as report_queries
from lambdas.daily_pipeline import plan, report

RUN_DATE = "2025-03-05"  # the executed state's (conftest.py)

@pytest.fixture()
def s3(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("raw", "curated", "results"):
            client.create_bucket(Bucket=bucket)
        yield client


def manifest(run_id: str, days: list[str]) -> dict:
    return {"run_id": run_id, "started_at": f"{days[-1]}T02:00:00+00:00", "reconciled": True, "warnings": [],
            "tables": {"transactions": {"partitions_touched": days, "quarantined": {"non_positive:amount": 2},
                                        "rows_read_total": 10, "rows_written": 8, "quarantined_total": 2}}}


def test_the_plan_runs_the_report_queries_over_the_report_window(s3):
    planned = plan.plan({"run_date": RUN_DATE, "run_id": "x"}, s3=s3, raw_bucket="raw", curated_bucket="curated")
    assert planned["report_window"] == {"start_date": "2025-02-27", "end_date": RUN_DATE} and REPORT_DAYS == 7
    tail = planned["queries"][-len(report_queries.NAMES):]
    assert [q["name"] for q in tail] == list(report_queries.NAMES)
    for q in tail:  # every `?` is a day of the report window
        assert set(q["execution_parameters"]) == {"'2025-02-27'", f"'{RUN_DATE}'"}
        assert q["query_string"] == report_queries.get(q["name"]).sql


def test_the_step_writes_the_html_report_beside_the_json(s3, executed_state):
    s3.put_object(Bucket="curated", Key="_job_state/runs/r1.json", Body=json.dumps(manifest("r1", ["2025-03-04"])))
    s3.put_object(Bucket="curated", Key="_job_state/runs/r0.json", Body=json.dumps(manifest("r0", ["2025-01-04"])))
    earlier = {"run_id": "2025-03-04-r1", "run_date": "2025-03-04", "raw_new_files": 3,
               "alerts": {"hits": 1, "new": 1, "merged": 0, "joined": 0}, "profiles": {"written": 2}}
    s3.put_object(Bucket="curated", Key="reports/run_date=2025-03-04/run_report.json", Body=json.dumps(earlier))

    state = executed_state(s3)
    assert state["plan"]["run_date"] == RUN_DATE
    out = report.write(state, s3=s3, bucket="curated")
    assert out["html_report_uri"] == f"s3://curated/reports/run_date={RUN_DATE}/report.html"
    stored = s3.get_object(Bucket="curated", Key=f"reports/run_date={RUN_DATE}/report.html")
    assert stored["ContentType"] == "text/html; charset=utf-8"
    page = stored["Body"].read().decode()
    assert re.findall(r"<h2>([^<]+)</h2>", page) == [
        "This run", "Alerts per rule per day, by source", "Top subjects by risk score", "Detection quality",
        "Pipeline health"]
    assert f"2025-02-27 to {RUN_DATE} (engine: athena). Daily pipeline run {RUN_DATE}-r1 for {RUN_DATE}" in page
    assert page.count("Plotly.newPlot(") == 4  # alerts, top subjects, rows per zone, quarantine
    assert "<td>all</td><td class=\"n\">3</td><td class=\"n\">2</td><td class=\"n\">1</td>" in page  # by kind
    assert f"<td>{'a' * 12}</td><td class=\"n\">450</td><td>large_cash,structuring</td>" in page
    assert "<td>yes</td><td>high</td><td>yes</td>" in page and "<td>no</td><td></td><td></td>" in page
    assert "<td>curated.transactions</td><td class=\"n\">1,200</td>" in page
    # the week's curation runs (r0 wrote no day of it) and run reports, this run's included
    assert "<td>r1</td>" in page and "<td>r0</td>" not in page
    assert "<td>2025-03-04-r1</td>" in page and f"<td>{RUN_DATE}-r1</td>" in page
    assert "5 hits: 2 new alerts" in page  # the summary, in the run's section


def test_the_json_report_and_the_summary_leave_the_report_queries_out(s3, executed_state):
    out = report.write(executed_state(s3), s3=s3, bucket="curated", kms_key_id="arn:key")
    stored = json.loads(s3.get_object(Bucket="curated", Key=f"reports/run_date={RUN_DATE}/run_report.json")["Body"].read())
    assert not set(stored["queries"]) & set(report_queries.NAMES) and profiles.QUERY_NAME in stored["queries"]
    assert f"{len(plan.scenario_queries())} scenario queries" in out["summary"]


def test_both_objects_ask_for_the_lake_key(s3, executed_state):
    state, puts, real = executed_state(s3), [], s3.put_object
    s3.put_object = lambda **kw: (puts.append(kw), real(**kw))[1]
    report.write(state, s3=s3, bucket="curated", kms_key_id="arn:aws:kms:us-east-1:1:key/k")
    assert [(p["Key"].rsplit("/", 1)[1], p["ServerSideEncryption"], p["SSEKMSKeyId"]) for p in puts] == [
        ("run_report.json", "aws:kms", "arn:aws:kms:us-east-1:1:key/k"),
        ("report.html", "aws:kms", "arn:aws:kms:us-east-1:1:key/k")]


def test_a_state_without_the_report_queries_fails_the_step(s3, executed_state):
    state = executed_state(s3)
    state["queries"] = [q for q in state["queries"] if q["name"] != report_queries.RISK_QUERY]
    with pytest.raises(ValueError, match="no result of the report queries customer_risk_summary"):
        report.write(state, s3=s3, bucket="curated")


def test_the_report_function_loads_plotly_the_others_do_not():
    """The handler module imports the report (and so plotly) inside the report function only."""
    import subprocess
    import sys

    code = ("import sys; import lambdas.daily_pipeline.handler; "
            "print(sorted(m for m in ('plotly', 'aml_report.page') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
