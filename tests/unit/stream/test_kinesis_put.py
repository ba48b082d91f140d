"""aml.local.kinesis.put_records, the PutRecords of the replicator and of `aml stream replay`:
chunks of the API's maximum, only rejected records re-sent, results in the caller's order."""
import pytest

from aml.errors import AmlError
from aml.local.kinesis import PUT_RECORDS_LIMIT, put_records


class ScriptedKinesis:
    """Accepts every record, except that each key in `rejections` is throttled that many times."""

    def __init__(self, rejections: dict[str, int] | None = None):
        self.rejections = dict(rejections or {})
        self.calls: list[list[str]] = []
        self.sequence = 0

    def put_records(self, StreamName, Records):  # noqa: N803 (boto3's names)
        assert len(Records) <= PUT_RECORDS_LIMIT
        self.calls.append([r["PartitionKey"] for r in Records])
        answers = []
        for record in Records:
            key = record["PartitionKey"]
            if self.rejections.get(key, 0) > 0:
                self.rejections[key] -= 1
                answers.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"})
            else:
                self.sequence += 1
                answers.append({"ShardId": "shardId-0", "SequenceNumber": str(self.sequence), "key": key})
        return {"FailedRecordCount": sum("ErrorCode" in a for a in answers), "Records": answers}


def test_records_go_in_chunks_of_the_api_maximum_and_results_keep_their_order():
    kinesis = ScriptedKinesis()
    records = [(f"k{i}", b"x") for i in range(PUT_RECORDS_LIMIT * 2 + 1)]
    results = put_records(kinesis, "s", records)
    assert [len(c) for c in kinesis.calls] == [PUT_RECORDS_LIMIT, PUT_RECORDS_LIMIT, 1]
    assert [r["key"] for r in results] == [k for k, _ in records]


def test_only_rejected_records_are_sent_again():
    kinesis = ScriptedKinesis({"b": 2})
    sleeps = []
    results = put_records(kinesis, "s", [("a", b"1"), ("b", b"2"), ("c", b"3")], sleep=sleeps.append)
    assert kinesis.calls == [["a", "b", "c"], ["b"], ["b"]]
    assert [r["key"] for r in results] == ["a", "b", "c"] and len(sleeps) == 2


def test_records_still_rejected_after_the_last_attempt_raise_with_the_hint():
    kinesis = ScriptedKinesis({"b": 10})
    with pytest.raises(AmlError, match=r"1 records could not be written to stream 's' after 3 attempts") as err:
        put_records(kinesis, "s", [("a", b"1"), ("b", b"2")], hint="check capacity", max_attempts=3,
                    sleep=lambda _: None)
    assert err.value.hint == "check capacity" and len(kinesis.calls) == 3
