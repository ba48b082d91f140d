"""Find the DMS files not yet processed and read them, one DataFrame per file schema.

DMS writes `<raw>/dms/core/<table>/LOAD*.parquet` (full load) and `.../<table>/YYYY/MM/DD/*.parquet`
(CDC). Files of one table can differ in physical types (DMS writes numerics as decimal or string)
and, after a source schema change, in columns; so the footers are checked file by file (naming
the file at fault) and files with identical schemas are read together.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from aml_contract.schema import DMS_COMMIT_TS_COLUMN, DMS_OP_COLUMN, Table, raw_table_prefix

from .columns import FILE_COL, FILE_RANK_COL, ROW_COL
from .storage import FileInfo, Storage

log = logging.getLogger(__name__)

FULL_LOAD_PREFIX = "LOAD"


@dataclass
class RawInput:
    frames: list[DataFrame]  # one per distinct file schema; columns: contract + Op + commit ts + file/row
    files: list[FileInfo]  # the readable files the frames hold
    notes: list[str] = field(default_factory=list)  # schema drift that was tolerated, per file
    poisoned: dict[str, str] = field(default_factory=dict)  # file (below its table) -> why it cannot be read


def table_root(raw_path: str, table: str) -> str:
    return raw_path.rstrip("/") + "/" + raw_table_prefix(table).rstrip("/")


def relative_name(path: str, table: str) -> str:
    """The file's path below its table folder: stable across buckets and URI spellings."""
    return path.split("/" + raw_table_prefix(table), 1)[-1]


def new_files(storage: Storage, raw_path: str, table: str, processed: set[str]) -> list[FileInfo]:
    files = storage.list_files(table_root(raw_path, table), ".parquet")
    return [f for f in files if relative_name(f.path, table) not in processed]


def read_raw(spark: SparkSession, storage: Storage, table: Table, files: list[FileInfo]) -> RawInput:
    """Check every footer before reading any data. A file that cannot be read, or lacks a required
    column, is poison: it is set aside whole with its reason (the job reports it and never reads
    it again; it stays in the raw zone), so one bad file never blocks the table's later runs.
    Optional columns missing from a file are filled with nulls; columns the contract does not
    know are ignored (they can never reach the curated zone, which is built from the contract)
    and reported."""
    expected = [DMS_OP_COLUMN, DMS_COMMIT_TS_COLUMN, *table.column_names]
    required = {DMS_OP_COLUMN, DMS_COMMIT_TS_COLUMN, table.primary_key,
                *(c.name for c in table.columns if c.required)}
    groups: dict[str, list[str]] = {}
    columns_of: dict[str, list[str]] = {}
    notes: list[str] = []
    poisoned: dict[str, str] = {}
    readable: list[FileInfo] = []
    for info in files:
        name = relative_name(info.path, table.name)
        try:
            columns, schema_text = storage.parquet_columns(info.path)
        except Exception as exc:  # py4j wraps the Parquet reader's exception
            poisoned[name] = f"cannot read Parquet file: {str(exc).splitlines()[0]}"
            continue
        missing = [c for c in expected if c not in columns]
        missing_required = [c for c in missing if c in required]
        if missing_required:
            poisoned[name] = f"lacks required column(s) {', '.join(missing_required)}"
            continue
        readable.append(info)
        if missing:
            notes.append(f"{name}: optional column(s) {', '.join(missing)} absent, read as null")
        extra = [c for c in columns if c not in expected]
        if extra:
            notes.append(f"{name}: unknown column(s) {', '.join(extra)} ignored")
        groups.setdefault(schema_text, []).append(info.path)
        columns_of[schema_text] = columns
    storage.reading(*(path for paths in groups.values() for path in paths))
    frames = [_read_group(spark, table, paths, set(columns_of[schema])) for schema, paths in groups.items()]
    for name, reason in poisoned.items():
        log.error("%s: raw file %s set aside: %s", table.name, name, reason)
    return RawInput(frames, readable, notes, poisoned)


def load_start(raw: list[RawInput]) -> datetime | None:
    """The start of the full load among these new files: the earliest `dms_commit_ts` of any
    LOAD row, across every table (None without LOAD files).

    Every full-load row is ordered at this instant (validate). Under DMS's default stamping a
    loaded row carries its transfer time, later than the changes committed while its table was
    loading, which DMS caches and applies after it: ordered by its own stamp the stale copy would
    win. The load's first stamp precedes those changes; under UseTaskStartTimeForFullLoadTimestamp
    every LOAD row already carries the task start, and nothing moves."""
    frames = [frame.filter(F.col(FILE_RANK_COL) == 0).select(
        F.expr(f"try_cast(`{DMS_COMMIT_TS_COLUMN}` as timestamp)").alias("ts"))
        for r in raw if any(is_full_load(info.path) for info in r.files) for frame in r.frames]
    if not frames:
        return None
    return reduce(DataFrame.unionByName, frames).agg(F.min("ts")).first()[0]


def is_full_load(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith(FULL_LOAD_PREFIX)


def _read_group(spark: SparkSession, table: Table, paths: list[str], present: set[str]) -> DataFrame:
    df = spark.read.parquet(*paths)
    name = F.substring_index(F.col("_metadata.file_path"), "/" + raw_table_prefix(table.name), -1)
    columns = [
        F.col(c) if c in present else F.lit(None).cast("string").alias(c)
        for c in (DMS_OP_COLUMN, DMS_COMMIT_TS_COLUMN, *table.column_names)
    ]
    return df.select(
        *columns,
        name.alias(FILE_COL),
        F.col("_metadata.row_index").alias(ROW_COL),
        # Full-load files sort before CDC files on equal commit timestamps.
        F.when(F.element_at(F.split(name, "/"), -1).startswith(FULL_LOAD_PREFIX), 0).otherwise(1)
        .alias(FILE_RANK_COL),
    )
