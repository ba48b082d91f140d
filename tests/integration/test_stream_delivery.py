"""Alert delivery and failure semantics of the rules handler against the moto server, records going
through Kinesis and the local poller as Lambda's event source mapping would deliver them:

- every new alert lands in the alerts table, on the SNS topic (read through an SQS subscription)
  and in S3 (Firehose under s3://<curated>/alerts/), and a replay adds nothing anywhere;
- DynamoDB throttling injected mid-batch loses no alert and duplicates none, nor does a throttled
  update of the delivery flags;
- poison records of many kinds reach the DLQ with a reason while the rest of their batch succeeds.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from aml.local import aws, resources
from aml.stream.poller import Poller
from aml.stream.replay import alert_rows, local_handler, put_lines
from aml_contract import names

pytestmark = pytest.mark.integration
DAY = "2025-03-04"


def _env(unique_name) -> resources.LocalResources:
    return resources.ensure(unique_name("t").replace("-", ""))  # lowercase letters and digits only


def _cash(tid: str, account: str, amount: str, kind: str = "cash_deposit", **extra) -> dict:
    origin, benef = ("CASH", account) if kind == "cash_deposit" else (account, "CASH")
    return {"transaction_id": tid, "booked_at": f"{DAY}T10:00:00Z",
            "originator_account_id": origin, "beneficiary_account_id": benef, "amount": amount,
            "currency": "USD", "amount_base": amount, "transaction_type": kind, "channel": "branch",
            "status": "booked", "originator_name": f"depositor {tid}", **extra}


def _large_cash_lines(prefix: str, accounts: int) -> tuple[list[bytes], set[tuple[str, tuple[str, ...]]]]:
    """One cash movement above the CTR threshold per account (deposits into half of them,
    withdrawals from the other half, so the records spread over both shards), plus one small
    deposit per account that raises nothing: (lines, the expected (rule, transaction ids))."""
    lines, expected = [], set()
    for i in range(accounts):
        kind = "cash_deposit" if i % 2 else "cash_withdrawal"
        big, small = f"{prefix}-{i}-big", f"{prefix}-{i}-small"
        lines.append(json.dumps(_cash(big, f"ACC-{prefix}-{i}", "12345.67", kind)).encode())
        lines.append(json.dumps(_cash(small, f"ACC-{prefix}-{i}x", "120.50", kind)).encode())
        expected.add(("large_cash", (big,)))
    return lines, expected


def _tap_topic(res: resources.LocalResources) -> str:
    """An SQS queue subscribed to the alerts topic with raw message delivery."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=names.resource_name(res.env_name, "alerts-tap"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=res.alerts_topic_arn, Protocol="sqs", Endpoint=arn,
                                Attributes={"RawMessageDelivery": "true"})
    return url


def _drain_queue(url: str) -> list[dict]:
    """Every message now in the queue (received once, deleted), as parsed JSON bodies."""
    sqs, bodies = aws.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=300, MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            body = json.loads(message["Body"])
            body["_attributes"] = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
            bodies.append(body)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def _landed(res: resources.LocalResources) -> tuple[int, list[dict]]:
    """(objects, alert rows) under s3://<curated>/alerts/ (Firehose: newline-delimited JSON)."""
    s3 = aws.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=res.curated_bucket, Prefix=f"{names.ALERTS_S3_PREFIX}/") for o in page.get("Contents", [])]
    rows = [json.loads(line) for key in keys
            for line in s3.get_object(Bucket=res.curated_bucket, Key=key)["Body"].read().splitlines() if line]
    return len(keys), rows


def _run(res: resources.LocalResources, lines: list[bytes], **poller_kwargs):
    poller = Poller(res.stream_name, local_handler(res), **poller_kwargs)
    start_at = put_lines(res.stream_name, lines)
    return start_at, poller, poller.drain(start_at)


def _by_rule(rows) -> set[tuple[str, tuple[str, ...]]]:
    return {(r["rule_id"], tuple(sorted(r["transaction_ids"]))) for r in rows}


def test_alerts_land_in_dynamodb_sns_and_s3_once_and_a_replay_adds_nothing(local_services, unique_name):
    res = _env(unique_name)
    tap = _tap_topic(res)
    lines, expected = _large_cash_lines("dl", 6)

    start_at, poller, stats = _run(res, lines)
    assert stats.records_delivered == len(lines) and stats.redeliveries == 0 and not stats.abandoned

    table = alert_rows(res.alerts_table)
    assert _by_rule(table.values()) == expected
    published = _drain_queue(tap)
    assert sorted(m["alert_id"] for m in published) == sorted(table)  # one message per alert
    objects, landed = _landed(res)
    assert objects >= 1 and sorted(r["alert_id"] for r in landed) == sorted(table)
    for message in published:  # the same alert, every column, on each channel
        stored = table[message["alert_id"]]
        assert {k: message[k] for k in stored if k != "transaction_ids"} == \
            {k: v for k, v in stored.items() if k != "transaction_ids"}
        assert sorted(message["transaction_ids"]) == stored["transaction_ids"]
        assert message["_attributes"] == {"rule_id": "large_cash", "severity": "high", "source": "realtime"}
        assert json.loads(message["details"])["threshold_usd"] == 10000
        assert message["window_start"].startswith(DAY) and message["rule_version"] == 1
    for row in landed:
        assert row["dt"] == DAY and row["subject_account_pid"] == table[row["alert_id"]]["subject_account_pid"]

    # The same Kinesis records delivered again (the idempotent batch), then the same lines put on
    # the stream again (new sequence numbers: every record is evaluated again).
    again = poller.drain(start_at)
    assert again.records_delivered == len(lines) and again.redeliveries == 0
    _, _, third = _run(res, lines)
    assert third.records_delivered == len(lines) and third.redeliveries == 0
    assert alert_rows(res.alerts_table) == table
    assert _drain_queue(tap) == []
    assert _landed(res) == (objects, landed)


class _Throttle:
    """Makes chosen DynamoDB calls of the handler's client fail as throttled, counted per
    (operation, table): `faults[(op, table)]` holds the 1-based call numbers that fail."""

    def __init__(self, client, faults: dict[tuple[str, str], set[int]]):
        self._client, self._faults = client, faults
        self.calls: Counter = Counter()
        self.injected: Counter = Counter()
        self._lock = threading.Lock()
        self._handlers: list[tuple[str, Callable]] = []
        for operation in {op for op, _ in faults}:
            handler = self._make(operation)
            event = f"before-parameter-build.dynamodb.{operation}"
            client.meta.events.register(event, handler)
            self._handlers.append((event, handler))

    def _make(self, operation: str) -> Callable:
        def handler(params, **_):
            tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            tables += sorted({op["TableName"] for entry in params.get("TransactItems", []) for op in entry.values()})
            for table in tables:
                with self._lock:
                    self.calls[operation, table] += 1
                    fail = self.calls[operation, table] in self._faults.get((operation, table), ())
                    if fail:
                        self.injected[operation, table] += 1
                if fail:
                    code = ("ThrottlingException" if operation == "BatchGetItem"
                            else "ProvisionedThroughputExceededException")
                    raise ClientError({"Error": {"Code": code, "Message": "injected throttle"},
                                       "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
        return handler

    def remove(self) -> None:
        for event, handler in self._handlers:
            self._client.meta.events.unregister(event, handler)


def _handler_dynamodb(res: resources.LocalResources):
    local_handler(res)  # sets the environment the runtime is built from
    from lambdas.realtime_rules import handler

    return handler.runtime().clients["dynamodb"]


def test_dynamodb_throttling_mid_batch_loses_no_alert_and_duplicates_none(local_services, unique_name):
    lines, expected = _large_cash_lines("th", 10)
    clean = _env(unique_name)
    clean_tap = _tap_topic(clean)
    _run(clean, lines)
    clean_alerts = alert_rows(clean.alerts_table)
    assert _by_rule(clean_alerts.values()) == expected
    assert len(_drain_queue(clean_tap)) == len(clean_alerts)

    res = _env(unique_name)
    tap = _tap_topic(res)
    throttle = _Throttle(_handler_dynamodb(res), {
        ("TransactWriteItems", res.alerts_table): {1, 3},  # alert puts and delivery flags
        ("TransactWriteItems", res.rule_state_table): {1},  # account summaries
        ("BatchGetItem", res.rule_state_table): {2},  # a whole batch's state read
        ("BatchGetItem", res.alerts_table): {3},  # the stored-alerts read
    })
    try:
        _, _, stats = _run(res, lines, max_attempts=10)
    finally:
        throttle.remove()
    assert throttle.injected == {("TransactWriteItems", res.alerts_table): 2,
                                 ("TransactWriteItems", res.rule_state_table): 1,
                                 ("BatchGetItem", res.rule_state_table): 1, ("BatchGetItem", res.alerts_table): 1}
    assert stats.redeliveries >= 1 and not stats.abandoned and stats.handler_errors == 0

    alerts = alert_rows(res.alerts_table)
    assert sorted(alerts) == sorted(clean_alerts)  # deterministic ids: the same alerts as a clean run
    assert _by_rule(alerts.values()) == expected
    for aid, row in alerts.items():
        assert {k: v for k, v in row.items() if k not in ("subject_account_pid", "detected_at")} == \
            {k: v for k, v in clean_alerts[aid].items() if k not in ("subject_account_pid", "detected_at")}
    published = Counter(m["alert_id"] for m in _drain_queue(tap))
    assert published == Counter(list(alerts))  # each alert exactly once on SNS
    _, landed = _landed(res)
    assert Counter(r["alert_id"] for r in landed) == Counter(list(alerts))  # and exactly once in S3


def _poison() -> dict[str, tuple[bytes, str]]:
    """kind -> (record data, a phrase its DLQ reason must contain)."""
    def row(**changes) -> bytes:
        base = _cash("p-x", "ACC-P-X", "120.00")
        base.update(changes)
        return json.dumps({k: v for k, v in base.items() if v is not None}).encode()

    oversize = json.loads(row(transaction_id="p-big"))
    oversize["padding"] = ""
    room = 1024 * 1024 - 64 - len(json.dumps(oversize))  # just under Kinesis' 1 MiB record limit
    oversize["padding"] = "x" * room
    return {
        "not json": (b'{"transaction_id": "p-1", ', "not JSON"),
        "not utf-8": (b"\xff\xfe\x00garbage", "not JSON"),
        "not an object": (b'[{"transaction_id": "p-2"}]', "not a JSON object"),
        "missing transaction_id": (row(transaction_id=None), "transaction_id: Field required"),
        "missing booked_at": (row(transaction_id="p-3", booked_at=None), "booked_at: Field required"),
        "negative amount": (row(transaction_id="p-4", amount="-500.00"), "amount: Input should be greater than 0"),
        "amount not a number": (row(transaction_id="p-5", amount="ten thousand"), "amount:"),
        "unknown currency": (row(transaction_id="p-6", currency="XYZ"), "currency:"),
        "far future": (row(transaction_id="p-7", booked_at="2999-01-01T00:00:00Z"), "in the future"),
        "bad dms envelope": (json.dumps({"data": {}, "metadata": {"operation": "insert"}}).encode(),
                             "invalid DMS metadata"),
        "oversize": (json.dumps(oversize).encode(), "oversize payload"),
    }


def test_poison_records_reach_the_dlq_with_a_reason_and_the_rest_of_the_batch_succeeds(local_services,
                                                                                      unique_name):
    res = _env(unique_name)
    poison = _poison()
    assert 1024 * 1024 - 1024 < len(poison["oversize"][0]) < 1024 * 1024
    valid = [json.dumps(_cash(f"ok-{i}", f"ACC-OK-{i}", "15000.25")).encode() for i in range(3)]
    data = [valid[0], *[d for d, _ in list(poison.values())[:6]], valid[1],
            *[d for d, _ in list(poison.values())[6:]], valid[2]]
    kinesis = aws.client("kinesis")
    start_at = {}
    for record in data:  # one partition key: one shard, so every record is in the same batch
        put = kinesis.put_record(StreamName=res.stream_name, Data=record, PartitionKey="CASH")
        start_at.setdefault(put["ShardId"], put["SequenceNumber"])

    stats = Poller(res.stream_name, local_handler(res)).drain(start_at)
    assert (stats.batches, stats.records_delivered, stats.redeliveries) == (1, len(data), 0)

    alerts = alert_rows(res.alerts_table)
    assert _by_rule(alerts.values()) == {("large_cash", (f"ok-{i}",)) for i in range(3)}

    dead = {m["data_sha256"]: m for m in _drain_queue(res.dlq_url)}
    assert len(dead) == len(poison)
    for kind, (payload, phrase) in poison.items():
        message = dead.get(hashlib.sha256(payload).hexdigest())
        assert message is not None, f"{kind}: not in the DLQ"
        assert phrase in message["reason"], f"{kind}: reason {message['reason']!r}"
        assert message["_attributes"]["reason"] == message["reason"][:256]
        assert message["data_bytes"] == len(payload) and message["event_source_arn"] == res.stream_arn
        if kind != "oversize":
            assert not message["truncated"] and message["data_base64"] and \
                base64.b64decode(message["data_base64"]) == payload
        else:
            assert message["truncated"]


def test_throttled_delivery_flag_update_duplicates_no_sns_message(local_services, unique_name):
    lines, expected = _large_cash_lines("fl", 4)
    res = _env(unique_name)
    tap = _tap_topic(res)
    # Call 1 stores the new alerts, call 2 is the first try of their delivery-flag update.
    throttle = _Throttle(_handler_dynamodb(res), {("TransactWriteItems", res.alerts_table): {2}})
    try:
        _, _, stats = _run(res, lines)
    finally:
        throttle.remove()
    assert throttle.injected == {("TransactWriteItems", res.alerts_table): 1} and stats.redeliveries == 0
    alerts = alert_rows(res.alerts_table)
    flags = aws.client("dynamodb").scan(TableName=res.alerts_table, ProjectionExpression="sns_published, s3_landed")
    assert all(i["sns_published"]["BOOL"] and i["s3_landed"]["BOOL"] for i in flags["Items"])
    assert _by_rule(alerts.values()) == expected
    assert Counter(m["alert_id"] for m in _drain_queue(tap)) == Counter(list(alerts))
    _, landed = _landed(res)
    assert Counter(r["alert_id"] for r in landed) == Counter(list(alerts))


def test_the_poller_starts_at_a_timestamp_as_an_at_timestamp_mapping_does(local_services, unique_name):
    """`drain(since=...)` delivers only the records that arrived at or after it (the demo reads the
    changes of its own run, not an earlier run's still in the stream)."""
    res = _env(unique_name)
    earlier, _ = _large_cash_lines("old", 2)
    put_lines(res.stream_name, earlier)
    since = datetime.now(UTC)
    later, expected = _large_cash_lines("new", 2)
    put_lines(res.stream_name, later)
    delivered: list[str] = []

    def handler(event, context):
        delivered.extend(json.loads(base64.b64decode(r["kinesis"]["data"]))["transaction_id"] for r in event["Records"])
        return {"batchItemFailures": []}

    stats = Poller(res.stream_name, handler).drain(since=since)
    assert stats.records_delivered == len(later)
    assert sorted(delivered) == sorted(json.loads(line)["transaction_id"] for line in later)
