"""The local event source mapping against Lambda's documented contract, on a stream in the local
emulator: partial-batch response shapes, bisect on error, retry attempts, record age and the
on-failure destination, with the settings of a mapping as a template declares them."""
from __future__ import annotations

import base64
import json

import pytest

from aml.local import aws
from aml.stream.mapping import MappingSettings
from aml.stream.poller import Poller

DEPLOYED = MappingSettings(batch_size=10, bisect_on_error=True, max_retry_attempts=2, max_record_age_seconds=3600,
                           report_batch_item_failures=True, on_failure_destination=True)


@pytest.fixture
def stream(local_services, unique_name):
    kinesis = aws.client("kinesis")
    name = unique_name("poller")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    for i in range(6):
        kinesis.put_record(StreamName=name, Data=json.dumps({"n": i}).encode(), PartitionKey="k")
    queue = aws.client("sqs").create_queue(QueueName=unique_name("on-failure"))["QueueUrl"]
    yield name, queue
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    aws.client("sqs").delete_queue(QueueUrl=queue)


class Recorder:
    """A handler that records what it was given and answers with `respond(batch of n values)`."""

    def __init__(self, respond):
        self.respond, self.calls = respond, []

    def __call__(self, event, context):
        batch = [(r["kinesis"]["sequenceNumber"], json.loads(base64.b64decode(r["kinesis"]["data"]))["n"])
                 for r in event["Records"]]
        self.calls.append([n for _, n in batch])
        return self.respond(batch)


def _drain(name, queue, handler, mapping=DEPLOYED, **kwargs):
    return Poller(name, handler, mapping=mapping, on_failure_queue_url=queue, **kwargs).drain()


def _on_failure_messages(queue):
    got = aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
                         ids=["null", "empty_response", "empty_list", "null_list"])
def test_success_shapes_deliver_once(stream, response):
    name, queue = stream
    handler = Recorder(lambda batch: response)
    stats = _drain(name, queue, handler)
    assert handler.calls == [[0, 1, 2, 3, 4, 5]] and stats.redeliveries == 0


def test_partial_failure_redelivers_from_the_lowest_failed_record(stream):
    name, queue = stream
    failed = {4, 2}

    def respond(batch):
        bad = [{"itemIdentifier": seq} for seq, n in batch if n in failed]
        failed.clear()  # succeeds when delivered again
        return {"batchItemFailures": bad}

    handler = Recorder(respond)
    stats = _drain(name, queue, handler)
    assert handler.calls == [[0, 1, 2, 3, 4, 5], [2, 3, 4, 5]] and stats.redeliveries == 1


@pytest.mark.parametrize("bad", [{"itemIdentifier": None}, {"itemIdentifier": ""}, {"itemIdentifier": "999"},
                                 {"ItemIdentifier": "x"}, "malformed"],
                         ids=["null_identifier", "empty_identifier", "unknown_identifier", "bad_key", "malformed"])
def test_complete_failure_shapes_bisect_retry_then_go_to_the_on_failure_destination(stream, bad):
    name, queue = stream
    handler = Recorder(lambda batch: bad if bad == "malformed" else {"batchItemFailures": [bad]})
    stats = _drain(name, queue, handler)
    # bisected on each failure; a part retried max_retry_attempts (2) times is skipped and reported
    assert handler.calls == [[0, 1, 2, 3, 4, 5], [0, 1, 2], [0], [1, 2], [3, 4, 5], [3], [4, 5]]
    messages = _on_failure_messages(queue)
    assert [m["KinesisBatchInfo"]["batchSize"] for m in messages] == [1, 2, 1, 2]
    assert {m["requestContext"]["condition"] for m in messages} == {"RetryAttemptsExhausted"}
    assert len(stats.abandoned) == len(messages)


def test_handler_error_without_bisect_retries_the_whole_batch_max_retry_attempts_times(stream):
    name, queue = stream

    def boom(batch):
        raise RuntimeError("function error")

    handler = Recorder(boom)
    mapping = MappingSettings(**{**DEPLOYED.__dict__, "bisect_on_error": False})
    stats = _drain(name, queue, handler, mapping=mapping)
    assert handler.calls == [[0, 1, 2, 3, 4, 5]] * 3 and stats.handler_errors == 3
    [message] = _on_failure_messages(queue)
    assert message["KinesisBatchInfo"]["batchSize"] == 6
    assert message["requestContext"]["approximateInvokeCount"] == 3


def test_records_older_than_the_maximum_age_are_skipped_and_reported(stream):
    name, queue = stream
    handler = Recorder(lambda batch: None)
    stats = _drain(name, queue, handler, clock=lambda: 10 ** 10)  # far in the future: every record too old
    assert handler.calls == [] and stats.expired == 6
    [message] = _on_failure_messages(queue)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
