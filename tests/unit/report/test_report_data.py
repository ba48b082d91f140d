"""The report's data on the local engine, over the hand-made zone (conftest.py)."""
from __future__ import annotations

from datetime import date

import pytest

from aml.errors import AmlError
from aml.report import data
from aml_report import documents

START, END = date(2025, 3, 1), date(2025, 3, 10)


@pytest.fixture(scope="module")
def zone(zone_dir):
    return data.gather(START, END, data_dir=zone_dir)


def test_alerts_per_day_count_an_alert_once_with_its_sources(zone):
    rows = {(r["dt"], r["rule_id"], r["sources"]): r["alerts"] for r in zone.alerts_per_day}
    assert rows == {("2025-03-02", "structuring", "batch,realtime"): 1, ("2025-03-02", "large_cash", "batch"): 1,
                    ("2025-03-03", "fan_in", "realtime"): 1, ("2025-03-04", "fan_in", "batch"): 1}


def test_zone_rows_in_the_window(zone):
    assert zone.zone_rows == {"curated.transactions": 5, "curated.alerts": 5, "curated.accounts": 3,
                              "curated.customers": 3}


def test_risk_comes_from_customer_risk_summary(zone):
    """structuring 240 + large_cash 210 for acc1; fan_in 120 for acc2 (aml_contract.risk.weights)."""
    assert [r["subject_account_pid"] for r in zone.risk] == ["acc1", "acc2"]
    assert [r["risk_score"] for r in zone.risk] == [450, 120]
    assert [r["risk_rating"] for r in zone.risk] == ["high", "low"]
    assert zone.alert_count == 4


def test_only_the_runs_and_reports_of_the_window(zone):
    assert [r["run_id"] for r in zone.curation_runs] == ["r1"]
    assert [r["run_date"] for r in zone.run_reports] == ["2025-03-03"]


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2025-3-1", "2025-03-10", "--from '2025-3-1' is not a date"),
    ("2025-03-01", "tomorrow", "--to 'tomorrow' is not a date"),
    ("2025-03-10", "2025-03-01", "--from 2025-03-10 is after --to 2025-03-01"),
])
def test_bad_periods(start, end, message):
    with pytest.raises(AmlError, match=message):
        data.parse_period(start, end)


def test_scores_from_a_summary_or_a_mapping(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text('{"detection": {"structuring": {"recall": 1.0, "precision": 0.5}}}')
    mapping = tmp_path / "scores.json"
    mapping.write_text('{"fan_in": {"recall": 0.25, "precision": null}}')
    assert data.load_scores(summary) == {"structuring": {"recall": 1.0, "precision": 0.5}}
    assert data.load_scores(mapping)["fan_in"]["recall"] == 0.25
    (tmp_path / "other.json").write_text('{"rows": 3}')
    with pytest.raises(AmlError, match="holds no scores"):
        data.load_scores(tmp_path / "other.json")


def test_on_athena_the_run_reports_come_from_the_deployments_curated_bucket(monkeypatch):
    """The caller's account and AWS_REGION name the bucket (aml-<env>-curated-<account>-<region>),
    as the stacks name it; the local emulator is not asked."""
    import json

    import boto3
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        bucket = "aml-prod-curated-123456789012-eu-west-1"
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket=bucket, Key="reports/run_date=2025-03-02/run_report.json",
                      Body=json.dumps({"run_date": "2025-03-02", "run_id": "r1"}))
        files = data.deployed_curated_files("prod")
        assert files.bucket == bucket
        assert [r["run_id"] for r in documents.run_reports(files, START, END)] == ["r1"]
