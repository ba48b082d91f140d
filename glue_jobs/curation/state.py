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
from pyspark.sql import types as T

from aml_contract.glue_job import STATE_PREFIX
from aml_contract.schema import PARTITION_COLUMN

from .errors import CurationError
from .storage import Storage
from .types import index_schema

STATE_DIR = STATE_PREFIX  # the stack grants the job this prefix of the curated bucket
# Bumped when the state's layout changes, so a job never merges into a state it would misread.
# 2: the index stores each key's hash (`types.KEY_HASH_COL`).
STATE_FORMAT = 2


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
        return self._curated(STATE_DIR, "processed_files.json")

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
