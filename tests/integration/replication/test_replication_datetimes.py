"""Dates and timestamps PostgreSQL accepts but Python's datetime cannot hold go through the
replicator's full-load read (psycopg would raise DataError) and land in Parquet at the instant
PostgreSQL itself counts."""
from __future__ import annotations

import pytest

from aml.replicate import columns, source
from aml_contract import schema

VALUES = ["infinity", "-infinity", "0044-03-15 10:00:00.25+00 BC", "12000-01-01 00:00:00+00",
          "0001-01-01 00:00:00+00"]


@pytest.mark.parametrize("text", VALUES)
def test_timestamptz_beyond_python_reads_and_writes_at_postgres_instant(source_db, text):
    conn = source.connect(source_db)
    value, millis = conn.execute(
        "SELECT v, CASE WHEN isfinite(v) THEN (extract(epoch FROM v) * 1000)::bigint END "
        "FROM (SELECT %s::timestamptz AS v) s", (text,)).fetchone()
    written = columns.as_parquet(schema.ACCOUNTS.column("opened_at"), value)
    assert (written if isinstance(value, columns.PgDatetime) else int(value.timestamp() * 1000)) == millis


@pytest.mark.parametrize("text", ["infinity", "0044-03-15 BC", "12000-01-01"])
def test_date_beyond_python_reads_and_writes_as_postgres_days(source_db, text):
    conn = source.connect(source_db)
    value, days = conn.execute("SELECT v, CASE WHEN isfinite(v) THEN v - DATE '1970-01-01' END "
                               "FROM (SELECT %s::date AS v) s", (text,)).fetchone()
    assert columns.as_parquet(schema.CUSTOMERS.column("date_of_birth"), value) == days
