"""The raw zone exactly as the DMS S3 target writes it (Parquet, IncludeOpForFullLoad,
TimestampColumnName=dms_commit_ts, DatePartitionEnabled):

    dms/core/<table>/LOAD00000001.parquet ... LOAD0000000A.parquet   full load (hex counter), Op = I
    dms/core/<table>/YYYY/MM/DD/<yyyymmdd-HHMMSSffffff>-<LSN>.parquet  CDC, by commit date (UTC)

A CDC file name is the commit time and commit LSN of the first transaction it holds. The replicator
reads whole transactions from the slot in a fixed order, so re-processing a batch after a crash
writes the same keys (overwriting, never duplicating) whatever size the new batch has.
Deviation from DMS, on purpose: dms_commit_ts is a timestamp[us, UTC] column, not DMS's string
'yyyy-MM-dd HH:mm:ss.SSSSSS', so every reader gets the type without parsing.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError, EndpointConnectionError

from aml.arrow_types import dms_parquet_schema
from aml.errors import AmlError
from aml.local import aws
from aml.replicate.columns import record_batch
from aml.replicate.decoding import Transaction
from aml_contract import schema

log = logging.getLogger(__name__)
_LOAD_KEY = re.compile(r"LOAD([0-9A-F]{8})\.parquet")


def emulator_unreachable(err: Exception) -> AmlError:
    return AmlError(f"the AWS endpoint {aws.endpoint_url()} is not reachable ({err.__class__.__name__})",
                    "start the emulator with `aml local up`, or point AWS_ENDPOINT_URL at a running one")


def load_key(table: str, number: int) -> str:
    return f"{schema.raw_table_prefix(table)}LOAD{number:08X}.parquet"


def cdc_key(table: str, first_commit_ts: datetime, first_commit_lsn: int) -> str:
    ts = first_commit_ts.astimezone(UTC)
    return f"{schema.raw_table_prefix(table)}{ts:%Y/%m/%d}/{ts:%Y%m%d-%H%M%S%f}-{first_commit_lsn:016X}.parquet"


def _parquet(batches: Iterable[pa.RecordBatch], arrow: pa.Schema) -> bytes:
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, arrow, compression="snappy") as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


class RawZone:
    def __init__(self, bucket: str):
        self.bucket = bucket
        self.s3 = aws.client("s3")

    def check(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except EndpointConnectionError as err:
            raise emulator_unreachable(err) from None
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchBucket", "403"):
                raise AmlError(f"the raw bucket {self.bucket!r} does not exist at {aws.endpoint_url()}",
                               "deploy the stacks or run `aml local up` and create the resources "
                               "(aml.local.resources.ensure), or pass the right --env") from None
            raise

    def _put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def write_load(self, table: schema.Table, chunks: Iterator[list[tuple]], file_rows: int,
                   stamp: datetime | None = None) -> tuple[int, int]:
        """Full-load rows -> LOAD files of up to file_rows rows (Op = I; dms_commit_ts = `stamp`,
        the task's start under UseTaskStartTimeForFullLoadTimestamp, else the time the rows are
        written, DMS's default). Returns (rows, files). LOAD files of an earlier, larger load of
        the table are removed, as a reload with DROP_AND_CREATE does."""
        arrow = dms_parquet_schema(table)
        rows = files = 0
        pending: list[pa.RecordBatch] = []
        pending_rows = 0

        def flush() -> None:
            nonlocal files, pending, pending_rows
            files += 1
            self._put(load_key(table.name, files), _parquet(pending, arrow))
            pending, pending_rows = [], 0

        for chunk in chunks:
            while chunk:
                take = chunk[: file_rows - pending_rows]
                chunk = chunk[len(take):]
                now = stamp or datetime.now(UTC)
                pending.append(record_batch(table, ["I"] * len(take), [now] * len(take), take))
                pending_rows += len(take)
                rows += len(take)
                if pending_rows >= file_rows:
                    flush()
        if pending_rows:
            flush()
        self._remove_stale_load_files(table.name, files)
        return rows, files

    def _remove_stale_load_files(self, table: str, keep: int) -> None:
        prefix = schema.raw_table_prefix(table)
        stale = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{prefix}LOAD"):
            for obj in page.get("Contents", []):
                match = _LOAD_KEY.fullmatch(obj["Key"][len(prefix):])
                if match and int(match.group(1), 16) > keep:
                    stale.append({"Key": obj["Key"]})
        for start in range(0, len(stale), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": stale[start:start + 1000]})
        if stale:
            log.info("removed %d stale LOAD files of %s", len(stale), table)

    def write_cdc(self, transactions: list[Transaction]) -> list[str]:
        """One file per table and commit date, rows in commit order. Returns the keys written."""
        groups: dict[tuple[str, str], dict] = {}
        for txn in transactions:
            day = f"{txn.commit_ts:%Y-%m-%d}"
            for change in txn.changes:
                group = groups.get((change.table, day))
                if group is None:
                    group = groups[(change.table, day)] = {
                        "key": cdc_key(change.table, txn.commit_ts, txn.commit_lsn), "ops": [], "ts": [], "rows": []}
                group["ops"].append(change.op)
                group["ts"].append(txn.commit_ts)
                group["rows"].append(change.row)
        for (table_name, _), group in groups.items():
            table = schema.SOURCE_TABLES[table_name]
            batch = record_batch(table, group["ops"], group["ts"], group["rows"])
            self._put(group["key"], _parquet([batch], batch.schema))
        return [g["key"] for g in groups.values()]
