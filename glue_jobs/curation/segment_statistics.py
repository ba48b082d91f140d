"""The segment statistics (aml_contract.segments): computed from the merged curated transactions
after each run's publication and published in the reference layout under `statistics/`, where the
rules Lambda and the named queries read the amount floors relative to the bank.

The window is data time: the `segments.statistics_days` UTC days ending on the latest `dt` of the
curated transactions (a backtest of 2019 gets 2019's window), so only those partitions are read.
The percentile is the contract's nearest rank (`segments.nearest_rank`): the row numbered
ceil(p * n / 100) in the segment's amounts sorted ascending. One window function over one read
of the window's amounts computes it exactly, an amount actually booked (`percentile_approx` would
not match the Python reference, `segments.statistics_rows`, which the tests compare this with).
Only the picked rows reach the driver, a few per segment; the bank's fallback is applied there.
Before, two joins read the ranked amounts again, and each read re-scanned and re-sorted the
window: 39 s of a 55 s job run with no new data (docs/glue-performance.md).

The rows are written through the job's storage layer, data first and the manifest last: a reader
checks the data against the manifest (`reference.read_dataset`), and the job's role may write
these keys and nothing else of `statistics/` (stacks/etl.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce

from pyspark.sql import DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F

from aml_contract import reference, rules, segments
from aml_contract.schema import PARTITION_COLUMN

from .columns import curated_schema
from .state import Layout, read_parquet_or_empty
from .storage import Storage

REVIEW_DAYS = 2  # review_by = the run's day + 2: the statistics are stale once the daily job stops
BOOKED = "booked"
_SEGMENT, _AMOUNT, _COUNT, _RANK = "segment", "amount_base", "_amounts", "_rank"


parameters = rules.load  # the file the job ships with (rules.load reads it from the zip too)


@dataclass(frozen=True)
class Statistics:
    rows: list[dict]
    window_start: date
    window_end: date

    def summary(self) -> dict:
        """What the run manifest records of them."""
        fallback = {r["segment"] for r in self.rows if r["basis"] == segments.BASIS_BANK}
        return {"published": True, "dataset": segments.DATASET, "version": self.window_end.isoformat(),
                "rows": len(self.rows), "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
                "segments": len({r["segment"] for r in self.rows}), "fallback_segments": len(fallback)}


def window(storage: Storage, layout: Layout, days: int) -> tuple[date, date] | None:
    """The statistics window: `days` UTC days ending on the latest `dt` of the curated
    transactions (one listing of the table's partition folders), or None when it has none."""
    prefix = f"{PARTITION_COLUMN}="
    found = [name.removeprefix(prefix) for name in storage.list_dirs(layout.table("transactions"))
             if name.startswith(prefix)]
    if not found:
        return None
    end = date.fromisoformat(max(found))
    return end - timedelta(days=days - 1), end


def sides(transactions: DataFrame) -> DataFrame:
    """(segment, amount_base): each booked transaction with a known amount, once per side that is
    one of our accounts (a customer pseudonym on it), to that side's segment and to the bank's."""
    eligible = transactions.where((F.col("status") == BOOKED) & F.col("amount_base").isNotNull())
    own_side = [eligible.where(F.col(f"{side}_customer_pid").isNotNull())
                .select(F.col(f"{side}_country").alias("_country"), F.col("amount_base").alias(_AMOUNT))
                for side in ("originator", "beneficiary")]
    both = own_side[0].unionByName(own_side[1])
    with_country = F.col("_country").isNotNull() & (F.col("_country") != "")  # segments.segment_of
    return (both.select(F.lit(segments.BANK).alias(_SEGMENT), _AMOUNT)
            .unionByName(both.where(with_country).select(F.col("_country").alias(_SEGMENT), _AMOUNT)))


def picked(amounts: DataFrame, params: rules.RuleParameters) -> DataFrame:
    """(segment, percentile, amount_base, amounts): each segment's nearest-rank amount at each
    level, in one sort of the amounts: rows numbered within their segment, kept where the number
    is a level's rank ceil(p * n / 100) (integer arithmetic; p, n >= 1, so the rank is >= 1).
    A few rows per segment; two levels may pick the same row (a small segment)."""
    levels = params.segments.percentiles
    ranked = amounts.select(_SEGMENT, _AMOUNT, F.row_number().over(Window.partitionBy(_SEGMENT).orderBy(_AMOUNT))
                            .alias(_RANK), F.count(F.lit(1)).over(Window.partitionBy(_SEGMENT)).alias(_COUNT))
    rank_of = {p: F.expr(f"({p} * {_COUNT} + 99) div 100") for p in levels}
    hit = reduce(lambda a, b: a | b, (F.col(_RANK) == rank for rank in rank_of.values()))
    level = F.explode(F.filter(F.array(*(F.struct(F.lit(p).alias("percentile"), rank.alias(_RANK))
                                         for p, rank in rank_of.items())),
                               lambda lv: lv[_RANK] == F.col(_RANK))).alias("_level")
    return (ranked.where(hit).select(_SEGMENT, _AMOUNT, _COUNT, level)
            .select(_SEGMENT, F.col("_level.percentile").alias("percentile"), _AMOUNT, F.col(_COUNT).alias("amounts")))


def compute(spark: SparkSession, storage: Storage, layout: Layout,
            params: rules.RuleParameters) -> Statistics | None:
    """The statistics of the curated transactions as published, or None when no booked
    transaction with a known amount falls in the window (nothing to publish)."""
    span = window(storage, layout, params.segments.statistics_days)
    if span is None:
        return None
    start, end = span
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    transactions = read_parquet_or_empty(spark, storage, layout.table("transactions"),
                                         curated_schema("transactions"), partitions=days)
    rows = dataset_rows(picked(sides(transactions), params).collect(), params, start, end)
    return Statistics(rows, start, end) if rows else None


def dataset_rows(found: list[Row], params: rules.RuleParameters, start: date, end: date) -> list[dict]:
    """The dataset's rows (reference.COLUMNS["segment_amounts"]) from `picked`'s rows, in
    statistics_rows' order, amounts as decimal(18,2) text: a segment below `min_transactions`
    amounts carries the bank's amount at each level (basis "bank")."""
    bank = {r["percentile"]: r[_AMOUNT] for r in found if r[_SEGMENT] == segments.BANK}
    rows = []
    for r in found:
        own = r[_SEGMENT] == segments.BANK or r["amounts"] >= params.segments.min_transactions
        rows.append({"segment": r[_SEGMENT], "percentile": r["percentile"],
                     "amount_base": str((r[_AMOUNT] if own else bank[r["percentile"]]).quantize(reference.CENTS)),
                     "amounts": r["amounts"], "basis": segments.BASIS_SEGMENT if own else segments.BASIS_BANK,
                     "window_start": start.isoformat(), "window_end": end.isoformat()})
    return sorted(rows, key=lambda r: (r["segment"], r["percentile"]))


def publish(storage: Storage, layout: Layout, statistics: Statistics, run_id: str, now: datetime) -> None:
    """The dataset in the reference layout under the curated path: rows first, manifest last."""
    objects = reference.encode(
        segments.DATASET, statistics.rows, version=statistics.window_end.isoformat(),
        source=f"curated transactions {statistics.window_start}..{statistics.window_end}, job run {run_id}",
        coverage_start=statistics.window_start, coverage_end=statistics.window_end,
        review_by=now.date() + timedelta(days=REVIEW_DAYS))
    root = layout.curated_path.rstrip("/")
    data, manifest = reference.data_key(segments.DATASET), reference.manifest_key(segments.DATASET)
    storage.write_bytes(f"{root}/{data}", objects[data])
    storage.write_bytes(f"{root}/{manifest}", objects[manifest])


def run_stage(spark: SparkSession, storage: Storage, layout: Layout, now: datetime) -> dict:
    """Compute and publish; the run manifest's `segment_statistics`."""
    statistics = compute(spark, storage, layout, parameters())
    if statistics is None:
        return {"published": False, "dataset": segments.DATASET,
                "reason": "no booked transaction with a known amount_base in the curated zone"}
    publish(storage, layout, statistics, layout.run_id, now)
    return statistics.summary()
