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
Because the order of changes is a property of the changes themselves (`columns.ORDER_COLS`), any
arrival order of the same files ends in the same state.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from aml_contract.schema import DMS_OP_COLUMN, PARTITION_COLUMN, Table

from .columns import (
    AMOUNT_BASE_ORIGIN_COL,
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
UNKNOWN_KEY_REASON = "update_of_unknown_key"  # the quarantine reason of a refused change


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


@dataclass(frozen=True)
class Merge:
    """One table's batch merged with its state: every distinct change with its decision
    (`decided`, kept), the applied ones, the number of changes per decision, and the partitions
    a key leaves or enters (`touched`: the only ones rewritten)."""
    decided: DataFrame
    applied: DataFrame
    counts: dict[str, int]  # decision -> distinct changes (decisions that occurred)
    duplicates: int  # raw rows collapsed into another copy of the same change
    touched: list[str]  # index partitions, sorted; UNKNOWN_PARTITION only ever holds tombstones
    # upserts per origin of their amount_base (`amounts.ORIGINS`), for changes that carry one
    amount_base: dict[str, int] = field(default_factory=dict)

    @property
    def refused(self) -> DataFrame:
        """Changes decided but not applied (FILE_COL, ROW_COL name their raw rows): quarantined
        with UNKNOWN_KEY_REASON."""
        return self.decided.filter(F.col(DECISION_COL).isin(*REFUSED))

    @property
    def refused_count(self) -> int:
        return sum(self.counts.get(d, 0) for d in REFUSED)

    @property
    def row_partitions(self) -> list[str]:
        """The touched partitions that hold curated rows."""
        return [p for p in self.touched if p != UNKNOWN_PARTITION]

    @property
    def upserted(self) -> int:
        return sum(self.counts.get(d, 0) for d in UPSERTS)

    def rows(self, old_rows: DataFrame, key_name: str, partitioned: bool) -> DataFrame:
        """The curated rows of the touched partitions (the whole table when not partitioned)."""
        upserts = self.applied.filter(F.col(DECISION_COL).isin(*UPSERTS))
        return next_rows(old_rows, self.applied, upserts, key_name, self.row_partitions if partitioned else None)

    def index(self, touched_entries: DataFrame) -> DataFrame:
        """The touched index partitions' entries after the merge."""
        return next_index(touched_entries, self.applied)


def merge(changes: DataFrame, current: DataFrame, full_load_in: bool,
          keep: Callable[[DataFrame], DataFrame]) -> Merge:
    """Decide every change of `changes` (one row per distinct change, in curated form, with
    KEY_COL, ORDER_COLS, LATEST_COL, INSERTED_COL, COPIES_COL and `dt`) against `current` (the
    state index's entries for the batch's keys, or more) and count the decisions in one
    aggregation (upserts also by AMOUNT_BASE_ORIGIN_COL, when the changes carry it). `keep`
    materialises the decided changes, which the counts, the rows and the index entries all read."""
    decided = keep(decide(changes, current, full_load_in=full_load_in))
    origin = [AMOUNT_BASE_ORIGIN_COL] if AMOUNT_BASE_ORIGIN_COL in decided.columns else []
    counted = (decided.groupBy(DECISION_COL, OLD_PARTITION_COL, TARGET_PARTITION_COL, *origin)
               .agg(F.count(F.lit(1)).alias("n"), F.sum(COPIES_COL).alias("copies")).collect())
    counts: dict[str, int] = {}
    amount_base: dict[str, int] = {}
    changes_total = copies_total = 0
    touched: set[str] = set()
    for row in counted:
        changes_total, copies_total = changes_total + row["n"], copies_total + row["copies"]
        counts[row[DECISION_COL]] = counts.get(row[DECISION_COL], 0) + row["n"]
        if row[DECISION_COL] in APPLIED:  # partitions a key leaves or enters
            touched.update(p for p in (row[OLD_PARTITION_COL], row[TARGET_PARTITION_COL]) if p is not None)
        if origin and row[DECISION_COL] in UPSERTS:
            amount_base[row[AMOUNT_BASE_ORIGIN_COL]] = amount_base.get(row[AMOUNT_BASE_ORIGIN_COL], 0) + row["n"]
    return Merge(decided, applied_changes(decided), counts, copies_total - changes_total, sorted(touched),
                 amount_base)
