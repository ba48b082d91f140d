"""Orchestration: the DMS full-load-and-cdc task, locally.

Ordering is what makes a kill at any point safe: the slot is created before the full load (so no
change is missed; one committed meanwhile may appear in both, as with DMS, and the Glue job keeps
the latest per key), and in CDC a batch is written to S3 and Kinesis *before* the slot advances
past it. A restart re-reads an unacknowledged batch and rewrites the same S3 keys; Kinesis
consumers may see such records twice (at-least-once, as with DMS).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime

from aml.local.resources import LocalResources
from aml.replicate import decoding, source
from aml.replicate.dms_kinesis import TransactionStream, control_record, envelopes
from aml.replicate.dms_s3 import RawZone
from aml_contract import dms, names, schema

log = logging.getLogger(__name__)
DEFAULT_SLOT = "aml_dms_local"
STREAM_TASK_ID = names.name_of("local", "stream_task")  # the partition key of control records
IDLE_POLL_SECONDS = 0.5
PROGRESS_SECONDS = 5


class Replicator:
    def __init__(self, db_url: str, resources: LocalResources, slot_name: str = DEFAULT_SLOT, *,
                 batch_changes: int = 5000, load_chunk_rows: int = 50_000, load_file_rows: int = 500_000):
        self.db_url = db_url
        self.resources = resources
        self.slot_name = slot_name
        self.batch_changes = batch_changes
        self.load_chunk_rows = load_chunk_rows
        self.load_file_rows = load_file_rows
        self.control_records_sent = 0  # DMS control records put on the stream by this replicator

    @contextmanager
    def _session(self, targets: bool = True):
        """A locked slot on a checked source, and checked targets: every precondition fails
        before anything is written."""
        conn = source.connect(self.db_url)
        try:
            source.check_wal_level(conn)
            source.check_replicable_keys(conn)
            slot = source.Slot(conn, self.slot_name)
            slot.lock()
            raw = stream = None
            if targets:
                raw, stream = RawZone(self.resources.raw_bucket), TransactionStream(self.resources.stream_name)
                raw.check()
                stream.check()
            yield slot, raw, stream
        finally:
            conn.close()  # also releases the session's advisory lock

    def full_load(self) -> dict[str, int]:
        """Create the slot (unless it exists), then load every source table as of one snapshot
        into LOAD*.parquet files. Returns rows per table."""
        counts = {}
        with self._session() as (slot, raw, _):
            # DMS stamps full-load rows with the task's start (dms.FULL_LOAD_TIMESTAMP), taken
            # before the slot exists: every change the slot then captures is stamped later.
            task_start = datetime.now(UTC) if dms.FULL_LOAD_TIMESTAMP == "task-start" else None
            slot.ensure()
            with source.snapshot(self.db_url) as snap:
                for table in schema.SOURCE_TABLES.values():
                    started = time.perf_counter()
                    chunks = source.read_table(snap, table, self.load_chunk_rows)
                    rows, files = raw.write_load(table, chunks, self.load_file_rows, stamp=task_start)
                    counts[table.name] = rows
                    log.info("full load %s: %d rows in %d files (%.1f s)", table.name, rows, files,
                             time.perf_counter() - started)
        return counts

    def cdc(self, until_idle: bool = True, max_seconds: float | None = None) -> dict[str, dict[str, int]]:
        """Replicate committed changes batch by batch. Stops when no change is pending
        (until_idle), after max_seconds, or never. Returns counts per table and op (I|U|D)."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(schema.DMS_OPS, 0))
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        totals = {"transactions": 0, "files": 0, "records": 0, "control_records": 0}
        last_progress = time.monotonic()
        with self._session() as (slot, raw, stream):
            slot.require()
            # A (re)started DMS task announces itself with a control record before any data.
            totals["control_records"] = stream.put([control_record(STREAM_TASK_ID, "create-table")])
            self.control_records_sent += totals["control_records"]
            while deadline is None or time.monotonic() < deadline:
                if until_idle:
                    # Decoding reads only flushed WAL: without this wait, commits made just before
                    # the call could split across batches, or be missed as "idle".
                    slot.wait_for_flush()
                rows = slot.peek(self.batch_changes)
                if not rows:
                    if until_idle:
                        break
                    time.sleep(IDLE_POLL_SECONDS)
                    continue
                transactions = decoding.parse(rows)
                if not transactions:
                    raise decoding.DecodingError(f"a batch of {len(rows)} rows held no complete transaction")
                totals["files"] += len(raw.write_cdc(transactions))
                totals["records"] += stream.put(envelopes(transactions))
                slot.advance(decoding.int_to_lsn(transactions[-1].commit_lsn))
                totals["transactions"] += len(transactions)
                for txn in transactions:
                    for change in txn.changes:
                        counts[change.table][change.op] += 1
                if time.monotonic() - last_progress >= PROGRESS_SECONDS:
                    log.info("cdc: %(transactions)d transactions, %(files)d files, %(records)d stream records", totals)
                    last_progress = time.monotonic()
        log.info("cdc done: %(transactions)d transactions, %(files)d files, %(records)d stream records, "
                 "%(control_records)d control records", totals)
        return {table: dict(ops) for table, ops in counts.items()}

    def status(self) -> dict:
        """The slot as PostgreSQL reports it (None when absent), with the WAL it still holds."""
        conn = source.connect(self.db_url)
        try:
            info = source.Slot(conn, self.slot_name).info()
        finally:
            conn.close()
        return {"exists": True, **info} if info else {"slot": self.slot_name, "exists": False}

    def drop_slot(self) -> bool:
        """Drop the slot (it holds WAL on the server until dropped). False when it did not exist."""
        with self._session(targets=False) as (slot, _, _):
            dropped = slot.drop()
        if dropped:
            log.info("dropped replication slot %s", self.slot_name)
        return dropped
