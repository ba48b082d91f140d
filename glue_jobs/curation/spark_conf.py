"""Spark settings for the job's shape: a few wide shuffles (duplicate collapse, latest change per
key, the merge with the state) over data that is small per run compared with a cluster.

Spark's default of 200 shuffle partitions makes every shuffle of a local run 200 tiny tasks; with
adaptive execution on, Spark coalesces small shuffle partitions, also inside the plans of cached
frames (which the job reuses across actions) once that is allowed. On Glue the worker type and
count set the parallelism, so Glue's own defaults are kept unless `--shuffle_partitions` is given.
"""
from __future__ import annotations

import os

from pyspark.sql import SparkSession

ADAPTIVE = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}
# Settings the job itself depends on, applied by every run (whoever made the session); the
# measurements behind them are in docs/glue-performance.md ("Why the settings and the code's choices").
# Dates and timestamps: every value PostgreSQL accepts and DMS writes must read and write
# unchanged. DMS (and Arrow, and our replicator) write the proleptic Gregorian calendar, as Spark 3
# does; Spark's default rebase mode EXCEPTION refuses any Parquet date before 1582-10-15 (or
# timestamp before 1900-01-01) from a writer it cannot tell is Spark 3 (READ_ANCIENT_DATETIME),
# which failed every run on the field case ../shared/cases/ancient-date. CORRECTED reads and writes
# the values as they are, with no calendar rebase (Spark SQL migration guide, "Upgrading from
# Spark SQL 3.0 to 3.1": spark.sql.parquet.datetimeRebaseModeInRead/InWrite and int96RebaseMode*).
# Curated timestamps are INT64 TIMESTAMP_MICROS (not Spark's legacy INT96 default), the Parquet
# logical type Athena (Trino) and DuckDB both read as an instant, proleptic Gregorian.
DATETIME = {
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
JOB = {
    **DATETIME,
    "spark.sql.session.timeZone": "UTC",  # `dt` is the UTC day of booked_at
    # Constraint inference over the validation's large expression and the merge's windows grows
    # without bound (the optimiser ran out of heap), and could prune no row here.
    "spark.sql.constraintPropagation.enabled": "false",
    # The validation's stage compiles to one method over HotSpot's 8,000-byte limit and would run
    # interpreted; above it Spark generates small per-operator methods instead.
    "spark.sql.codegen.hugeMethodLimit": "8000",
    # Replacing a plan whose shuffle came out empty drops the node that collects an
    # `Observation`, which then never reports: a batch of refused rows waited for ever.
    "spark.sql.adaptive.optimizer.excludedRules":
        "org.apache.spark.sql.execution.adaptive.AQEPropagateEmptyRelation",
}
PARTITIONS_PER_CORE = 4  # enough tasks to balance skew in `dt`, few enough to stay cheap


def local_shuffle_partitions(cores: int | None = None) -> int:
    return PARTITIONS_PER_CORE * max(1, cores or os.cpu_count() or 1)


# Input splits of at most 32 MB: enough tasks for every core on a few hundred MB of raw files.
LOCAL_SPLIT_BYTES = 32 * 1024 * 1024


def local_conf(shuffle_partitions: int | None = None) -> dict[str, str]:
    """Session settings of a local run (the entry script without awsglue, the benchmark)."""
    return {**ADAPTIVE, **JOB, "spark.sql.files.maxPartitionBytes": str(LOCAL_SPLIT_BYTES),
            "spark.sql.shuffle.partitions": str(shuffle_partitions or local_shuffle_partitions()),
            # stderr is the job's log file (aml/local/glue.py), not a terminal to draw bars on
            "spark.ui.showConsoleProgress": "false"}


def apply_job_conf(spark: SparkSession) -> None:
    for name, value in JOB.items():
        spark.conf.set(name, value)


def apply_runtime_conf(spark: SparkSession, shuffle_partitions: int | None) -> None:
    """Settings that may change on a running session (Glue's): adaptive coalescing, and the
    shuffle partitions only when asked for."""
    for name, value in ADAPTIVE.items():
        spark.conf.set(name, value)
    if shuffle_partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
