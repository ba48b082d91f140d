"""Changes of core.transactions into the transactions stream as DMS's Kinesis target sends them:
one JSON envelope per row change, {"data": row, "metadata": {...}}, partitioned by the originator
account (names.REALTIME_PARTITION_KEY) so one account's changes stay in order on one shard.

Beside data records DMS puts control records on the stream (`record-type` "control", no `data`,
partition key the task id): when a task starts it creates its control table, and table and
column changes follow. The replicator sends the start-up one each time it starts streaming, so
every local run exercises the consumers' handling of them (DMS User Guide, "Using Amazon Kinesis
Data Streams as a target", message format)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from botocore.exceptions import ClientError, EndpointConnectionError

from aml.errors import AmlError
from aml.local import aws
from aml.local.kinesis import put_records
from aml.replicate.columns import iso_utc, to_json
from aml.replicate.decoding import Transaction
from aml.replicate.dms_s3 import emulator_unreachable
from aml_contract import dms, names, schema

STREAMED_TABLE = schema.TRANSACTIONS
OPERATIONS = {"I": "insert", "U": "update", "D": "delete"}


def envelopes(transactions: list[Transaction]) -> list[tuple[str, bytes]]:
    """(partition key, JSON bytes) per change of the streamed table, in commit order. A delete
    carries only the primary key (unless REPLICA IDENTITY FULL), so it falls back to that key."""
    out = []
    columns = STREAMED_TABLE.columns
    for txn in transactions:
        for change in txn.changes:
            if change.table != STREAMED_TABLE.name:
                continue
            data = {c.name: to_json(c, value) for c, value in zip(columns, change.row, strict=True)}
            envelope = {"data": data, "metadata": {
                "timestamp": iso_utc(txn.commit_ts), "record-type": "data",
                "operation": OPERATIONS[change.op], "partition-key-type": "primary-key",
                "schema-name": schema.SOURCE_SCHEMA, "table-name": STREAMED_TABLE.name,
                "transaction-id": txn.xid}}
            if change.op == "U":  # BeforeImageSettings, ColumnFilter pk-only: the key before the update
                pk = STREAMED_TABLE.primary_key
                envelope[dms.BEFORE_IMAGE_FIELD] = {pk: change.old_key or data[pk]}
            key = data.get(names.REALTIME_PARTITION_KEY) or data[STREAMED_TABLE.primary_key]
            out.append((str(key), json.dumps(envelope, separators=(",", ":")).encode()))
    return out


def control_record(task_id: str, operation: str, table_name: str = dms.CONTROL_TASK_TABLE,
                   schema_name: str = "", now: datetime | None = None) -> tuple[str, bytes]:
    """(partition key, JSON bytes) of a DMS control record: no `data`, partitioned by task id.
    DMS leaves schema-name empty for its own control table."""
    envelope = {"metadata": {
        "timestamp": iso_utc(now or datetime.now(UTC)), "record-type": dms.RECORD_TYPE_CONTROL,
        "operation": operation, "partition-key-type": "task-id",
        "schema-name": schema_name, "table-name": table_name}}
    return task_id, json.dumps(envelope, separators=(",", ":")).encode()


class TransactionStream:
    def __init__(self, stream_name: str):
        self.stream_name = stream_name
        self.kinesis = aws.client("kinesis")

    def check(self) -> None:
        try:
            self.kinesis.describe_stream_summary(StreamName=self.stream_name)
        except EndpointConnectionError as err:
            raise emulator_unreachable(err) from None
        except ClientError as err:
            if err.response["Error"]["Code"] == "ResourceNotFoundException":
                raise AmlError(f"the Kinesis stream {self.stream_name!r} does not exist at {aws.endpoint_url()}",
                               "deploy the stacks or create the local resources, or pass the right --env") from None
            raise

    def put(self, records: list[tuple[str, bytes]]) -> int:
        """PutRecords in chunks, re-sending only the records that failed, with backoff."""
        put_records(self.kinesis, self.stream_name, records,
                    hint="check the stream's capacity; the replicator resumes from its slot when restarted")
        return len(records)
