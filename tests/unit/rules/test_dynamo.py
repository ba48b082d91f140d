"""Bulk reads and conditional writes (lambdas.realtime_rules.dynamo): calls per 100 items, and each
item's own outcome whatever its neighbours' (moto in-process, plus a scripted client for the
answers moto does not give)."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aml.local import moto_server
from lambdas.realtime_rules import dynamo


@pytest.fixture()
def ddb(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # in-process moto, not a server another test chose
    moto_server.apply()  # moto's own transactions copy the table per item: slow, same result
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        yield client


def _counting(client) -> list[str]:
    calls = []
    client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


def _new(pk: str, payload: str = "x") -> dict:
    return {"Put": {"TableName": "t", "Item": {"pk": {"S": pk}, "v": {"S": payload}},
                    "ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def test_writes_250_items_in_three_transactions_and_reads_them_in_three_calls(ddb):
    calls = _counting(ddb)
    outcome = dynamo.write_all(ddb, [_new(f"k{i}") for i in range(250)])
    assert outcome.written == set(range(250)) and not outcome.rejected and not outcome.failed
    items = dynamo.get_all(ddb, "t", [{"pk": {"S": f"k{i}"}} for i in range(260)])  # 10 never written
    assert sorted(i["pk"]["S"] for i in items) == sorted(f"k{i}" for i in range(250))
    assert calls == ["TransactWriteItems"] * 3 + ["BatchGetItem"] * 3


def test_an_item_whose_condition_fails_is_rejected_with_the_stored_item_and_the_others_are_written(ddb):
    ddb.put_item(TableName="t", Item={"pk": {"S": "k1"}, "v": {"S": "first"}})
    calls = _counting(ddb)
    outcome = dynamo.write_all(ddb, [_new("k0"), _new("k1", "second"), _new("k2")])
    assert outcome.written == {0, 2} and not outcome.failed
    assert outcome.rejected == {1: {"pk": {"S": "k1"}, "v": {"S": "first"}}}
    assert calls == ["TransactWriteItems", "TransactWriteItems"]  # the cancelled one, then the other two
    stored = {i["pk"]["S"]: i["v"]["S"] for i in ddb.scan(TableName="t")["Items"]}
    assert stored == {"k0": "x", "k1": "first", "k2": "x"}


def test_large_items_are_split_under_the_request_size_limit(ddb, monkeypatch):
    operations = [_new(f"k{i}", "y" * 300) for i in range(6)]
    assert dynamo._approximate_bytes(operations[0]) > 300
    monkeypatch.setattr(dynamo, "TRANSACT_BYTES", 2 * dynamo._approximate_bytes(operations[0]))  # two a call
    calls = _counting(ddb)
    outcome = dynamo.write_all(ddb, operations)
    assert outcome.written == set(range(6)) and calls == ["TransactWriteItems"] * 3


class _Scripted:
    """A client whose transact_write_items answers from a script: an exception or None (success)."""

    def __init__(self, *answers):
        self.answers, self.requests = list(answers), []

    def transact_write_items(self, TransactItems):  # noqa: N803 (boto3's name)
        self.requests.append([op["Put"]["Item"]["pk"]["S"] for op in TransactItems])
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer


def _cancelled(*codes: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": c} for c in codes]}, "TransactWriteItems")


def test_an_item_throttled_inside_a_transaction_fails_alone():
    client = _Scripted(_cancelled("None", "ThrottlingError", "TransactionConflict", "None"), None)
    outcome = dynamo.write_all(client, [_new(f"k{i}") for i in range(4)])
    assert outcome.written == {0, 3} and outcome.rejected == {2: None}
    assert list(outcome.failed) == [1] and "ThrottlingError" in outcome.failed[1]
    assert client.requests == [["k0", "k1", "k2", "k3"], ["k0", "k3"]]


def test_a_whole_call_error_fails_every_item_of_its_transaction():
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                            "TransactWriteItems")
    outcome = dynamo.write_all(_Scripted(throttled), [_new("k0"), _new("k1")])
    assert not outcome.written and set(outcome.failed) == {0, 1}


def test_a_cancellation_without_a_reason_does_not_loop():
    outcome = dynamo.write_all(_Scripted(_cancelled("None", "None")), [_new("k0"), _new("k1")])
    assert not outcome.written and set(outcome.failed) == {0, 1}


def test_a_full_chunk_is_written_while_the_caller_still_produces_the_rest(ddb):
    """With an executor's map, the first 100 operations are written before the generator is asked
    for the 101st: the writes overlap the caller's own work (the engine evaluating accounts)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Event

    first_written = Event()
    ddb.meta.events.register("after-call.dynamodb.TransactWriteItems", lambda **_: first_written.set())

    def produced():
        for i in range(250):
            if i == dynamo.TRANSACT_LIMIT:
                assert first_written.wait(10), "the first chunk was not written before the rest was produced"
            yield _new(f"k{i}")

    with ThreadPoolExecutor(4) as pool:
        outcome = dynamo.write_all(ddb, produced(), pool.map)
    assert outcome.written == set(range(250)) and not outcome.rejected and not outcome.failed
    assert ddb.scan(TableName="t", Select="COUNT")["Count"] == 250
