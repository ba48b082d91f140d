"""Validate raw DMS rows against the contract: cast each column to its contract type and give
every invalid row exactly one reason (the first check it fails). Nothing is dropped: rows with
a reason go to the quarantine, the others on to the CDC merge."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from aml_contract.dms import LOB_SUSPECT_CHARS, dms_type
from aml_contract.schema import (
    DATE,
    DECIMAL,
    DMS_COMMIT_TS_COLUMN,
    DMS_OP_COLUMN,
    DMS_OPS,
    FUTURE_TOLERANCE_SECONDS,
    PROJECTION_START_DATE,
    STRING,
    TIMESTAMP,
    TRANSACTIONS,
    Table,
)

from .columns import COMMIT_TS_COL, FILE_COL, FILE_RANK_COL, REASON_COL, ROW_COL, SQL_TYPES

ORIGINAL_PREFIX = "_original_"  # string copy of a quarantined row's value, as read
POSITIVE_AMOUNT = TRANSACTIONS.column("amount").name  # the contract's `amount > 0`
POSITIVE_WHEN_PRESENT = TRANSACTIONS.column("amount_base").name  # nullable, but `> 0` when given
EVENT_TIME = TRANSACTIONS.column("booked_at").name  # may not lie in the future
PROJECTION_START = datetime.fromisoformat(PROJECTION_START_DATE).replace(tzinfo=UTC)
# What the Glue catalog's (Hive's) `date` and `timestamp` hold, and Athena reads: years 1 to 9999.
CATALOG_RANGE = {DATE: ("0001-01-01", "9999-12-31"), TIMESTAMP: ("0001-01-01 00:00:00", "9999-12-31 23:59:59.999999")}
CAST_REASONS = {DECIMAL: "non_numeric", TIMESTAMP: "unparseable_timestamp", DATE: "unparseable_date"}


def _cast(column: str, logical: str, source_type: str) -> SparkColumn:
    if source_type == SQL_TYPES[logical]:
        return F.col(column)
    if logical == TIMESTAMP and source_type == "timestamp_ntz":
        return F.col(column).cast("timestamp")  # DMS without time zone: UTC by contract
    return F.expr(f"try_cast(`{column}` as {SQL_TYPES[logical]})")


def _missing(column: str, logical: str) -> SparkColumn:
    raw = F.col(column)
    return raw.isNull() | (F.trim(raw) == "") if logical == STRING else raw.isNull()


def validate(df: DataFrame, table: Table, now: datetime, codes: Mapping[str, frozenset[str]],
             load_start: datetime | None = None) -> DataFrame:
    """Typed contract columns, `_commit_ts`, Op, file/row, the quarantine reason (null when valid)
    and, for quarantined rows only, a string copy of every original value. `codes`: the codes of
    each reference dataset a column names (`Column.reference`; e.g. "currencies" ->
    ReferenceData.currencies). A full-load row's `_commit_ts` is `load_start` when given (see
    raw_input.load_start)."""
    source_types = dict(df.dtypes)
    typed = {c.name: _cast(c.name, c.type, source_types[c.name]) for c in table.columns}
    commit_ts = _cast(DMS_COMMIT_TS_COLUMN, TIMESTAMP, source_types[DMS_COMMIT_TS_COLUMN])
    if load_start is not None:
        commit_ts = F.when((F.col(FILE_RANK_COL) == 0) & commit_ts.isNotNull(), F.lit(load_start)) \
            .otherwise(commit_ts)
    op = F.col(DMS_OP_COLUMN)
    is_delete = op == "D"
    checks: list[tuple[SparkColumn, str]] = [
        (op.isNull() | ~op.isin(*DMS_OPS), "unknown_op"),
        (F.col(DMS_COMMIT_TS_COLUMN).isNull(), f"missing_required:{DMS_COMMIT_TS_COLUMN}"),
        (commit_ts.isNull(), f"unparseable_timestamp:{DMS_COMMIT_TS_COLUMN}"),
        (_missing(table.primary_key, STRING), "missing_primary_key"),
    ]
    # A delete carries only its key: the remaining checks apply to inserts and updates.
    for c in table.columns:
        if c.required:
            checks.append((~is_delete & _missing(c.name, c.type), f"missing_required:{c.name}"))
        reason = CAST_REASONS.get(c.type, f"invalid_{c.type}")
        checks.append((~is_delete & F.col(c.name).isNotNull() & typed[c.name].isNull(), f"{reason}:{c.name}"))
        if c.type in (TIMESTAMP, DATE):  # BC or past 9999: PostgreSQL accepts it, the catalog cannot hold it
            checks.append((~is_delete & ~typed[c.name].between(*(F.lit(v).cast(SQL_TYPES[c.type]) for v in CATALOG_RANGE[c.type])), f"out_of_range:{c.name}"))
        allowed = c.enum or (_codes(codes, c.reference) if c.reference else None)
        if allowed:  # a code outside the reference dataset is refused like a value outside an enum
            checks.append((~is_delete & typed[c.name].isNotNull() & ~typed[c.name].isin(*sorted(allowed)),
                           f"unknown_value:{c.name}"))
        if dms_type(c).lob:  # DMS cuts a LOB at LobMaxSize and only logs a warning
            checks.append((~is_delete & (F.length(typed[c.name]) >= LOB_SUSPECT_CHARS), f"lob_limit:{c.name}"))
    if table.name == TRANSACTIONS.name:
        limit = now + timedelta(seconds=FUTURE_TOLERANCE_SECONDS)
        checks += [
            (~is_delete & (typed[POSITIVE_AMOUNT] <= 0), f"non_positive:{POSITIVE_AMOUNT}"),
            (~is_delete & (typed[POSITIVE_WHEN_PRESENT] <= 0), f"non_positive:{POSITIVE_WHEN_PRESENT}"),
            (~is_delete & (typed[EVENT_TIME] > F.lit(limit)), f"future:{EVENT_TIME}"),
            # a `dt` Athena's partition projection does not cover: DuckDB alone would show the row
            (~is_delete & (typed[EVENT_TIME] < F.lit(PROJECTION_START)), f"out_of_projection:{EVENT_TIME}"),
        ]
    reason = F.coalesce(*(F.when(failed, F.lit(text)) for failed, text in checks))
    quarantined = F.col(REASON_COL).isNotNull()
    return df.withColumn(REASON_COL, reason).select(
        *(typed[c].alias(c) for c in table.column_names),
        op.alias(DMS_OP_COLUMN), commit_ts.alias(COMMIT_TS_COL), FILE_COL, ROW_COL, FILE_RANK_COL, REASON_COL,
        *(F.when(quarantined, F.col(c).cast("string")).alias(ORIGINAL_PREFIX + c)
          for c in (DMS_OP_COLUMN, DMS_COMMIT_TS_COLUMN, *table.column_names)),
    )


def _codes(codes: Mapping[str, frozenset[str]], dataset: str) -> frozenset[str]:
    if not codes.get(dataset):
        raise ValueError(f"no codes of reference dataset {dataset!r} to validate against")
    return codes[dataset]


def refuse(validated: DataFrame, rows: DataFrame, reason: str) -> DataFrame:
    """Refuse, after the fact, the valid rows named in `rows` (FILE_COL, ROW_COL): they get
    `reason` and string copies of their values, as if validation had refused them."""
    named = rows.select(FILE_COL, ROW_COL, F.lit(True).alias("_refused_now"))
    marked = validated.join(F.broadcast(named), [FILE_COL, ROW_COL], "left")
    now = F.col("_refused_now").isNotNull()
    originals = {DMS_OP_COLUMN: F.col(DMS_OP_COLUMN), DMS_COMMIT_TS_COLUMN: F.col(COMMIT_TS_COL)}
    return marked.select(*(
        F.when(now, F.lit(reason)).otherwise(F.col(REASON_COL)).alias(REASON_COL) if c == REASON_COL
        else F.coalesce(F.col(c), F.when(now, originals.get(c[len(ORIGINAL_PREFIX):],
                                                             F.col(c[len(ORIGINAL_PREFIX):])).cast("string"))).alias(c)
        if c.startswith(ORIGINAL_PREFIX) else F.col(c)
        for c in validated.columns))


def valid_rows(validated: DataFrame) -> DataFrame:
    return validated.filter(F.col(REASON_COL).isNull()).drop(
        *(c for c in validated.columns if c.startswith(ORIGINAL_PREFIX)), REASON_COL)


def quarantine_rows(validated: DataFrame) -> DataFrame:
    """The original row (as strings, named as in the source), why it was refused and where from
    (the run is the `run_id=` folder it is written to)."""
    originals = [c for c in validated.columns if c.startswith(ORIGINAL_PREFIX)]
    return validated.filter(F.col(REASON_COL).isNotNull()).select(
        *(F.col(c).alias(c[len(ORIGINAL_PREFIX):]) for c in originals),
        REASON_COL, F.col(FILE_COL).alias("source_file"), F.col(ROW_COL).alias("source_row"),
    )
