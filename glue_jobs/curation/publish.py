"""Stage every output of a run, then publish it by swapping directories.

Spark's dynamic partition overwrite would rewrite the touched `dt` partitions too, but this run
also reads those very partitions (the current rows to merge with), and Spark refuses, or worse,
reads half-replaced files, when a job overwrites what it reads. So each run writes the full new
content of only the touched partitions to a staging folder; once every table is staged and the
counts reconcile, each touched partition folder is replaced by its staged twin (a rename locally,
a copy on S3). A run that fails before that leaves the published data untouched, and a rerun
produces the same partitions again: the effect of a dynamic partition overwrite, made safe.
"""
from __future__ import annotations

from pyspark.sql import DataFrame

from aml_contract.schema import PARTITION_COLUMN

from .storage import Storage


def write_staged(df: DataFrame, path: str, partitioned: bool) -> None:
    """One snappy Parquet file per partition (a hash repartition on `dt` sends each partition's
    rows to one task), or one file for a small current-state table."""
    if partitioned:
        writer = df.repartition(PARTITION_COLUMN).write.partitionBy(PARTITION_COLUMN)
    else:
        writer = df.repartition(1).write
    writer.mode("overwrite").option("compression", "snappy").parquet(path)


def publish_partitions(storage: Storage, staged: str, target: str, partitions: list[str]) -> None:
    """Replace each touched partition; one left empty by this run (every row moved or deleted)
    is removed."""
    for value in partitions:
        source, destination = f"{staged}/{PARTITION_COLUMN}={value}", f"{target}/{PARTITION_COLUMN}={value}"
        if storage.exists(source):
            storage.move(source, destination)
        else:
            storage.delete(destination)


def publish_directory(storage: Storage, staged: str, target: str) -> None:
    storage.move(staged, target)
