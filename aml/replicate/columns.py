"""Typed values of the source columns, in the three shapes the replicator handles: the text
test_decoding prints, the Parquet the DMS S3 target writes, and the JSON of the DMS Kinesis
envelope. The last two follow the contract's DMS type table (`aml_contract.dms`), so the local
raw zone and stream carry what DMS would: booleans as "true"/"false" strings, timestamps in
milliseconds, LOB text cut at LobMaxSize, and the commit timestamp as DMS's string."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from aml_contract import dms, schema

# The type table's Parquet column (Arrow notation) -> the Arrow type written.
PARQUET_TYPES = {
    "string": pa.string(),
    "date32": pa.date32(),
    "timestamp[ms, UTC]": pa.timestamp("ms", tz="UTC"),
    f"decimal128({schema.DECIMAL_PRECISION},{schema.DECIMAL_SCALE})":
        pa.decimal128(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE),
    "int32": pa.int32(),
}
LOB_MAX_BYTES = dms.LOB_MAX_SIZE_KB * 1024


def arrow_schema(table: schema.Table) -> pa.Schema:
    """Op, dms_commit_ts, then the source columns in table order (as DMS lays them out)."""
    fields = [pa.field(schema.DMS_OP_COLUMN, PARQUET_TYPES[dms.OP_TYPE.parquet], nullable=False),
              pa.field(schema.DMS_COMMIT_TS_COLUMN, PARQUET_TYPES[dms.COMMIT_TS_TYPE.parquet], nullable=False)]
    fields += [pa.field(c.name, PARQUET_TYPES[dms.dms_type(c).parquet]) for c in table.columns]
    return pa.schema(fields)


def commit_ts_text(value: datetime) -> str:
    """dms_commit_ts as DMS writes it: 'yyyy-MM-dd HH:mm:ss.SSSSSS' (UTC)."""
    return value.astimezone(UTC).strftime(dms.COMMIT_TS_FORMAT)


def truncate_lob(text: str) -> str:
    """What limited LOB mode keeps of a value: at most LobMaxSize bytes (whole characters)."""
    data = text.encode()
    return text if len(data) <= LOB_MAX_BYTES else data[:LOB_MAX_BYTES].decode(errors="ignore")


def as_dms(column: schema.Column, value: Any) -> Any:
    """A source value -> the value DMS replicates for it (both targets): a boolean as its
    STRING(5), LOB text cut at LobMaxSize."""
    if value is None:
        return None
    if column.type == schema.BOOLEAN:
        return "true" if value else "false"
    if dms.dms_type(column).lob:
        return truncate_lob(value)
    return value


def as_parquet(column: schema.Column, value: Any) -> Any:
    """A source value -> what the S3 target writes: as_dms, and timestamps cut to the Parquet
    unit of the type table (milliseconds with ParquetTimestampInMillisecond)."""
    value = as_dms(column, value)
    if isinstance(value, datetime) and PARQUET_TYPES[dms.dms_type(column).parquet].unit == "ms":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def parse_timestamp(text: str) -> datetime:
    """PostgreSQL's ISO output ('2024-05-01 10:00:00.5+00') as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def from_text(logical: str, text: str | None) -> Any:
    """A value as test_decoding prints it (already unquoted) -> the Python value."""
    if text is None:
        return None
    if logical == schema.STRING:
        return text
    if logical == schema.DECIMAL:
        return Decimal(text)
    if logical == schema.TIMESTAMP:
        return parse_timestamp(text)
    if logical == schema.DATE:
        return date.fromisoformat(text)
    if logical == schema.BOOLEAN:
        return text == "true"
    if logical == schema.INT:
        return int(text)
    raise ValueError(f"no text conversion for logical type {logical!r}")


def iso_utc(value: datetime) -> str:
    """DMS's JSON timestamp form: 2024-05-01T10:00:00.500000Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_json(column: schema.Column, value: Any) -> Any:
    """A source value -> its JSON form in the Kinesis envelope. Decimals travel as strings so
    amounts keep their exact cents."""
    value = as_dms(column, value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record_batch(table: schema.Table, ops: list[str], commit_ts: list[datetime],
                 rows: list[tuple]) -> pa.RecordBatch:
    """Rows (tuples in table column order) plus their Op and commit timestamp -> one Arrow batch."""
    target = arrow_schema(table)
    columns = [pa.array(ops, target.field(0).type),
               pa.array([commit_ts_text(ts) for ts in commit_ts], target.field(1).type)]
    columns += [pa.array([as_parquet(column, row[i]) for row in rows], target.field(i + 2).type)
                for i, column in enumerate(table.columns)]
    return pa.RecordBatch.from_arrays(columns, schema=target)
