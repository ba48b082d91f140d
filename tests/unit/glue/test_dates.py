"""Dates, the whole kind: any value a source column's PostgreSQL type accepts and DMS writes goes
through the job without crashing it, and is curated unchanged (reading back the same in Spark,
DuckDB and Arrow) or quarantined with a reason; a booked_at Athena's projection would hide is
quarantined."""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import T0, Bank, change, make_zones, publish_reference

from aml.replicate.columns import PgDatetime
from aml_contract.pseudonym import key_from_env
from aml_contract.schema import PROJECTION_START_DATE
from glue_jobs.curation.columns import REASON_COL
from glue_jobs.curation.job import run_curation

CASE = Path(__file__).parent / "data" / "ancient-date-raw"
# Before 1900 (Spark's INT96/legacy boundary), the first day of year 1, the last millisecond DMS's
# TIMESTAMP(ms) can hold in year 9999: PostgreSQL accepts all three.
EDGES = [datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
         datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)]
DAY_EDGES = [date(1582, 10, 4), date(1, 1, 1), date(9999, 12, 31)]
# What PostgreSQL accepts beyond Python's datetime, as the replicator writes it (exact when finite,
# null when infinite): account key -> PostgreSQL's text of opened_at.
BEYOND = {"A-BC": "0044-03-15 10:00:00+00 BC", "A-FAR": "12000-01-01 00:00:00+00", "A-INF": "infinity"}


def _duckdb_values(path: Path, column: str) -> list:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return [r[0] for r in con.execute(f"SELECT {column} FROM read_parquet('{path.as_posix()}/**/*.parquet') "
                                      f"ORDER BY {column}").fetchall()]


def test_ancient_date_case_is_curated_unchanged_and_later_runs_go_on(spark, tmp_path):
    """Field case ../shared/cases/ancient-date (input copied to data/ancient-date-raw): accounts'
    opened_at = 0001-01-01 in Parquet written by Arrow made every run fail (READ_ANCIENT_DATETIME)."""
    raw = tmp_path / "raw"
    shutil.copytree(CASE, raw)
    curated, quarantine = tmp_path / "curated", tmp_path / "quarantine"
    publish_reference(curated)
    for _ in range(2):  # the run after it is not blocked either
        run_curation(spark, str(raw), str(curated), str(quarantine), key_from_env(), now=datetime(2025, 3, 2, tzinfo=UTC))
    ancient = datetime(1, 1, 1, tzinfo=UTC)
    # as text: PySpark's driver cannot turn year 1 into a local datetime (the job never collects)
    read_back = spark.read.parquet(str(curated / "accounts")).selectExpr("CAST(opened_at AS STRING) AS t")
    assert [r.t for r in read_back.collect()] == ["0001-01-01 00:00:00"]
    assert _duckdb_values(curated / "accounts", "opened_at") == [ancient]
    assert pq.read_table(curated / "accounts").column("opened_at").to_pylist() == [ancient]


def _quarantined(zones, table: str) -> list[dict]:
    return pq.read_table(zones.quarantine / table).to_pylist()


@pytest.fixture(scope="module")
def edge_run(spark, tmp_path_factory):
    bank, zones = Bank(seed=11), make_zones(tmp_path_factory.mktemp("dates"))
    zones.raw.load("customers", [change(bank.customer(f"C{i}", date_of_birth=day, onboarded_at=at, updated_at=at),
                                        "I", T0) for i, (at, day) in enumerate(zip(EDGES, DAY_EDGES, strict=True))])
    zones.raw.load("accounts", [change(bank.account(f"A{i}", "C0", opened_at=at, updated_at=at), "I", T0)
                                for i, at in enumerate(EDGES)] + [
        change(bank.account(key, "C0", opened_at=PgDatetime(text)), "I", T0) for key, text in BEYOND.items()])
    zones.raw.cdc("customers", [change(bank.customer("C-BC", date_of_birth=PgDatetime("0044-03-15 BC")), "I", T0)],
                  "2024/03/01", "20240301-000000000")
    projected = datetime.fromisoformat(PROJECTION_START_DATE).replace(tzinfo=UTC)
    zones.raw.load("transactions", [
        change(bank.transaction("OK", T0, "A0", "EXT", updated_at=EDGES[1]), "I", T0),
        change(bank.transaction("FIRST-PROJECTED", projected, "A0", "EXT"), "I", T0),
        *(change(bank.transaction(f"EDGE{i}", at, "A0", "EXT"), "I", T0) for i, at in enumerate(EDGES)),
    ])
    manifest = zones.run(spark)
    return zones, manifest


def test_every_timestamp_and_date_column_keeps_its_edge_values(edge_run):
    zones, _ = edge_run
    for table, column in (("customers", "onboarded_at"), ("accounts", "opened_at")):
        assert sorted(pq.read_table(zones.curated / table).column(column).to_pylist()) == sorted(EDGES), table
        assert _duckdb_values(zones.curated / table, column) == sorted(EDGES), table
    assert sorted(pq.read_table(zones.curated / "customers").column("birth_year").to_pylist()) == [1, 1582, 9999]


def test_booked_at_outside_the_projected_range_is_quarantined(edge_run):
    zones, _ = edge_run
    curated = pq.read_table(zones.curated / "transactions").to_pandas()
    assert sorted(curated["transaction_id"]) == ["FIRST-PROJECTED", "OK"]
    assert curated.set_index("transaction_id")["dt"].astype(str)["FIRST-PROJECTED"] == PROJECTION_START_DATE
    reasons = {r["transaction_id"]: r[REASON_COL] for r in _quarantined(zones, "transactions")}
    assert reasons == {"EDGE0": "out_of_projection:booked_at", "EDGE1": "out_of_projection:booked_at",
                       "EDGE2": "future:booked_at"}


def test_values_the_catalog_cannot_hold_are_quarantined_with_a_reason(edge_run):
    zones, _ = edge_run
    reasons = {r["account_id"]: r[REASON_COL] for r in _quarantined(zones, "accounts")}
    reasons |= {r["customer_id"]: r[REASON_COL] for r in _quarantined(zones, "customers")}
    assert reasons == {"A-BC": "out_of_range:opened_at", "A-FAR": "out_of_range:opened_at",
                       "A-INF": "missing_required:opened_at", "C-BC": "out_of_range:date_of_birth"}
