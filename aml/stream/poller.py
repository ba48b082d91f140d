"""A local stand-in for Lambda's Kinesis event source mapping.

Reads each shard of a stream in the emulator, builds the event Lambda builds and calls the handler.
What happens next follows the mapping's settings (`aml.stream.mapping`, read from the synthesized
template) and Lambda's documented contract (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
"Error handling"; the response shapes: `aml.stream.batch_response`):
- a batch item failure re-delivers from the lowest failed sequence number (only the rest of the
  batch: with BisectBatchOnFunctionError, Lambda splits the batch there);
- a handler error, or a response Lambda reads as a complete failure, retries the batch; with
  BisectBatchOnFunctionError the batch is split in two halves, each retried on its own;
- after MaximumRetryAttempts retries of a (part of a) batch, and for records older than
  MaximumRecordAgeInSeconds, the records are skipped and, when the mapping has an on-failure
  destination, a message describing them (`KinesisBatchInfo`) goes to the rules DLQ, as Lambda
  sends it to the mapping's SQS destination.
"""
from __future__ import annotations

import base64
import contextlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aml.errors import AmlError
from aml.local import aws
from aml.stream.batch_response import PARTIAL, read_response
from aml.stream.mapping import MappingSettings
from aml_contract import names

log = logging.getLogger(__name__)
# Records per handler invocation. Lambda's Kinesis event source mapping allows up to 10,000 with a
# batching window; 500 is what the streaming stack should configure (StreamingSettings.batch_size):
# the per-batch fixed cost (GetRecords, the idempotency record) is spread over more records and an
# account touched twice in a batch is read and written once.
DEFAULT_BATCH_SIZE = 500
FUNCTION_NAME = names.name_of("local", "rules_function")
# Lambda polls each shard of a standard-iterator mapping once a second when it has caught up
# (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Polling and batching streams").
POLL_SECONDS = 1.0
_IDLE = object()  # what a followed shard's generator yields when GetRecords returned nothing


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that the handler (and Powertools) read."""

    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{aws.DEFAULT_REGION}:{aws.ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass
class PollStats:
    batches: int = 0
    records_delivered: int = 0
    redeliveries: int = 0
    handler_errors: int = 0
    abandoned: list[str] = field(default_factory=list)  # sequence numbers given up on
    expired: int = 0  # records skipped for their age
    on_failure_messages: list[dict] = field(default_factory=list)  # what went to the on-failure destination


def lambda_event(records: list[dict], shard_id: str, stream_arn: str, region: str) -> dict:
    """The event Lambda passes for Kinesis records returned by GetRecords."""
    return {"Records": [{
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r["PartitionKey"],
            "sequenceNumber": r["SequenceNumber"],
            "data": base64.b64encode(r["Data"]).decode(),
            "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{r['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{aws.ACCOUNT_ID}:role/{FUNCTION_NAME}",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    } for r in records]}


# The mapping the poller follows when no deployed template is found (resources created without
# `cdk deploy`): what the streaming stack declares, with Lambda's record age left unlimited.
LOCAL_MAPPING = MappingSettings(batch_size=DEFAULT_BATCH_SIZE, bisect_on_error=True, max_retry_attempts=9,
                                max_record_age_seconds=-1, report_batch_item_failures=True,
                                on_failure_destination=True)


def deployed_mapping() -> MappingSettings:
    """The event source mapping of the templates `cdk deploy` put into the local emulator."""
    from aml.local import services

    try:
        return MappingSettings.from_cloud_assembly(services.LOCAL_DIR / "cdk.out")
    except AmlError:
        return LOCAL_MAPPING


class Poller:
    def __init__(self, stream_name: str, handler: Callable[[dict, LambdaContext], dict], *,
                 batch_size: int | None = None, max_attempts: int | None = None,
                 mapping: MappingSettings | None = None, on_failure_queue_url: str | None = None,
                 clock: Callable[[], float] = time.time):
        self._kinesis = aws.client("kinesis")
        self._stream = stream_name
        self._handler = handler
        mapping = mapping or deployed_mapping()
        if batch_size is not None:
            mapping = replace(mapping, batch_size=batch_size)
        if max_attempts is not None:  # deliveries = the first one + the retries
            mapping = replace(mapping, max_retry_attempts=max_attempts - 1)
        self.mapping = mapping
        self._on_failure_queue_url = on_failure_queue_url
        self._clock = clock
        summary = self._kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self._arn = summary["StreamARN"]
        self._region = self._kinesis.meta.region_name

    def shard_ids(self) -> list[str]:
        return [s["ShardId"] for s in self._kinesis.list_shards(StreamName=self._stream)["Shards"]]

    def drain(self, start_at: dict[str, str] | None = None, since: datetime | None = None) -> PollStats:
        """Deliver every record of every shard (from `start_at[shard]`, a sequence number; else from
        the first record that arrived at or after `since`, as an AT_TIMESTAMP starting position;
        else from the oldest record) until each shard has nothing more to read."""
        return self._run(start_at, since, None, 0.0)

    def follow(self, stop: Callable[[], bool], since: datetime | None = None,
               poll_seconds: float = POLL_SECONDS) -> PollStats:
        """Deliver records as they arrive, from the first that arrived at or after `since` (else the
        oldest), until `stop()` is true. A round in which no shard had a record waits `poll_seconds`
        before the next GetRecords, as Lambda's poller does once it has caught up; while records
        keep coming, batches follow one another without a wait. The mapping's batching window is
        not applied: a batch is what one GetRecords returned."""
        return self._run(None, since, stop, poll_seconds)

    def _run(self, start_at: dict[str, str] | None, since: datetime | None,
             stop: Callable[[], bool] | None, poll_seconds: float) -> PollStats:
        stats = PollStats()
        # Shards advance together, one batch each in turn, as Lambda runs one invocation per shard
        # concurrently: draining one shard before the next would put records of the later shards
        # days behind the accounts' watermarks (the stream is partitioned by originator account).
        shards = [self._drain_shard(shard_id, (start_at or {}).get(shard_id), stats, since, stop)
                  for shard_id in self.shard_ids()
                  if start_at is None or shard_id in start_at]  # else nothing of ours in the shard
        while shards:
            busy = False
            for shard in list(shards):
                step = next(shard, StopIteration)
                if step is StopIteration:
                    shards.remove(shard)
                busy = busy or step is None
            if shards and not busy:
                time.sleep(poll_seconds)
        return stats

    def _iterator(self, shard_id: str, sequence_number: str | None, after: bool = False,
                  since: datetime | None = None) -> str:
        kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        if since is not None:
            kwargs = {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": since}
        if sequence_number:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER" if after else "AT_SEQUENCE_NUMBER",
                      "StartingSequenceNumber": sequence_number}
        return self._kinesis.get_shard_iterator(StreamName=self._stream, ShardId=shard_id, **kwargs)["ShardIterator"]

    def _drain_shard(self, shard_id: str, position: str | None, stats: PollStats,
                     since: datetime | None = None, stop: Callable[[], bool] | None = None) -> Iterator[object]:
        """Deliver the shard's records, batch by batch; yields None after each handler invocation.
        Ends when the shard has nothing more to read, or, when followed (`stop` given), yields
        _IDLE then and ends only once `stop()` is true."""
        iterator = self._iterator(shard_id, position, since=since)
        while True:
            response = self._kinesis.get_records(ShardIterator=iterator, Limit=self.mapping.batch_size)
            records = response["Records"]
            if not records:
                if stop is None or stop():
                    return
                yield _IDLE
                iterator = response["NextShardIterator"]
                continue
            now = self._clock()
            expired = [r for r in records if self.mapping.too_old(now - r["ApproximateArrivalTimestamp"].timestamp())]
            if expired:
                stats.expired += len(expired)
                self._report(expired, shard_id, "RecordAgeExceeded", 0, stats)
                records = [r for r in records if r not in expired]
            yield from self._deliver(records, shard_id, stats)
            # The whole fetched batch is settled (delivered, or skipped and reported): move on.
            iterator = response["NextShardIterator"]

    def _deliver(self, records: list[dict], shard_id: str, stats: PollStats) -> Iterator[None]:
        pending = [(records, 0)] if records else []  # (records, retries done so far)
        while pending:
            batch, retries = pending.pop(0)
            outcome = self._invoke(batch, shard_id, stats)
            yield
            if not outcome.failed:
                continue
            if not self.mapping.retries_left(retries):
                log.error("shard %s: giving up on %d record(s) from %s after %d retries",
                          shard_id, len(batch), batch[0]["SequenceNumber"], retries)
                stats.abandoned.append(batch[0]["SequenceNumber"])
                self._report(batch, shard_id, "RetryAttemptsExhausted", retries + 1, stats)
                continue
            stats.redeliveries += 1
            time.sleep(min(0.05 * 2 ** retries, 1.0))
            if outcome.kind == PARTIAL:
                rest = [r for r in batch if int(r["SequenceNumber"]) >= int(outcome.retry_from)]
                pending.insert(0, (rest, retries + 1))
            elif self.mapping.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                pending[0:0] = [(batch[:half], retries + 1), (batch[half:], retries + 1)]
            else:
                pending.insert(0, (batch, retries + 1))

    def _invoke(self, records: list[dict], shard_id: str, stats: PollStats):
        """Call the handler; the outcome Lambda reads from what it returned (or raised)."""
        event = lambda_event(records, shard_id, self._arn, self._region)
        stats.batches += 1
        stats.records_delivered += len(records)
        sequence_numbers = [r["SequenceNumber"] for r in records]
        try:
            # Lambda code logs and emits metrics on stdout; here stdout belongs to the CLI's output.
            with contextlib.redirect_stdout(sys.stderr):
                response = self._handler(event, LambdaContext())
        except Exception:  # the function erred: a complete failure
            log.exception("handler raised on the batch from %s", sequence_numbers[0])
            stats.handler_errors += 1
            response = {"batchItemFailures": [{"itemIdentifier": None}]}
        if not self.mapping.report_batch_item_failures:
            response = None  # Lambda ignores the response of a mapping that does not ask for it
        outcome = read_response(response, sequence_numbers)
        if outcome.reason:
            log.error("batch from %s is a complete failure: %s", sequence_numbers[0], outcome.reason)
        return outcome

    def _report(self, records: list[dict], shard_id: str, condition: str, invokes: int, stats: PollStats) -> None:
        """The on-failure destination's record of skipped records (the shape Lambda sends to SQS)."""
        if not self.mapping.on_failure_destination:
            return
        message = {
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": condition,
                               "approximateInvokeCount": invokes,
                               "functionArn": LambdaContext().invoked_function_arn},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "KinesisBatchInfo": {
                "shardId": shard_id, "startSequenceNumber": records[0]["SequenceNumber"],
                "endSequenceNumber": records[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": records[0]["ApproximateArrivalTimestamp"].isoformat(),
                "approximateArrivalOfLastRecord": records[-1]["ApproximateArrivalTimestamp"].isoformat(),
                "batchSize": len(records), "streamArn": self._arn},
        }
        stats.on_failure_messages.append(message)
        if self._on_failure_queue_url:
            aws.client("sqs").send_message(QueueUrl=self._on_failure_queue_url, MessageBody=json.dumps(message))
