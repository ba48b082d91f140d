"""The stored alert item (alerts table) and the curated row it stands for keep their format: the
expected values below are what the code wrote before issue 18's restructuring (alert TTL then
400 days), so alerts stored by either version dedupe and finish their deliveries the same."""
from __future__ import annotations

from unittest import mock

import boto3
import pytest
from moto import mock_aws

from aml_contract import names, rules
from lambdas.realtime_rules.alerts import AlertSink, row_from_item
from lambdas.realtime_rules.rules.base import AlertDraft

NOW = 1_762_180_000.5
DRAFT = AlertDraft("rapid_movement", "ACC-1", "t2", ("t2", "t1", "t3"), 1_762_171_200, 1_762_100_000, 1_762_186_400,
                   {"inflow_usd": 9000.0, "ratio": 0.9})
ALERT_ID = "b700d97cfe5daeb0ec34454c332c9bb5"
SUBJECT_PID = "428cdf0035c319ae87f0e658c58ff96a8699face290527f17cb8d923343c52c9"  # HMAC of ACC-1 under b"k" * 32


def expected_row(params) -> dict:
    rule = params.rule("rapid_movement")
    return {
        "alert_id": ALERT_ID, "rule_id": "rapid_movement", "rule_version": rule.rule_version,
        "severity": rule.severity, "score": rule.score, "subject_account_pid": SUBJECT_PID,
        "transaction_ids": ["t2", "t1", "t3"], "event_time": "2025-11-03T12:00:00+00:00",
        "window_start": "2025-11-02T16:13:20+00:00", "window_end": "2025-11-03T16:13:20+00:00",
        "details": f'{{"description": "{rule.description}", "inflow_usd": 9000.0, "ratio": 0.9}}',
        "detected_at": "2025-11-03T14:26:40.500000+00:00", "source": "realtime", "dt": "2025-11-03",
    }


def expected_item(params) -> dict:
    row = expected_row(params)
    typed = {k: {"S": v} for k, v in row.items() if isinstance(v, str)}
    return {**typed, "rule_version": {"N": str(row["rule_version"])}, "score": {"N": str(row["score"])},
            "transaction_ids": {"L": [{"S": "t2"}, {"S": "t1"}, {"S": "t3"}]},
            "subject_account_id": {"S": "ACC-1"}, "sns_published": {"BOOL": True}, "s3_landed": {"BOOL": True},
            "sources": {"SS": ["realtime"]},
            "ttl": {"N": "1796740000"}}  # NOW + 400 days


@pytest.fixture()
def stored(monkeypatch):
    """The alerts table after one alert was delivered (SNS and Firehose accept everything)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="alerts", BillingMode="PAY_PER_REQUEST", **names.table_definition("alerts_table"))
        sns, firehose = mock.Mock(), mock.Mock()
        sns.publish_batch.side_effect = lambda **kw: {
            "Successful": [{"Id": e["Id"]} for e in kw["PublishBatchRequestEntries"]]}
        firehose.put_record_batch.side_effect = lambda **kw: {"RequestResponses": [{} for _ in kw["Records"]]}
        params = rules.load()
        sink = AlertSink(ddb, sns, firehose, table="alerts", topic_arn="arn:topic", delivery_stream="alerts",
                         ttl_days=400, params=params, pseudonym_key=lambda: b"k" * 32, clock=lambda: NOW)
        result = sink.deliver([DRAFT])
        yield params, result, ddb.scan(TableName="alerts")["Items"]


def test_a_new_alert_is_stored_as_the_expected_item(stored):
    params, result, items = stored
    assert result.new == [expected_row(params)]
    assert items == [expected_item(params)]


def test_a_stored_item_maps_back_to_the_row_delivered(stored):
    """alerts.row_from_item: the one mapping from a stored alert to its curated row (the sink's
    retries, `aml stream replay`)."""
    params, _, items = stored
    assert row_from_item(items[0]) == expected_row(params)
