"""Typed values of the source columns, in the three shapes the replicator handles: the text
test_decoding prints, the Parquet the DMS S3 target writes, and the JSON of the DMS Kinesis
envelope. The last two follow the contract's DMS type table (`aml_contract.dms`), so the local
raw zone and stream carry what DMS would: booleans as "true"/"false" strings, timestamps in
milliseconds, LOB text cut at LobMaxSize, and the commit timestamp as DMS's string."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pyarrow as pa

from aml.arrow_types import dms_parquet_schema, dms_parquet_type
from aml_contract import dms, schema

LOB_MAX_BYTES = dms.LOB_MAX_SIZE_KB * 1024

# PostgreSQL's ISO output of a date or timestamp(tz) in UTC: year of 4+ digits, optional time,
# offset and era ('0044-03-15 10:00:00+00 BC', '12000-01-01').
_PG_DATETIME = re.compile(r"^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(\.\d+)?)?"
                          r"(?:([+-])(\d\d)(?::?(\d\d))?)?( BC)?$")
INFINITIES = ("infinity", "-infinity")


@dataclass(frozen=True)
class PgDatetime:
    """A date or timestamp PostgreSQL accepts that Python's datetime cannot hold (psycopg refuses
    it: "timestamp too large (after year 10K)"): +-infinity, a BC value or a year past 9999. Kept as
    PostgreSQL prints it; a finite one is written to Parquet exactly (Arrow's int64 milliseconds
    and date32 days reach far past both ends), an infinite one as null (Parquet has no infinity:
    the Glue job then quarantines a required column as missing). JSON carries the text, which the
    rules Lambda refuses like any unparseable timestamp."""

    text: str

    def epoch_days_and_ms(self) -> tuple[int, int] | None:
        """(days since 1970-01-01, milliseconds since the epoch), proleptic Gregorian; None if infinite."""
        match = _PG_DATETIME.match(self.text)
        if self.text in INFINITIES or match is None:
            return None
        year, month, day, hh, mm, ss, frac, sign, oh, om, bc = match.groups()
        year = 1 - int(year) if bc else int(year)  # 1 BC is year 0 (ISO 8601, astronomical numbering)
        days = _days_from_civil(year, int(month), int(day))
        offset = (int(oh or 0) * 60 + int(om or 0)) * (-1 if sign == "-" else 1)
        seconds = int(hh or 0) * 3600 + int(mm or 0) * 60 + int(ss or 0) - offset * 60
        return days, (days * 86_400 + seconds) * 1000 + int(float(frac or 0) * 1000)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date, any year (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


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
    if isinstance(value, PgDatetime):
        exact = value.epoch_days_and_ms()
        return None if exact is None else exact[0 if column.type == schema.DATE else 1]
    if isinstance(value, datetime) and dms_parquet_type(column).unit == "ms":
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
    if logical in (schema.TIMESTAMP, schema.DATE):
        try:
            return parse_timestamp(text) if logical == schema.TIMESTAMP else date.fromisoformat(text)
        except ValueError:
            if text in INFINITIES or _PG_DATETIME.match(text):
                return PgDatetime(text)
            raise
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
    if isinstance(value, PgDatetime):
        return value.text
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
    target = dms_parquet_schema(table)
    stamps = {ts: commit_ts_text(ts) for ts in set(commit_ts)}  # a full load shares one stamp
    columns = [pa.array(ops, target.field(0).type),
               pa.array([stamps[ts] for ts in commit_ts], target.field(1).type)]
    for i, column in enumerate(table.columns):
        columns.append(_parquet_array(column, [row[i] for row in rows], target.field(i + 2).type))
    return pa.RecordBatch.from_arrays(columns, schema=target)


def _parquet_array(column: schema.Column, values: list, arrow_type: pa.DataType) -> pa.Array:
    """One column's values as the S3 target writes them; Arrow converts the common cases in bulk
    (a whole full load goes through here)."""
    if column.type == schema.TIMESTAMP and not any(isinstance(v, PgDatetime) for v in values):
        return pa.array(values, pa.timestamp("us", tz="UTC")).cast(arrow_type, safe=False)  # cut to ms
    if dms.dms_type(column).lob:
        short = LOB_MAX_BYTES // 4  # no UTF-8 text this long can pass LobMaxSize
        return pa.array([v if v is None or len(v) <= short else truncate_lob(v) for v in values], arrow_type)
    if _converted(column):
        values = [as_parquet(column, v) for v in values]
    return pa.array(values, arrow_type)


@cache
def _converted(column: schema.Column) -> bool:
    """Whether DMS writes the column's values otherwise than the source holds them."""
    return column.type in (schema.BOOLEAN, schema.DATE, schema.TIMESTAMP) or dms.dms_type(column).lob
