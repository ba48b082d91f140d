"""The plan and report steps, and Athena's result CSV (in-process moto S3)."""
from __future__ import annotations

import json
from datetime import date

import boto3
import pytest
from moto import mock_aws

from aml_contract import glue_job, profiles
from aml_contract.daily_pipeline import rerun_name
from lambdas.daily_pipeline import plan, query_results, report


def test_the_run_date_is_given_or_the_day_before_the_schedule_fired():
    assert plan.run_date_of({"run_date": "2025-03-05"}) == date(2025, 3, 5)
    assert plan.run_date_of({"scheduled_time": "2025-03-06T02:00:00Z"}) == date(2025, 3, 5)
    with pytest.raises(ValueError, match="run_date"):
        plan.run_date_of({})
    assert plan.window(date(2025, 3, 5), 35) == {"start_date": "2025-01-30", "end_date": "2025-03-05"}
    with pytest.raises(ValueError, match="at least 1"):
        plan.window(date(2025, 3, 5), 0)


def test_reruns_are_named_after_the_date_with_the_next_number():
    assert rerun_name(date(2025, 3, 5), []) == "2025-03-05-r1"
    assert rerun_name(date(2025, 3, 5), ["2025-03-05-r1", "2025-03-05-r3", "2025-03-04-r7", "abc"]) == "2025-03-05-r4"


@pytest.fixture()
def s3(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("raw", "curated"):
            client.create_bucket(Bucket=bucket)
        yield client


def test_new_raw_files_are_those_not_in_the_jobs_manifest(s3):
    for key in ("dms/core/transactions/LOAD00000001.parquet", "dms/core/transactions/2025/03/05/a.parquet",
                "dms/core/accounts/LOAD00000001.parquet", "dms/core/transactions/notes.txt", "_quarantine/x.parquet"):
        s3.put_object(Bucket="raw", Key=key, Body=b"x")
    assert plan.new_raw_files(s3, "raw", "curated")["new_files"] == 3  # no manifest yet
    s3.put_object(Bucket="curated", Key=glue_job.PROCESSED_FILES, Body=json.dumps(
        {"state_format": 2, "tables": {"transactions": ["LOAD00000001.parquet"], "accounts": ["LOAD00000001.parquet"]}}))
    found = plan.new_raw_files(s3, "raw", "curated")
    assert found["new_files"] == 1 and found["latest_modified"]


def test_the_plan_lists_every_scenario_query_and_the_profiles_query_with_their_parameters(s3):
    """Scenario queries are the named queries named after a rule; a rule may have none (a real-time
    only rule such as amount_outlier), and a query may be no rule (the profiles, the listings). The
    report's queries follow (test_report_html.py)."""
    from aml_contract import named_queries, rules
    from aml_report import queries as report_queries

    result = plan.plan({"run_date": "2025-03-05", "lookback_days": 7, "run_id": "x"}, s3=s3, raw_bucket="raw",
                       curated_bucket="curated")
    names = [q["name"] for q in result["queries"]][:-len(report_queries.NAMES)]
    every = {q.name for q in named_queries.load_all()}
    assert sorted(names) == sorted((every & set(rules.load().rules)) | {profiles.QUERY_NAME})
    assert names[-1] == profiles.QUERY_NAME and "amount_outlier" not in names and "account_alerts" not in names
    structuring = next(q for q in result["queries"] if q["name"] == "structuring")
    assert structuring["execution_parameters"] == ["'2025-02-27'", "'2025-03-05'"]
    profiles_query = next(q for q in result["queries"] if q["name"] == profiles.QUERY_NAME)
    assert set(profiles_query["execution_parameters"]) == {"'2025-03-05'"}  # end_date only: the as_of day
    assert result["raw"]["new_files"] == 0 and result["run_id"] == "x"


def test_athena_csv_rows_with_nulls_as_none(s3):
    s3.put_object(Bucket="curated", Key="results/q1.csv",
                  Body=b'"subject_account_pid","first_window_start","n"\n"P1","2025-03-01 09:00:00.000",\n"P,2","","3"\n')
    rows = query_results.read(s3, "s3://curated/results/q1.csv")
    assert rows == [{"subject_account_pid": "P1", "first_window_start": "2025-03-01 09:00:00.000", "n": None},
                    {"subject_account_pid": "P,2", "first_window_start": None, "n": "3"}]
    with pytest.raises(ValueError, match="s3://"):
        query_results.split_s3_uri("https://x/y")


def test_the_report_is_stored_by_run_date_and_summarised(s3, executed_state):
    from aml_report import queries as report_queries

    s3.create_bucket(Bucket="results")
    executed = executed_state(s3)  # the report queries' results, for the HTML report (test_report_html.py)
    alerts = {"hits": 5, "new": 2, "merged": 1, "joined": 1, "already_raised": 0, "unusable": {"x": 1},
              "per_rule": {}, "delivery_failed": 0}
    state = {"plan": {"run_id": "2025-03-05-r1", "run_date": "2025-03-05", "raw": {"new_files": 4},
                      "window": {"start_date": "2025-02-01", "end_date": "2025-03-05"},
                      "report_window": executed["plan"]["report_window"]},
             "queries": [{"name": "cycles"}, {"name": "structuring"}, {"name": profiles.QUERY_NAME},
                         *(q for q in executed["queries"] if q["name"] in report_queries.NAMES)], "alerts": alerts,
             "profiles": {"profiles": 40, "written": 7, "unchanged": 30, "older_than_stored": 3,
                          "unusable": {"column covered_days is empty": 2}, "as_of": "2025-03-05"}}
    out = report.write(state, s3=s3, bucket="curated")
    assert out["report_uri"] == "s3://curated/reports/run_date=2025-03-05/run_report.json"
    assert "2 new alerts, 1 merged into real-time alerts" in out["summary"] and "5 hits" in out["summary"]
    assert "2 scenario queries" in out["summary"]
    assert ("Profiles as of 2025-03-05: 40 computed, 7 written, 30 unchanged, 3 older than stored, 2 unusable."
            in out["summary"])
    stored = json.loads(s3.get_object(Bucket="curated", Key="reports/run_date=2025-03-05/run_report.json")["Body"].read())
    assert stored["alerts"] == alerts and stored["queries"] == ["account_profiles", "cycles", "structuring"]
    assert stored["profiles"] == state["profiles"]


def test_each_step_returns_the_fields_the_state_machine_keeps(s3, executed_state):
    from aml_contract.daily_pipeline import STEP_FIELDS
    from lambdas.daily_pipeline import batch_alerts

    planned = plan.plan({"run_date": "2025-03-05", "run_id": "x"}, s3=s3, raw_bucket="raw", curated_bucket="curated")
    assert set(STEP_FIELDS["plan"]) <= set(planned)
    assert set(STEP_FIELDS["batch_alerts"]) <= set(batch_alerts.Outcome().as_dict())
    from lambdas.daily_pipeline.profiles import LoadOutcome

    assert set(STEP_FIELDS["load_profiles"]) <= set(LoadOutcome("2025-03-05").as_dict())
    s3.create_bucket(Bucket="results")
    state = {**executed_state(s3), "alerts": batch_alerts.Outcome().as_dict()}
    assert set(STEP_FIELDS["report"]) <= set(report.write(state, s3=s3, bucket="curated", kms_key_id="arn:key"))


def test_the_plan_handler_takes_the_execution_input_under_input(s3, monkeypatch):
    from lambdas.daily_pipeline import handler

    monkeypatch.setenv("RAW_BUCKET", "raw")
    monkeypatch.setenv("CURATED_BUCKET", "curated")
    monkeypatch.setattr(handler, "_client", lambda service: s3)
    result = handler.plan({"run_id": "2025-03-05-r1", "input": {"run_date": "2025-03-05", "lookback_days": 3}},
                          _Context())
    assert (result["run_id"], result["window"]) == ("2025-03-05-r1", {"start_date": "2025-03-03",
                                                                      "end_date": "2025-03-05"})


class _Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "plan", 128, "arn:f", "req"
