"""One curation run: for each source table, read the new DMS files, validate, merge, protect and
stage; reconcile; then publish everything and record the files as processed."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial, reduce

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import (
    CASH_ACCOUNT_ID,
    DMS_COMMIT_TS_COLUMN,
    DMS_OP_COLUMN,
    DMS_OPS,
    PARTITION_COLUMN,
    PARTITIONED_TABLES,
    SOURCE_TABLES,
    TRANSACTIONS,
    Table,
)

from .cdc import (
    APPLIED,
    BROADCAST_KEYS_MAX,
    COPIES_COL,
    INSERTED_COL,
    LATEST_COL,
    OLD_PARTITION_COL,
    REFUSED,
    TARGET_PARTITION_COL,
    UPSERTS,
    applied_changes,
    batch_keys,
    collapse_duplicates,
    decide,
    entries_of_keys,
    next_index,
    next_rows,
    partitions_of_keys,
)
from .errors import CurationError
from .pii import protect
from .publish import publish_directory, publish_partitions, write_staged
from .raw_input import RawInput, is_full_load, load_start, new_files, read_raw, relative_name
from .run_manifest import TableFigures, reconcile
from .spark_conf import apply_job_conf
from .state import Layout, load_processed, read_index, read_parquet_or_empty, save_processed
from .storage import FileInfo, Observer, Storage
from .types import (
    COMMIT_TS_COL,
    DECISION_COL,
    DELETED_COL,
    KEY_COL,
    ORDER_COLS,
    REASON_COL,
    UNKNOWN_PARTITION,
    UNPARTITIONED,
    curated_schema,
)
from .validate import quarantine_rows, refuse, valid_rows, validate

log = logging.getLogger("aml.glue.curation")


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Log how long a step took: the per-step profile of a run (the Spark UI is off locally)."""
    started = time.monotonic()
    try:
        yield
    finally:
        log.info("step %s took %.2f s", step, time.monotonic() - started)

# Accounts before transactions: a transaction's customer pseudonyms come from the accounts'
# state as of this run (a CDC batch commonly opens an account and books on it).
TABLE_ORDER = ("customers", "accounts", "transactions")
UNKNOWN_KEY_REASON = "update_of_unknown_key"  # keys are immutable: see cdc.decide
DECISION_FIELDS = {"superseded": "superseded", "stale": "stale", "insert": "inserted", "update": "updated",
                   "delete": "deleted", "delete_unknown": "deletes_of_unknown_keys"}


@dataclass
class Run:
    spark: SparkSession
    storage: Storage
    layout: Layout
    raw_path: str
    key: bytes
    now: datetime
    processed: dict[str, set[str]] = field(default_factory=dict)  # files read by earlier runs, per table
    load_start: datetime | None = None  # where this run's full-load rows sit in history
    publications: list[Callable[[], None]] = field(default_factory=list)
    materialised: list[DataFrame] = field(default_factory=list)

    def materialise(self, df: DataFrame) -> DataFrame:
        """Compute `df` now (one Spark action: observations on its plan report) and keep its rows
        for the later actions, with the lineage cut: a local checkpoint keeps the rows as they
        are, where `persist` would first encode them into compressed column batches, which took
        longer than the rest of the merge. The price is Spark's: a lost executor loses its blocks
        and fails the run, which publishes nothing and is simply run again."""
        kept = df.localCheckpoint(eager=True)
        self.materialised.append(kept)
        return kept

    def full_load_in(self, table: str, files: list[FileInfo]) -> bool:
        """The table's full load has been read, in an earlier run or in this one."""
        names = [*self.processed.get(table, ()), *(relative_name(f.path, table) for f in files)]
        return any(is_full_load(name) for name in names)

    def release(self) -> None:
        for df in self.materialised:
            # Checkpointed blocks belong to the frame's RDD, not to the cache `unpersist` clears.
            df._jdf.queryExecution().logical().rdd().unpersist(False)
        self.materialised.clear()


def run_curation(spark: SparkSession, raw_path: str, curated_path: str, quarantine_path: str, key: bytes,
                 now: datetime | None = None, run_id: str | None = None, observe: Observer | None = None) -> dict:
    """Curate every new raw file; return (and store, and log) the run manifest. `observe` is told
    every storage access (see `storage.Storage`)."""
    apply_job_conf(spark)
    started = time.monotonic()
    now = now or datetime.now(UTC)
    run_id = run_id or f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    storage = Storage(spark, observe)
    run = Run(spark, storage, Layout(curated_path, quarantine_path, run_id), raw_path, key, now)
    processed = run.processed = load_processed(storage, run.layout)
    figures: dict[str, TableFigures] = {}
    files: dict[str, list[FileInfo]] = {}
    try:
        # Every footer of every table is checked before any data is read: bad input fails fast.
        raw = {}
        with timed("list new files, check footers"):
            for name in TABLE_ORDER:
                files[name] = new_files(storage, raw_path, name, processed.get(name, set()))
                raw[name] = read_raw(spark, storage, SOURCE_TABLES[name], files[name]) if files[name] else None
        run.load_start = load_start([r for r in raw.values() if r is not None])
        for name in TABLE_ORDER:
            figures[name] = _curate_table(run, SOURCE_TABLES[name], files[name], raw[name])
        reconcile(figures)
        with timed("publish"):
            for publish in run.publications:
                publish()
        for name, infos in files.items():
            processed.setdefault(name, set()).update(relative_name(f.path, name) for f in infos)
        save_processed(storage, run.layout, processed)
        manifest = {
            "run_id": run_id, "started_at": now.isoformat(), "raw_path": raw_path, "curated_path": curated_path,
            "quarantine_path": quarantine_path, "duration_seconds": round(time.monotonic() - started, 3),
            "reconciled": True, "tables": {name: f.as_dict() for name, f in figures.items()},
        }
        storage.write_text(run.layout.run_manifest, json.dumps(manifest, indent=1))
        log.info("curation run manifest %s", json.dumps(manifest))
        return manifest
    finally:
        run.release()
        storage.delete(run.layout.staging)
        storage.delete(run.layout.quarantine_staging)


def _curate_table(run: Run, table: Table, files: list[FileInfo], raw: RawInput | None) -> TableFigures:
    """One pass over the raw rows per table, plus the writes: the rows read are counted (by Op,
    and how many were refused) by an observation on the way to the merge; the merged changes are
    materialised, counted by decision in one aggregation over them, and written from them, the
    written rows counted as they are written. Only a batch with refused rows is read a second
    time, to break those down by reason and write them to the quarantine."""
    fig = TableFigures(files_read=len(files), bytes_read=sum(f.size for f in files))
    if raw is None:
        return fig
    fig.schema_notes, fig.files_set_aside = raw.notes, raw.poisoned
    if not raw.frames:  # every new file was poison
        return fig
    validated = reduce(DataFrame.unionByName, (validate(f, table, run.now, run.load_start) for f in raw.frames))
    read = Observation(f"read_{table.name}")
    refused = F.col(REASON_COL).isNotNull()
    observed = validated.observe(read, F.count_if(refused).alias("refused"), *(
        F.count_if(~refused & (F.col(DMS_OP_COLUMN) == op)).alias(op) for op in DMS_OPS))

    changes = _curated_changes(run, table, collapse_duplicates(valid_rows(observed), table))
    old_index = read_index(run.spark, run.storage, run.layout, table.name)
    with timed(f"{table.name}: read, validate, merge, protect, count decisions"):
        current = old_index
        if run.storage.exists(run.layout.index(table.name)):
            changes = run.materialise(changes)  # read by the lookup and by the merge
            if sum(read.get[op] for op in DMS_OPS) <= BROADCAST_KEYS_MAX:  # at least the distinct keys
                current = _entries_of_batch(run, table, old_index, batch_keys(changes))
        decided = run.materialise(decide(changes, current, full_load_in=run.full_load_in(table.name, raw.files)))
        decision_counts = (decided.groupBy(DECISION_COL, OLD_PARTITION_COL, TARGET_PARTITION_COL)
                           .agg(F.count(F.lit(1)).alias("n"), F.sum(COPIES_COL).alias("copies")).collect())
    read_counts = read.get
    fig.rows_read = {op: read_counts[op] for op in DMS_OPS if read_counts[op]}
    unknown_updates = sum(row["n"] for row in decision_counts if row[DECISION_COL] in REFUSED)
    if read_counts["refused"] or unknown_updates:
        with timed(f"{table.name}: count and write quarantine"):
            if read_counts["refused"]:
                _count_quarantine(validated, fig, read_counts["refused"])
            if unknown_updates:  # a key change DMS wrote as a U under the new key (cdc.decide)
                fig.quarantined[UNKNOWN_KEY_REASON] = unknown_updates
                validated = refuse(validated, decided.filter(F.col(DECISION_COL).isin(*REFUSED)),
                                   UNKNOWN_KEY_REASON)
            _stage_quarantine(run, table, validated, fig)
    changes_total = copies_total = 0
    touched: set[str] = set()
    for row in decision_counts:
        changes_total, copies_total = changes_total + row["n"], copies_total + row["copies"]
        if row[DECISION_COL] in REFUSED:
            continue
        field_name = DECISION_FIELDS[row[DECISION_COL]]
        setattr(fig, field_name, getattr(fig, field_name) + row["n"])
        if row[DECISION_COL] in APPLIED:  # partitions a key leaves or enters: the only ones rewritten
            touched.update(p for p in (row[OLD_PARTITION_COL], row[TARGET_PARTITION_COL]) if p is not None)
    fig.duplicates_collapsed = copies_total - changes_total

    if touched:
        _stage_state(run, table, applied_changes(decided), sorted(touched), fig)
    return fig


def _entries_of_batch(run: Run, table: Table, index: DataFrame, keys: DataFrame) -> DataFrame:
    """The index entries of `keys`: only the partitions that hold one are read (`cdc.partitions_of_keys`);
    none for a batch of new keys, and the merge then has no state to join at all."""
    partitions = sorted(row[PARTITION_COLUMN] for row in partitions_of_keys(index, keys).collect())
    return entries_of_keys(read_index(run.spark, run.storage, run.layout, table.name, partitions), keys)


def _count_quarantine(validated: DataFrame, fig: TableFigures, refused: int) -> None:
    """Refused rows by Op as read (any value, null included) and by reason."""
    counts = validated.filter(F.col(REASON_COL).isNotNull()).groupBy(DMS_OP_COLUMN, REASON_COL).count().collect()
    for row in counts:
        op = row[DMS_OP_COLUMN] if row[DMS_OP_COLUMN] is not None else "null"
        fig.rows_read[op] = fig.rows_read.get(op, 0) + row["count"]
        fig.quarantined[row[REASON_COL]] = fig.quarantined.get(row[REASON_COL], 0) + row["count"]
    if fig.quarantined_total != refused:  # two reads of the same files disagree
        raise CurationError(f"refused {refused} rows on the way to the merge but {fig.quarantined_total} "
                            "when counting them by reason")


def _stage_quarantine(run: Run, table: Table, validated: DataFrame, fig: TableFigures) -> None:
    staged = run.layout.staged_quarantine(table.name)
    written = Observation(f"quarantine_{table.name}")
    write_staged(run.storage, quarantine_rows(validated).observe(written, F.count(F.lit(1)).alias("rows")), staged,
                 partitioned=False)
    fig.quarantine_rows_written = written.get["rows"]
    run.publications.append(partial(publish_directory, run.storage, staged, run.layout.quarantine(table.name)))


def _curated_changes(run: Run, table: Table, distinct: DataFrame) -> DataFrame:
    """Distinct valid changes in curated form (PII protected), keyed and assigned a partition."""
    key_name = table.column(table.primary_key).curated_name
    protected = protect(distinct, table, run.key,
                        keep=[DMS_OP_COLUMN, *ORDER_COLS, COPIES_COL, LATEST_COL, INSERTED_COL])
    if table.name in PARTITIONED_TABLES:
        protected = protected.withColumn(PARTITION_COLUMN, F.date_format(TRANSACTIONS.column("booked_at").name,
                                                                         "yyyy-MM-dd"))
    else:
        protected = protected.withColumn(PARTITION_COLUMN, F.lit(UNPARTITIONED))
    if table.name == TRANSACTIONS.name:
        protected = _attach_customer_pids(run, protected).withColumn(DMS_COMMIT_TS_COLUMN, F.col(COMMIT_TS_COL))
    return protected.withColumn(KEY_COL, F.col(key_name))


def _attach_customer_pids(run: Run, transactions: DataFrame) -> DataFrame:
    """originator/beneficiary_customer_pid from the accounts' current state; null for external
    accounts (not in `accounts`) and for the cash counterparty."""
    layout = run.layout
    path = layout.staged_table("accounts") if run.storage.exists(layout.staged_table("accounts")) \
        else layout.table("accounts")
    accounts = read_parquet_or_empty(run.spark, run.storage, path, curated_schema("accounts"))
    lookup = accounts.filter(F.col("account_pid") != pseudonymise(CASH_ACCOUNT_ID, run.key)) \
        .select("account_pid", "customer_pid")
    for side in ("originator", "beneficiary"):
        side_lookup = lookup.select(F.col("account_pid").alias(f"{side}_account_pid"),
                                    F.col("customer_pid").alias(f"{side}_customer_pid"))
        transactions = transactions.join(F.broadcast(side_lookup), f"{side}_account_pid", "left")
    return transactions


def _stage_state(run: Run, table: Table, applied: DataFrame, touched: list[str], fig: TableFigures) -> None:
    """Write the touched partitions' new rows and index entries. The reconciliation's counts of
    rows written and live keys after are observed on the rows as they are written (no read-back)."""
    spark, storage, layout, name = run.spark, run.storage, run.layout, table.name
    partitioned = name in PARTITIONED_TABLES
    key_name = table.column(table.primary_key).curated_name
    schema = curated_schema(name)
    curated_partitions = [p for p in touched if p != UNKNOWN_PARTITION]
    old_rows = read_parquet_or_empty(spark, storage, layout.table(name), schema,
                                     curated_partitions if partitioned else None)
    upserts = applied.filter(F.col(DECISION_COL).isin(*UPSERTS))
    rows = next_rows(old_rows, applied, upserts, key_name, curated_partitions if partitioned else None)
    # Spark reports an observation only for a query that produced rows (on no rows `get` would
    # wait for ever), so rows are observed only when some are certain: any upsert is written, and
    # every applied change (there is one: a partition was touched) gets an index entry.
    certain_rows = fig.inserted + fig.updated > 0
    rows_written = Observation(f"rows_{name}")
    with timed(f"{name}: write rows"):
        write_staged(storage, rows.observe(rows_written, F.count(F.lit(1)).alias("rows")) if certain_rows else rows,
                     layout.staged_table(name), partitioned)

    live = ~F.col(DELETED_COL)
    index_after = Observation(f"index_after_{name}")
    touched_entries = read_index(spark, storage, layout, name, touched)  # a partition not indexed yet reads as empty
    entries = next_index(touched_entries, applied).observe(index_after, F.count(F.when(live, F.lit(1))).alias("live"))
    with timed(f"{name}: write index"):
        write_staged(storage, entries, layout.staged_index(name), partitioned=True)

    fig.rows_written = rows_written.get["rows"] if certain_rows else \
        read_parquet_or_empty(spark, storage, layout.staged_table(name), schema).count()  # deletes only: rare
    fig.live_keys_after = index_after.get["live"]
    fig.live_keys_before = touched_entries.filter(live).count()
    written = storage.list_files(layout.staged_table(name), ".parquet")
    fig.files_written, fig.bytes_written = len(written), sum(f.size for f in written)
    fig.partitions_touched = curated_partitions if partitioned else []
    if partitioned:
        run.publications.append(partial(publish_partitions, storage, layout.staged_table(name),
                                        layout.table(name), curated_partitions))
    else:
        run.publications.append(partial(publish_directory, storage, layout.staged_table(name), layout.table(name)))
    run.publications.append(partial(publish_partitions, storage, layout.staged_index(name), layout.index(name),
                                    touched))
