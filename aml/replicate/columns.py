"""Typed values of the source columns, in the three shapes the replicator handles: the text
test_decoding prints, the Arrow types of the raw-zone Parquet files, and the JSON of the DMS
Kinesis envelope. One mapping from the contract's logical types, used by every writer."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from aml_contract import schema

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
_ARROW = {
    schema.STRING: pa.string(),
    schema.DATE: pa.date32(),
    schema.TIMESTAMP: TIMESTAMP_TYPE,
    schema.DECIMAL: pa.decimal128(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE),
    schema.BOOLEAN: pa.bool_(),
    schema.INT: pa.int32(),
}


def arrow_schema(table: schema.Table) -> pa.Schema:
    """Op, dms_commit_ts, then the source columns in table order (as DMS lays them out)."""
    fields = [pa.field(schema.DMS_OP_COLUMN, pa.string(), nullable=False),
              pa.field(schema.DMS_COMMIT_TS_COLUMN, TIMESTAMP_TYPE, nullable=False)]
    fields += [pa.field(c.name, _ARROW[c.type]) for c in table.columns]
    return pa.schema(fields)


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


def to_json(value: Any) -> Any:
    """A Python value -> its JSON form in the Kinesis envelope. Decimals travel as strings so
    amounts keep their exact cents."""
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
    columns = [pa.array(ops, pa.string()), pa.array(commit_ts, TIMESTAMP_TYPE)]
    columns += [pa.array([row[i] for row in rows], target.field(i + 2).type)
                for i in range(len(table.columns))]
    return pa.RecordBatch.from_arrays(columns, schema=target)
