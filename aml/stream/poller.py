"""A local stand-in for Lambda's Kinesis event source mapping.

Reads each shard of a stream in the emulator, builds the event Lambda builds, calls the handler,
and honours `batchItemFailures` as Lambda does: the shard's next batch starts at the lowest failed
sequence number (records after it are delivered again too). A handler exception retries the whole
batch. After `max_attempts` deliveries of the same start position the poller gives up on it, as a
mapping with MaximumRetryAttempts would, and reports it.
"""
from __future__ import annotations

import base64
import contextlib
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from aml.errors import AmlError
from aml.local import aws

log = logging.getLogger(__name__)
# Records per handler invocation. Lambda's Kinesis event source mapping allows up to 10,000 with a
# batching window; 500 is what the streaming stack should configure (StreamingSettings.batch_size):
# the per-batch fixed cost (GetRecords, the idempotency record) is spread over more records and an
# account touched twice in a batch is read and written once.
DEFAULT_BATCH_SIZE = 500
FUNCTION_NAME = "aml-local-realtime-rules"


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


class Poller:
    def __init__(self, stream_name: str, handler: Callable[[dict, LambdaContext], dict], *,
                 batch_size: int = DEFAULT_BATCH_SIZE, max_attempts: int = 10):
        self._kinesis = aws.client("kinesis")
        self._stream = stream_name
        self._handler = handler
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        summary = self._kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self._arn = summary["StreamARN"]
        self._region = self._kinesis.meta.region_name

    def shard_ids(self) -> list[str]:
        return [s["ShardId"] for s in self._kinesis.list_shards(StreamName=self._stream)["Shards"]]

    def drain(self, start_at: dict[str, str] | None = None, since: datetime | None = None) -> PollStats:
        """Deliver every record of every shard (from `start_at[shard]`, a sequence number; else from
        the first record that arrived at or after `since`, as an AT_TIMESTAMP starting position;
        else from the oldest record) until each shard has nothing more to read."""
        stats = PollStats()
        # Shards advance together, one batch each in turn, as Lambda runs one invocation per shard
        # concurrently: draining one shard before the next would put records of the later shards
        # days behind the accounts' watermarks (the stream is partitioned by originator account).
        shards = [self._drain_shard(shard_id, (start_at or {}).get(shard_id), stats, since)
                  for shard_id in self.shard_ids()
                  if start_at is None or shard_id in start_at]  # else nothing of ours in the shard
        while shards:
            for shard in list(shards):
                if next(shard, StopIteration) is StopIteration:
                    shards.remove(shard)
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
                     since: datetime | None = None) -> Iterator[None]:
        """Deliver the shard's records; yields after each handler invocation."""
        iterator = self._iterator(shard_id, position, since=since)
        attempts: dict[str, int] = {}
        while True:
            response = self._kinesis.get_records(ShardIterator=iterator, Limit=self._batch_size)
            records = response["Records"]
            if not records:
                return
            first = records[0]["SequenceNumber"]
            attempts[first] = attempts.get(first, 0) + 1
            failed_at = self._invoke(records, shard_id, stats)
            yield
            if failed_at is None:
                iterator = response["NextShardIterator"]
                continue
            stats.redeliveries += 1
            if attempts.get(failed_at, 0) >= self._max_attempts:
                log.error("shard %s: giving up on sequence number %s after %d attempts",
                          shard_id, failed_at, attempts[failed_at])
                stats.abandoned.append(failed_at)
                iterator = self._iterator(shard_id, failed_at, after=True)
            else:
                time.sleep(min(0.05 * 2 ** attempts.get(failed_at, 0), 1.0))
                iterator = self._iterator(shard_id, failed_at)

    def _invoke(self, records: list[dict], shard_id: str, stats: PollStats) -> str | None:
        """Call the handler; return the sequence number to restart from, or None when all done."""
        event = lambda_event(records, shard_id, self._arn, self._region)
        stats.batches += 1
        stats.records_delivered += len(records)
        try:
            # Lambda code logs and emits metrics on stdout; here stdout belongs to the CLI's output.
            with contextlib.redirect_stdout(sys.stderr):
                response = self._handler(event, LambdaContext())
        except Exception:  # the function erred: Lambda retries the whole batch
            log.exception("handler raised; retrying the batch from %s", records[0]["SequenceNumber"])
            stats.handler_errors += 1
            return records[0]["SequenceNumber"]
        failures = (response or {}).get("batchItemFailures") or []
        if not failures:
            return None
        known = {r["SequenceNumber"] for r in records}
        failed = [f["itemIdentifier"] for f in failures]
        if not set(failed) <= known:
            raise AmlError(f"handler reported unknown batchItemFailures {sorted(set(failed) - known)}")
        return min(failed, key=int)
