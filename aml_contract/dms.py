"""What AWS DMS makes of every source column: one type table for the DDL, the DMS settings, the
local replicator and both readers (the Glue job and the rules Lambda).

For each contract column: its PostgreSQL type (the DDL we ship), the DMS type DMS gives that
PostgreSQL type, and what the S3 target writes to Parquet and the Kinesis target to JSON.

Sources (AWS DMS User Guide):
- PostgreSQL source data types:
  https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.PostgreSQL.html#CHAP_Source-PostgreSQL-DataTypes
  text -> NCLOB, varchar(n) -> WSTRING(n), varchar without a length -> NCLOB, boolean -> a
  5-character string ("true"/"false"), timestamptz -> DATETIME, numeric(p,s) -> NUMERIC(p,s).
- S3 target data types for Parquet:
  https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html#CHAP_Target.S3.DataTypes
  WSTRING, STRING and NCLOB -> STRING; DATETIME -> TIMESTAMP (milliseconds with
  ParquetTimestampInMillisecond); NUMERIC -> DECIMAL(p,s); DATE -> DATE32. The
  TimestampColumnName column is a string 'yyyy-MM-dd HH:mm:ss.SSSSSS' (ParquetTimestampInMillisecond
  "has no effect on the string format of the timestamp column value").
- LOB support (task settings, TargetMetadata):
  https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.TargetMetadata.html
  With SupportLobs false, LOB columns are left out; in limited LOB mode a value longer than
  LobMaxSize (KB) is truncated and only a warning is logged.
- Primary keys: DMS does not replicate a table whose primary key is a LOB column (premigration
  assessment "Validate if the source table primary key is of LOB Datatype"):
  https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.AssessmentReport.PG.html
- Kinesis control records (`metadata.record-type` = "control"):
  https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.Kinesis.html#CHAP_Target.Kinesis.Messageformat
MapBooleanAsBoolean exists only for PostgreSQL and Redshift targets, so booleans stay strings here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aml_contract.schema import (
    BOOLEAN,
    DATE,
    DECIMAL,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    INT,
    SOURCE_SCHEMA,
    SOURCE_TABLES,
    STRING,
    TIMESTAMP,
    Column,
    Table,
)

# Limited LOB mode. The contract's longest free-text fields are ISO 20022 Max140Text (names,
# unstructured remittance information) and Max70Text (address lines): 4 KB holds 1,024
# characters even at UTF-8's 4 bytes per character, seven times the longest field.
LOB_MAX_SIZE_KB = 4
# A value this long may have been cut by DMS (in the worst encoding it fills LobMaxSize); it is
# quarantined (batch) or dead-lettered (real time), never trusted.
LOB_SUSPECT_CHARS = LOB_MAX_SIZE_KB * 1024 // 4
COMMIT_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # DMS's TimestampColumnName string, microseconds


@dataclass(frozen=True)
class DmsType:
    postgres: str  # the type in our DDL
    dms: str  # DMS's type for that PostgreSQL type
    parquet: str  # what the S3 target writes (Arrow notation, see aml.replicate.columns)
    json: str  # how the Kinesis target's JSON carries a value
    lob: bool  # a LOB for DMS: replicated only with LOB support, truncated at LobMaxSize

    def as_row(self, table: str, column: str) -> dict[str, str]:
        return {"table": table, "column": column, "postgres": self.postgres, "dms": self.dms,
                "parquet": self.parquet, "json": self.json, "lob": "yes" if self.lob else "no"}


@cache  # the replicator asks once per value
def dms_type(column: Column) -> DmsType:
    """The type table's row for one contract column."""
    t = column.type
    if t == STRING and column.max_length:
        n = column.max_length
        return DmsType(f"varchar({n})", f"WSTRING({n})", "string", "string", lob=False)
    if t == STRING:
        return DmsType("text", "NCLOB", "string", "string", lob=True)
    if t == BOOLEAN:
        return DmsType("boolean", "STRING(5)", "string", 'string "true"/"false"', lob=False)
    if t == TIMESTAMP:
        return DmsType("timestamptz", "DATETIME", "timestamp[ms, UTC]", "string (ISO 8601, UTC)", lob=False)
    if t == DATE:
        return DmsType("date", "DATE", "date32", "string (YYYY-MM-DD)", lob=False)
    if t == DECIMAL:
        p, s = DECIMAL_PRECISION, DECIMAL_SCALE
        return DmsType(f"numeric({p},{s})", f"NUMERIC({p},{s})", f"decimal128({p},{s})", "string (exact)", lob=False)
    if t == INT:
        return DmsType("integer", "INT4", "int32", "number", lob=False)
    raise ValueError(f"no DMS mapping for logical type {t!r} of column {column.name}")


# The two columns the S3 target adds (IncludeOpForFullLoad, TimestampColumnName).
OP_TYPE = DmsType("-", "STRING(1)", "string", "-", lob=False)
COMMIT_TS_TYPE = DmsType("-", "STRING", "string", "-", lob=False)


def type_table() -> list[dict[str, str]]:
    """Every source column's row of the type table, for docs and tests."""
    return [dms_type(c).as_row(t.name, c.name) for t in SOURCE_TABLES.values() for c in t.columns]


def lob_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if dms_type(c).lob]


def replicated_columns(table: Table, target_metadata: dict) -> list[str]:
    """The columns DMS replicates under a task's TargetMetadata settings: with SupportLobs false
    it leaves every LOB column out; in limited LOB mode it keeps them (cut at LobMaxSize)."""
    with_lobs = bool(target_metadata.get("SupportLobs")) and (
        bool(target_metadata.get("FullLobMode")) or bool(target_metadata.get("LimitedSizeLobMode")))
    return [c.name for c in table.columns if with_lobs or not dms_type(c).lob]


# PostgreSQL types DMS treats as LOBs (information_schema.columns.data_type), beside varchar
# without a length. Any of them as a primary key column makes DMS skip the table.
LOB_POSTGRES_TYPES = frozenset({"text", "bytea", "json", "jsonb", "xml", "ARRAY", "USER-DEFINED", "tsvector",
                                "tsquery", "citext"})


def is_lob(data_type: str, character_maximum_length: int | None) -> bool:
    """Whether DMS maps a PostgreSQL column (as information_schema describes it) to a LOB."""
    if data_type == "character varying":
        return character_maximum_length is None
    return data_type in LOB_POSTGRES_TYPES


def lob_key_problems(key_columns: list[tuple[str, str, str, int | None]]) -> list[str]:
    """(table, column, data_type, character_maximum_length) of the source's primary-key columns
    -> one message per key DMS could not replicate."""
    return [f"{SOURCE_SCHEMA}.{table}.{column} is a primary key of type "
            f"{data_type if length is None or data_type != 'character varying' else f'varchar({length})'}"
            f", which DMS treats as a LOB: DMS does not replicate a table with a LOB key"
            for table, column, data_type, length in key_columns if is_lob(data_type, length)]


def suspect_lob_value(value: object) -> bool:
    """A text value long enough that DMS may have truncated it at LobMaxSize."""
    return isinstance(value, str) and len(value) >= LOB_SUSPECT_CHARS


# ---- history: how DMS stamps and images changes -------------------------------------------
# Full-load rows carry the task's start time, not their transfer time (S3 endpoint setting
# UseTaskStartTimeForFullLoadTimestamp). A change committed while its table loads is cached and
# applied after the load; stamped with its commit time it then sorts after the loaded copy,
# which (read later, from a snapshot without it) would otherwise win. "transfer" is DMS's default.
# https://docs.aws.amazon.com/dms/latest/APIReference/API_S3Settings.html
FULL_LOAD_TIMESTAMP = "task-start"
FULL_LOAD_TIMESTAMPS = ("task-start", "transfer")

# Primary keys are immutable at the source (the contract). DMS ignores a key UPDATE on a
# PostgreSQL source with unpredictable results: it may be lost, or arrive as an update under the
# new key. On the stream the before image (task setting BeforeImageSettings, Kinesis and Kafka
# targets only) carries the old key, so the rules Lambda can refuse the change; on S3, which has
# no before image, the Glue job refuses an update to a key it has never seen.
# https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.BeforeImage.html
BEFORE_IMAGE_FIELD = "before-image"
BEFORE_IMAGE_SETTINGS = {"EnableBeforeImage": True, "FieldName": BEFORE_IMAGE_FIELD, "ColumnFilter": "pk-only"}


# ---- Kinesis control records --------------------------------------------------------------
RECORD_TYPE_DATA, RECORD_TYPE_CONTROL = "data", "control"
# Control operations that mean the source's columns or tables changed under the contract.
SCHEMA_CHANGE_OPERATIONS = frozenset({"add-column", "drop-column", "rename-column", "change-columns",
                                      "column-type-change", "rename-table", "drop-table"})
CONTROL_TASK_TABLE = "awsdms_apply_exceptions"  # the control table DMS creates when a task starts
