"""The handler end to end on moto (in-process): parsing, dead letters, redelivery, throttling."""
import base64
import json
import os
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from lambda_harness import Context, _alerts, _drain, _envelope, _event, _row

from aml_contract import names


def test_envelope_and_plain_both_raise_alert_and_redelivery_duplicates_nothing(lambda_env):
    h = lambda_env["handler"]
    event = _event([_row("t1", 1), _envelope(_row("t2", 2), "update"), _envelope(_row("t3", 2), "delete"),
                    _envelope({"account_id": "x"}, table="accounts")])
    assert h.lambda_handler(event, Context()) == {"batchItemFailures": []}
    assert [a["rule_id"]["S"] for a in _alerts(lambda_env["ddb"])] == ["structuring"]
    assert len(_drain(lambda_env["sqs"], lambda_env["watch"])) == 1
    h.forget_runtime()  # a fresh container; same records under new event ids (a retry)
    assert h.lambda_handler(_event(event_payloads(event), first_seq=10), Context()) == {"batchItemFailures": []}
    assert len(_alerts(lambda_env["ddb"])) == 1
    assert _drain(lambda_env["sqs"], lambda_env["watch"]) == []
    landed = lambda_env["s3"].list_objects_v2(Bucket="curated", Prefix="alerts/").get("KeyCount", 0)
    assert landed == 1


def test_an_identical_redelivery_is_answered_from_the_idempotency_table(lambda_env):
    """The key comes from the records' event ids alone (handler.batch_ids): the same key the whole
    event gives under `Records[*].eventID`, so records stored before still answer."""
    import jmespath

    h = lambda_env["handler"]
    event = _event([_row("t1", 1), _row("t2", 2)])
    expression = h.runtime().idempotency.event_key_jmespath
    ids = ["shardId-0:1", "shardId-0:2"]
    assert jmespath.search(expression, h.batch_ids(event)) == jmespath.search(expression, event) == ids
    assert h.lambda_handler(event, Context()) == {"batchItemFailures": []}
    stored = lambda_env["ddb"].scan(TableName="idem")["Items"]
    assert len(stored) == 1 and stored[0]["status"]["S"] == "COMPLETED"
    with mock.patch.object(h.runtime().engine, "process", side_effect=AssertionError("processed again")):
        assert h.lambda_handler(event, Context()) == {"batchItemFailures": []}
    assert len(_alerts(lambda_env["ddb"])) == 1


def event_payloads(event):
    return [base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]]


POISON = [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    ({**_row("x", 1), "transaction_id": None}, "transaction_id"),
    ({k: v for k, v in _row("x", 1).items() if k != "booked_at"}, "booked_at"),
    ({**_row("x", 1), "amount": "-5"}, "amount"),
    ({**_row("x", 1), "amount": "lots"}, "amount"),
    ({**_row("x", 1), "currency": "QQQ"}, "currency: Value error, 'QQQ' is not a code of the currencies reference"),
    ({**_row("x", 1), "amount_base": "0"}, "amount_base"),
    ({**_row("x", 1), "booked_at": "2999-01-01T00:00:00Z"}, "future"),
    (b"{" + b" " * 40_000 + b"}", "oversize"),
]


def test_poison_records_reach_the_dlq_with_reason_and_batch_succeeds(lambda_env):
    good = _row("ok1", 1)
    event = _event([p for p, _ in POISON] + [good])
    assert lambda_env["handler"].lambda_handler(event, Context()) == {"batchItemFailures": []}
    dead = sorted(_drain(lambda_env["sqs"], lambda_env["dlq"]), key=lambda b: int(b["sequence_number"]))
    assert len(dead) == len(POISON)
    for body, (_, reason) in zip(dead, POISON, strict=True):
        assert reason in body["reason"], body["reason"]
        assert body["data_base64"]
    state = lambda_env["ddb"].get_item(TableName="state", Key={"pk": {"S": "ACC"}, "sk": {"S": "window-summary"}})
    assert "ok1" in state["Item"]["summary"]["S"]


def test_throttled_state_write_fails_the_records_then_retry_loses_nothing(lambda_env):
    h = lambda_env["handler"]
    event = _event([_row("t1", 1), _row("t2", 2)])
    ddb = h.runtime().clients["dynamodb"]
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
    transact = ddb.transact_write_items

    def throttle_state_writes(**kwargs):
        if any(op["TableName"] == "state" for entry in kwargs["TransactItems"] for op in entry.values()):
            raise throttled
        return transact(**kwargs)

    with mock.patch.object(ddb, "transact_write_items", side_effect=throttle_state_writes):
        response = h.lambda_handler(event, Context())
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["1", "2"]
    assert _alerts(lambda_env["ddb"]) == []  # nothing acknowledged, nothing raised
    assert h.lambda_handler(event, Context()) == {"batchItemFailures": []}  # same batch, not cached
    assert len(_alerts(lambda_env["ddb"])) == 1
    assert len(_drain(lambda_env["sqs"], lambda_env["watch"])) == 1


def test_throttled_alert_publish_retries_only_the_missing_delivery(lambda_env):
    h = lambda_env["handler"]
    event = _event([_row("t1", 1), _row("t2", 2)])
    sns = h.runtime().clients["sns"]
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "PublishBatch")
    with mock.patch.object(sns, "publish_batch", side_effect=throttled):
        response = h.lambda_handler(event, Context())
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["2"]
    assert _drain(lambda_env["sqs"], lambda_env["watch"]) == []
    assert h.lambda_handler(_event(event_payloads(event)[1:], first_seq=2), Context()) == {"batchItemFailures": []}
    assert len(_drain(lambda_env["sqs"], lambda_env["watch"])) == 1
    assert lambda_env["s3"].list_objects_v2(Bucket="curated", Prefix="alerts/").get("KeyCount", 0) == 1


def test_missing_environment_is_reported(monkeypatch, lambda_env):
    monkeypatch.delenv(names.RULES_LAMBDA_ENV["dlq_url"])
    with pytest.raises(RuntimeError, match="DLQ_URL"):
        lambda_env["handler"].runtime()
    assert os.environ.get(names.RULES_LAMBDA_ENV["alerts_table"]) == "alerts"


def test_state_written_by_a_concurrent_invocation_is_not_lost(lambda_env):
    """Another invocation (another shard's) writes the account after this container last wrote it:
    the copy this container keeps is stale, the conditional write is rejected, the engine reloads,
    re-applies and keeps both writers' events."""
    h = lambda_env["handler"]
    assert h.lambda_handler(_event([_row("t1", 1)]), Context()) == {"batchItemFailures": []}
    key = {"pk": {"S": "ACC"}, "sk": {"S": "window-summary"}}
    item = lambda_env["ddb"].get_item(TableName="state", Key=key)["Item"]
    summary = json.loads(item["summary"]["S"])
    summary["e"]["rival"] = [1740916800, 50000, "in", "CASH:x", "cash_deposit", 0]
    item["summary"]["S"], item["version"]["N"] = json.dumps(summary), str(int(item["version"]["N"]) + 1)
    lambda_env["ddb"].put_item(TableName="state", Item=item)

    ddb = h.runtime().clients["dynamodb"]
    with mock.patch.object(ddb, "batch_get_item", wraps=ddb.batch_get_item) as reads:
        assert h.lambda_handler(_event([_row("t2", 2)], first_seq=5), Context()) == {"batchItemFailures": []}
    state_reads = [c for c in reads.call_args_list if "state" in c.kwargs["RequestItems"]]
    assert len(state_reads) == 1  # none from the container's copy; one reload after the rejected write
    stored = lambda_env["ddb"].get_item(TableName="state", Key=key)["Item"]
    assert set(json.loads(stored["summary"]["S"])["e"]) == {"t1", "t2", "rival"}
    assert stored["version"]["N"] == "3"


def test_a_warm_container_reads_no_state_it_wrote_itself(lambda_env):
    h = lambda_env["handler"]
    assert h.lambda_handler(_event([_row("t1", 1)]), Context()) == {"batchItemFailures": []}
    ddb = h.runtime().clients["dynamodb"]
    with mock.patch.object(ddb, "batch_get_item", wraps=ddb.batch_get_item) as reads:
        assert h.lambda_handler(_event([_row("t2", 2)], first_seq=5), Context()) == {"batchItemFailures": []}
    assert not [c for c in reads.call_args_list if "state" in c.kwargs["RequestItems"]]
    stored = lambda_env["ddb"].get_item(TableName="state", Key={"pk": {"S": "ACC"}, "sk": {"S": "window-summary"}})
    assert set(json.loads(stored["Item"]["summary"]["S"])["e"]) == {"t1", "t2"} and stored["Item"]["version"]["N"] == "2"


def test_a_delivery_flag_that_cannot_be_stored_does_not_fail_the_delivered_alert(lambda_env):
    """SNS and Firehose took the alert but the flag update keeps failing: the record is acknowledged
    (failing it would deliver the alert again on the retry) and the stale flag is reported."""
    h = lambda_env["handler"]
    runtime = h.runtime()
    ddb = runtime.clients["dynamodb"]
    transact = ddb.transact_write_items
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")

    def fail_flag_updates(**kwargs):
        if any("Update" in entry for entry in kwargs["TransactItems"]):
            raise throttled
        return transact(**kwargs)

    with mock.patch.object(ddb, "transact_write_items", side_effect=fail_flag_updates) as patched, \
            mock.patch.object(runtime.engine._sink, "_sleep"):
        response = h.lambda_handler(_event([_row("t1", 1), _row("t2", 2)]), Context())
    assert response == {"batchItemFailures": []}
    updates = [c for c in patched.call_args_list if "Update" in c.kwargs["TransactItems"][0]]
    assert len(updates) == 3  # MARK_ATTEMPTS
    assert len(_drain(lambda_env["sqs"], lambda_env["watch"])) == 1
    [alert] = _alerts(lambda_env["ddb"])
    assert alert["sns_published"] == {"BOOL": False} and alert["s3_landed"] == {"BOOL": False}
