"""`aml stream replay FILE.jsonl`: each line into Kinesis, through the poller and the rules
handler, and each alert raised printed as one JSON line."""
from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pandas as pd
from botocore.exceptions import EndpointConnectionError

from aml.errors import AmlError
from aml.local import aws, resources
from aml.local.kinesis import put_records
from aml.stream.poller import DEFAULT_BATCH_SIZE, Poller, PollStats
from aml_contract import names
from lambdas.realtime_rules.alerts import ALERT_COLUMNS, row_from_item

log = logging.getLogger(__name__)
KINESIS_MAX_RECORD_BYTES = 1024 * 1024
FALLBACK_PARTITION_KEY = "unparseable"  # lines without an originator still go through the stream


@dataclass
class ReplayResult:
    sent: int = 0
    stats: PollStats = field(default_factory=PollStats)
    alerts: list[dict] = field(default_factory=list)  # raised by this replay
    dead_lettered: int = 0  # records this replay put in the dead-letter queue (poison)
    dlq_url: str = ""


def local_handler(res: resources.LocalResources) -> Callable[[dict, object], dict]:
    """The Lambda handler configured as the streaming stack configures the function."""
    os.environ.update(resources.lambda_environment(res))
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    from lambdas.realtime_rules import handler

    handler.logger.registered_handler.setStream(_CurrentStderr())
    return handler.lambda_handler


@contextmanager
def quiet_function_output() -> Iterator[None]:
    """Keep the function's per-batch JSON logs (below WARNING) and EMF metrics (CloudWatch's
    format) off a command's own progress output, for the block only: the logger's level and the
    environment are restored afterwards, so nothing run later in the same process (a test, another
    command) inherits a muted function. Enter it after `local_handler`, which configures Powertools."""
    logger = logging.getLogger(names.RULES_SERVICE)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with mock.patch.dict(os.environ, {"POWERTOOLS_METRICS_DISABLED": "true"}):
            yield
    finally:
        logger.setLevel(level)


class _CurrentStderr:
    """Whatever sys.stderr is at write time (a test's capture, since closed, must not stick)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def partition_key(line: bytes) -> str:
    """The originator account, as DMS partitions the stream (envelope or plain row)."""
    try:
        body = json.loads(line)
    except ValueError:
        return FALLBACK_PARTITION_KEY
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    value = body.get(names.REALTIME_PARTITION_KEY) if isinstance(body, dict) else None
    return str(value) if value not in (None, "") else FALLBACK_PARTITION_KEY


def read_lines(path: Path) -> list[bytes]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise AmlError(f"cannot read {path}: {err.strerror}", "pass a JSON Lines file, one record per line") from err
    lines = [line for line in raw.splitlines() if line.strip()]
    if lines and not any(_is_json_object(line) for line in lines):
        raise AmlError(f"{path} holds no JSON Lines record: no line is a JSON object (the first starts "
                       f"{lines[0][:40]!r})", "pass one JSON object per line (a DMS envelope or a plain "
                       "transaction); convert a CSV, a JSON array or a Parquet file first")
    too_big = [i + 1 for i, line in enumerate(lines) if len(line) > KINESIS_MAX_RECORD_BYTES]
    if too_big:
        raise AmlError(f"{path}: line(s) {too_big[:5]} exceed Kinesis' 1 MiB record limit")
    return lines


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def queue_depth(queue_url: str) -> int:
    """Messages in the queue, visible or in flight (SQS GetQueueAttributes; exact on the emulator)."""
    names_ = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=names_)["Attributes"]
    return sum(int(attributes.get(n, 0)) for n in names_)


def transaction_lines(transactions: pd.DataFrame) -> list[bytes]:
    """Rows of a transactions frame (e.g. a generated bank's) as plain JSON lines, in booked_at order,
    the way a producer puts them on the stream."""
    ordered = transactions.sort_values(["booked_at", "transaction_id"], kind="stable")
    return [json.dumps({k: _json_value(v) for k, v in row.items()}).encode() for row in ordered.to_dict("records")]


def _json_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, int | float | str) else str(value)


def put_lines(stream: str, lines: list[bytes]) -> dict[str, str]:
    """Put the lines in order; return the first sequence number written to each shard."""
    first: dict[str, str] = {}
    for record in put_records(aws.client("kinesis"), stream, [(partition_key(line), line) for line in lines]):
        shard, seq = record["ShardId"], record["SequenceNumber"]
        if shard not in first or int(seq) < int(first[shard]):
            first[shard] = seq
    return first


def alert_rows(table: str) -> dict[str, dict]:
    """alert id -> the alert's curated columns (transaction ids sorted), for every alert in the table."""
    rows = {}
    for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            stored = row_from_item(item)
            row = {c: stored[c] for c in ALERT_COLUMNS}
            row["transaction_ids"] = sorted(row["transaction_ids"])
            rows[row["alert_id"]] = row
    return rows


def replay(path: Path, env_name: str = "local", batch_size: int = DEFAULT_BATCH_SIZE) -> ReplayResult:
    lines = read_lines(path)
    res = resources.existing(env_name)
    try:
        before = set(alert_rows(res.alerts_table))
        queued = queue_depth(res.dlq_url)
        result = ReplayResult(sent=len(lines), dlq_url=res.dlq_url)
        if lines:
            start_at = put_lines(res.stream_name, lines)
            result.stats = Poller(res.stream_name, local_handler(res), batch_size=batch_size,
                                  on_failure_queue_url=res.dlq_url).drain(start_at)
        after = alert_rows(res.alerts_table)
        result.dead_lettered = queue_depth(res.dlq_url) - queued
    except EndpointConnectionError as err:
        raise AmlError(f"the AWS emulator at {aws.endpoint_url()} is not reachable", "run `aml local up`") from err
    result.alerts = sorted((row for aid, row in after.items() if aid not in before),
                           key=lambda r: (r["event_time"], r["rule_id"], r["alert_id"]))
    return result
