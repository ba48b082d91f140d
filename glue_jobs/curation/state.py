"""Where the job keeps its state, under `<curated>/_job_state/` (the leading underscore keeps it
out of Spark's and Athena's view of the tables):

- `processed_files.json`: the raw files already curated, per table. This, not Glue job bookmarks,
  makes runs incremental: bookmarks track only sources read through `glueContext` with a
  `transformation_ctx`, while this job reads Parquet with plain Spark (so it runs unchanged
  locally), and a manifest next to the data behaves identically on S3 and on local disk. It is
  written last, after publication, so a failed run is simply redone (the merge is idempotent),
  and records the state format (`STATE_FORMAT`).
- `index/<table>/dt=.../`: the last applied change per key, tombstones included, with the key's
  hash (`cdc`).
- `runs/<run-id>.json`: one run manifest per run.
- `staging/<run-id>/`: this run's output until it is published (deleted afterwards).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from aml_contract.glue_job import PROCESSED_FILES, STATE_PREFIX
from aml_contract.schema import PARTITION_COLUMN

from .cdc import key_hash
from .columns import KEY_COL, KEY_HASH_COL, curated_schema, index_schema
from .errors import CurationError
from .storage import Storage

STATE_DIR = STATE_PREFIX  # the stack grants the job this prefix of the curated bucket
# Bumped when the state's layout changes, so a job never merges into a state it would misread.
# 2: the index stores each key's hash (`columns.KEY_HASH_COL`).
STATE_FORMAT = 2
# The most keys a batch broadcasts to look itself up in the state index (8 MB of key hashes, and
# about 50 MB of keys at the bench's id length); a larger batch joins the whole index by shuffle.
BROADCAST_KEYS_MAX = 1_000_000


@dataclass(frozen=True)
class Layout:
    curated_path: str
    quarantine_path: str
    run_id: str

    def _curated(self, *parts: str) -> str:
        return "/".join([self.curated_path.rstrip("/"), *parts])

    def table(self, table: str) -> str:
        return self._curated(table)

    def index(self, table: str) -> str:
        return self._curated(STATE_DIR, "index", table)

    @property
    def processed_files(self) -> str:
        return self._curated(PROCESSED_FILES)

    @property
    def run_manifest(self) -> str:
        return self._curated(STATE_DIR, "runs", f"{self.run_id}.json")

    @property
    def staging(self) -> str:
        return self._curated(STATE_DIR, "staging", self.run_id)

    def staged_table(self, table: str) -> str:
        return f"{self.staging}/{table}"

    def staged_index(self, table: str) -> str:
        return f"{self.staging}/index/{table}"

    def quarantine(self, table: str) -> str:
        return f"{self.quarantine_path.rstrip('/')}/{table}/run_id={self.run_id}"

    @property
    def quarantine_staging(self) -> str:
        # Quarantined rows hold PII: they are staged in the raw zone, never under the curated path.
        return f"{self.quarantine_path.rstrip('/')}/_staging/{self.run_id}"

    def staged_quarantine(self, table: str) -> str:
        return f"{self.quarantine_staging}/{table}"


def load_processed(storage: Storage, layout: Layout) -> dict[str, set[str]]:
    text = storage.read_text(layout.processed_files)
    if not text:
        return {}
    body = json.loads(text)
    found = body.get("state_format", 1)
    if found != STATE_FORMAT:
        raise CurationError(f"{layout.processed_files}: job state of format {found}, but this job reads format "
                            f"{STATE_FORMAT}; curate the raw zone again into an empty curated path")
    return {table: set(names) for table, names in body["tables"].items()}


def save_processed(storage: Storage, layout: Layout, processed: dict[str, set[str]]) -> None:
    body = {"state_format": STATE_FORMAT, "tables": {table: sorted(names) for table, names in sorted(processed.items())}}
    storage.write_text(layout.processed_files, json.dumps(body, indent=1))


def read_parquet_or_empty(spark: SparkSession, storage: Storage, path: str, schema: T.StructType,
                          partitions: list[str] | None = None) -> DataFrame:
    """A table read with the contract's schema (so `dt` stays a string), or no rows yet. Given
    `partitions`, only those `dt` folders are listed and read: a run's cost then follows the
    partitions it touches, not the table's history, and a day not written yet reads as empty."""
    if partitions is None:
        paths = [path] if storage.exists(path) else []
    else:  # one listing of the table's folders, not one existence check per partition (S3)
        wanted = {f"{PARTITION_COLUMN}={p}" for p in partitions}
        paths = [f"{path}/{name}" for name in storage.list_dirs(path) if name in wanted]
    if not paths:
        # `limit(0)` makes the frame a relation the optimiser knows to be empty (not an opaque
        # RDD): joins, anti-joins and unions with it are planned away instead of shuffled.
        return spark.createDataFrame([], schema).limit(0)
    storage.reading(*paths)
    reader = spark.read.schema(schema)
    if PARTITION_COLUMN in schema.fieldNames():
        reader = reader.option("basePath", path)
    return reader.parquet(*paths)


def read_index(spark: SparkSession, storage: Storage, layout: Layout, table: str,
               partitions: list[str] | None = None) -> DataFrame:
    return read_parquet_or_empty(spark, storage, layout.index(table), index_schema(), partitions)


def current_table(spark: SparkSession, storage: Storage, layout: Layout, table: str) -> DataFrame:
    """A curated table as this run leaves it: its staged rows once this run has staged it, else
    the published ones."""
    staged = layout.staged_table(table)
    path = staged if storage.exists(staged) else layout.table(table)
    return read_parquet_or_empty(spark, storage, path, curated_schema(table))


@dataclass(frozen=True)
class Index:
    """One table's state index: the last applied change per key, partitioned like its rows."""
    spark: SparkSession
    storage: Storage
    layout: Layout
    table: str

    def exists(self) -> bool:
        return self.storage.exists(self.layout.index(self.table))

    def entries(self, partitions: list[str] | None = None) -> DataFrame:
        """Every entry, or those of `partitions` (a partition not indexed yet reads as empty)."""
        return read_index(self.spark, self.storage, self.layout, self.table, partitions)

    def entries_for(self, keys: DataFrame, at_most: int) -> DataFrame:
        """The entries of `keys` (one row per key, at most `at_most` of them): only the
        partitions holding one are read, so a batch of new keys reads none and the merge has no
        state to join at all. A batch too large to broadcast its keys gets the whole index,
        which the merge joins by shuffle."""
        if at_most > BROADCAST_KEYS_MAX:
            return self.entries()
        partitions = sorted(row[PARTITION_COLUMN] for row in partitions_of_keys(self.entries(), keys).collect())
        return entries_of_keys(self.entries(partitions), keys)


def partitions_of_keys(index: DataFrame, keys: DataFrame) -> DataFrame:
    """The index partitions that may hold one of `keys` (a small batch: they are broadcast).

    The batch is looked up in two steps instead of shuffling the whole index by key to meet it:
    this scan matches the 64-bit key hash stored beside each entry (8 bytes per entry, no key
    string decoded or hashed; docs/glue-performance.md, "Incremental runs"), then only those
    partitions are read (`entries_of_keys`). A hash collision costs one partition read for
    nothing, never a result."""
    hashes = keys.select(key_hash(F.col(KEY_COL)).alias(KEY_HASH_COL))
    return (index.select(KEY_HASH_COL, PARTITION_COLUMN).join(F.broadcast(hashes), KEY_HASH_COL, "left_semi")
            .select(PARTITION_COLUMN).distinct())


def entries_of_keys(index: DataFrame, keys: DataFrame) -> DataFrame:
    return index.join(F.broadcast(keys), KEY_COL, "left_semi")
