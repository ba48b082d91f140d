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
PARTITIONS_PER_CORE = 4  # enough tasks to balance skew in `dt`, few enough to stay cheap


def local_shuffle_partitions(cores: int | None = None) -> int:
    return PARTITIONS_PER_CORE * max(1, cores or os.cpu_count() or 1)


def local_conf(shuffle_partitions: int | None = None) -> dict[str, str]:
    """Session settings of a local run (the entry script without awsglue, the benchmark)."""
    return {**ADAPTIVE, "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": str(shuffle_partitions or local_shuffle_partitions())}


def apply_runtime_conf(spark: SparkSession, shuffle_partitions: int | None) -> None:
    """Settings that may change on a running session (Glue's): adaptive coalescing, and the
    shuffle partitions only when asked for."""
    for name, value in ADAPTIVE.items():
        spark.conf.set(name, value)
    if shuffle_partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
