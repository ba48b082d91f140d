"""CDC merge: collapse exact duplicates, keep the latest change per key, and merge it with the
current state recorded in the state index (the last applied change per key, deletes included).

Each distinct change gets exactly one decision, which is what the run manifest counts:
- superseded: a later change to the same key arrived in the same batch;
- stale: the state already holds this change or a later one (a rerun, or an out-of-order file);
- insert / update: an I or U that becomes the current row (update if the key is live);
- delete: a D of a live key; delete_unknown: a D of a key not live (kept as a tombstone, so an
  older insert arriving later cannot resurrect it);
- update_unknown: a U of a key never seen, neither in the state nor inserted in the batch, once
  the table's full load is in (before it, nothing can be judged and a U is applied as it comes).
  Keys are immutable (the contract), and DMS writes a primary-key UPDATE as a U under the new key
  with no trace of the old one: applying it would count the source row twice. It is not applied;
  the job quarantines it (`update_of_unknown_key`).
Because the order of changes is a property of the changes themselves (`types.ORDER_COLS`), any
arrival order of the same files ends in the same state.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from aml_contract.schema import DMS_OP_COLUMN, PARTITION_COLUMN, Table

from .types import (
    COMMIT_TS_COL,
    DECISION_COL,
    DELETED_COL,
    FILE_COL,
    FILE_RANK_COL,
    KEY_COL,
    KEY_HASH_COL,
    ORDER_COLS,
    ROW_COL,
    UNKNOWN_PARTITION,
)

COPIES_COL = "_copies"  # how many identical raw rows a change stands for
LATEST_COL = "_latest"  # the latest change of its key in the batch
INSERTED_COL = "_inserted_in_batch"  # the batch holds an I of the key
OLD_PARTITION_COL = "_old_dt"  # the key's partition in the current state, if any
TARGET_PARTITION_COL = "_target_dt"  # the partition the key's index entry (and row) ends up in
APPLIED = ("insert", "update", "delete", "delete_unknown")
UPSERTS = ("insert", "update")
REFUSED = ("update_unknown",)  # decided, not applied: quarantined
DECISIONS = ("superseded", "stale", *APPLIED, *REFUSED)
# The most keys a batch broadcasts to look itself up in the state index (8 MB of key hashes, and
# about 50 MB of keys at the bench's id length); a larger batch joins the whole index by shuffle.
BROADCAST_KEYS_MAX = 1_000_000


def collapse_duplicates(valid: DataFrame, table: Table) -> DataFrame:
    """Rows equal in Op, commit time and every source value (DMS retries) become one change,
    the copy earliest in history; `_copies` keeps the count for the manifest, and `_latest` marks
    the latest change of each key in the batch (the others are superseded).

    One shuffle, by the primary key, serves both: a key's copies and versions all land in one
    partition, sorted there by the key then the payload then the copy's position, which is the
    order both windows need (a duplicate group is a run of equal payloads; a key's versions are a
    run of equal keys). Window aggregates keep the struct of the ordering columns out of a
    grouping aggregate, which Spark could only run as a sort-based aggregation."""
    key = table.primary_key
    payload = [key, DMS_OP_COLUMN, COMMIT_TS_COL, *(c for c in table.column_names if c != key)]
    copies = Window.partitionBy(*payload).orderBy(FILE_RANK_COL, FILE_COL, ROW_COL)
    whole_group = copies.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    distinct = (valid.repartition(key)
                .withColumn("_copy", F.row_number().over(copies))
                .withColumn(COPIES_COL, F.count(F.lit(1)).over(whole_group))
                .filter(F.col("_copy") == 1).drop("_copy"))
    # ORDER_COLS are unique per distinct change (file and row are), so exactly one per key is latest.
    by_key = Window.partitionBy(key)
    latest = F.max(F.struct(*ORDER_COLS)).over(by_key)
    return (distinct.withColumn(LATEST_COL, F.struct(*ORDER_COLS) == latest)
            .withColumn(INSERTED_COL, F.max(F.col(DMS_OP_COLUMN) == "I").over(by_key)))


def key_hash(key: Column) -> Column:
    return F.xxhash64(key)


def batch_keys(changes: DataFrame) -> DataFrame:
    return changes.filter(F.col(LATEST_COL)).select(KEY_COL)  # one row per key


def partitions_of_keys(index: DataFrame, keys: DataFrame) -> DataFrame:
    """The index partitions that may hold one of `keys` (a small batch: they are broadcast).

    A batch names a small part of the state (a new day after 30 days of history names 1/31 of
    it, and mostly new keys), so it is looked up in two steps instead of shuffling the whole index
    by key to meet it: this scan finds the partitions its keys are in by the 64-bit key hash
    stored beside each entry, which reads 8 bytes per entry instead of decoding and hashing every
    key string (5M entries: 0.3 s instead of 1.1 s), and then only those partitions are read
    (`entries_of_keys`). A hash collision costs one partition read for nothing, never a result."""
    hashes = keys.select(key_hash(F.col(KEY_COL)).alias(KEY_HASH_COL))
    return (index.select(KEY_HASH_COL, PARTITION_COLUMN).join(F.broadcast(hashes), KEY_HASH_COL, "left_semi")
            .select(PARTITION_COLUMN).distinct())


def entries_of_keys(index: DataFrame, keys: DataFrame) -> DataFrame:
    return index.join(F.broadcast(keys), KEY_COL, "left_semi")


def decide(changes: DataFrame, index: DataFrame, full_load_in: bool = True) -> DataFrame:
    """changes: one row per distinct change with KEY_COL, Op, ORDER_COLS, LATEST_COL, INSERTED_COL
    and `dt` (the partition an upsert belongs to). Adds DECISION_COL, OLD_PARTITION_COL and
    TARGET_PARTITION_COL. `full_load_in`: the table's full load has been read (now or before)."""
    current = index.select(
        KEY_COL, F.struct(*ORDER_COLS).alias("_applied"), F.col(DELETED_COL).alias("_was_deleted"),
        F.col(PARTITION_COLUMN).alias(OLD_PARTITION_COL))
    joined = changes.join(current, KEY_COL, "left")
    live = F.col("_applied").isNotNull() & ~F.col("_was_deleted")
    is_delete = F.col(DMS_OP_COLUMN) == "D"
    never_seen = F.col("_applied").isNull() & ~F.col(INSERTED_COL) & F.lit(full_load_in)
    decision = (F.when(~F.col(LATEST_COL), "superseded")
                .when(F.col("_applied").isNotNull() & (F.col("_applied") >= F.struct(*ORDER_COLS)), "stale")
                .when(is_delete & live, "delete")
                .when(is_delete, "delete_unknown")
                .when(live, "update")
                .when((F.col(DMS_OP_COLUMN) == "U") & never_seen, "update_unknown")
                .otherwise("insert"))
    target = F.when(is_delete, F.coalesce(F.col(OLD_PARTITION_COL), F.lit(UNKNOWN_PARTITION))) \
        .otherwise(F.col(PARTITION_COLUMN))
    return joined.select(*changes.columns, decision.alias(DECISION_COL), OLD_PARTITION_COL,
                         target.alias(TARGET_PARTITION_COL))


def applied_changes(decided: DataFrame) -> DataFrame:
    return decided.filter(F.col(DECISION_COL).isin(*APPLIED))


def next_index(touched_entries: DataFrame, applied: DataFrame) -> DataFrame:
    """The touched index partitions (`touched_entries`: their current entries) with every applied
    change recorded."""
    entries = applied.select(KEY_COL, key_hash(F.col(KEY_COL)).alias(KEY_HASH_COL), *ORDER_COLS,
                             (F.col(DMS_OP_COLUMN) == "D").alias(DELETED_COL),
                             F.col(TARGET_PARTITION_COL).alias(PARTITION_COLUMN))
    kept = touched_entries.join(applied.select(KEY_COL), KEY_COL, "left_anti")
    return kept.unionByName(entries)


def next_rows(old_rows: DataFrame, applied: DataFrame, upserts: DataFrame, key_name: str,
              touched: list[str] | None) -> DataFrame:
    """A curated table's rows in `touched` partitions (all rows when None): the current rows minus
    every key this run changed, plus the new version of each upserted key."""
    current = old_rows if touched is None else old_rows.filter(F.col(PARTITION_COLUMN).isin(*touched))
    changed = applied.select(F.col(KEY_COL).alias(key_name))
    return current.join(changed, key_name, "left_anti").unionByName(upserts.select(*old_rows.columns))
