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

from dataclasses import asdict, dataclass

from pyspark.sql import DataFrame

from aml_contract.schema import PARTITION_COLUMN

from .storage import Storage

# Room for 100,000 distinct 64-character pseudonyms per column chunk (Parquet's 1 MB default
# holds 16,000): past its dictionary Parquet writes them plain, which do not compress
# (docs/glue-performance.md).
DICTIONARY_PAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Publication:
    """A staged output and where it goes: `partitions` of a partitioned folder (each replaced by
    its staged twin, or removed when the run left it empty), or the whole folder when None."""
    staged: str
    target: str
    partitions: tuple[str, ...] | None = None

    def as_dict(self) -> dict:
        return {**asdict(self), "partitions": None if self.partitions is None else list(self.partitions)}


def publish(storage: Storage, publication: Publication) -> None:
    if publication.partitions is None:
        publish_directory(storage, publication.staged, publication.target)
    else:
        publish_partitions(storage, publication.staged, publication.target, list(publication.partitions))


def write_staged(storage: Storage, df: DataFrame, path: str, partitioned: bool) -> None:
    """One snappy Parquet file per partition (a hash repartition on `dt` sends each partition's
    rows to one task), or one file for a small current-state table."""
    storage.writing(path)
    if partitioned:
        writer = df.repartition(PARTITION_COLUMN).write.partitionBy(PARTITION_COLUMN)
    else:
        writer = df.repartition(1).write
    (writer.mode("overwrite").option("compression", "snappy")
     .option("parquet.dictionary.page.size", DICTIONARY_PAGE_BYTES).parquet(path))


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
