"""`aml query` output of timestamps outside pandas' nanosecond range (1677-2262): the local engine's
frames carry microseconds, and every output format writes the value unchanged."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from aml.query import output


@pytest.fixture
def frame():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute("SELECT TIMESTAMPTZ '0001-01-01 00:00:00+00' AS opened_at, "
                       "TIMESTAMPTZ '9999-12-31 23:59:59.999+00' AS closed_at").df()


@pytest.mark.parametrize(("fmt", "first", "last"), [
    ("csv", "0001-01-01 00:00:00+00:00", "9999-12-31 23:59:59.999000+00:00"),
    ("json", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"),
])
def test_text_formats_keep_dates_beyond_the_nanosecond_range(frame, fmt, first, last):
    out = io.StringIO()
    output.write(frame, fmt, out=out)
    assert first in out.getvalue() and last in out.getvalue()


def test_parquet_output_keeps_them(frame, tmp_path):
    path = tmp_path / "out.parquet"
    output.write(frame, "parquet", path=str(path))
    back = pd.read_parquet(path)
    assert str(back["opened_at"][0])[:10] == "0001-01-01" and str(back["closed_at"][0])[:10] == "9999-12-31"


def test_csv_writes_arrays_as_athena_does():
    """A scenario's transaction_ids (DuckDB hands pandas a numpy array) as Athena's result CSV has
    them, `[a, b, c]`, not numpy's `['a' 'b' 'c']`; the same text the daily pipeline's binding writes."""
    from aml.pipeline.athena_binding import result_csv

    con = duckdb.connect()
    frame = con.execute("SELECT 'P1' AS subject_account_pid, ['T1', 'T2', 'T3'] AS transaction_ids, "
                        "3 AS transaction_count UNION ALL SELECT 'P2', [], 0").df()
    out = io.StringIO()
    output.write(frame, "csv", out=out)
    assert out.getvalue().splitlines()[1:] == ['P1,"[T1, T2, T3]",3', "P2,[],0"]
    assert '"[T1, T2, T3]"' in result_csv(frame) and '"[]"' in result_csv(frame)
    json_out = io.StringIO()
    output.write(frame, "json", out=json_out)
    assert '"transaction_ids":["T1","T2","T3"]' in json_out.getvalue()
