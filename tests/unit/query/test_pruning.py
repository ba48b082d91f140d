"""Partition pruning on the local engine: a 1-day window keeps a small share of the bytes in scope,
and the bytes-in-partitions figure is what the Parquet files hold for the columns a query needs."""
from __future__ import annotations

from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from handmade_bank import DAYS, START

from aml.bench.query import MAX_RATIO, bound, lookback_days
from aml.query import catalog
from aml.query.local import referenced_tables
from aml.query.run import execute

EVERY = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
LAST = {"start_date": EVERY["end_date"], "end_date": EVERY["end_date"]}
# Columns high_value_transactions reads: its projections plus `status`, only filtered on.
HIGH_VALUE_COLUMNS = {"transaction_id", "booked_at", "originator_account_pid", "originator_customer_pid",
                      "originator_country", "beneficiary_account_pid", "beneficiary_customer_pid",
                      "beneficiary_country", "amount_base", "transaction_type", "channel", "status"}


# The queries over transactions taking a window (account_alerts reads only alerts, which the
# hand-made zone has none of; account_profiles takes one day: below).
OVER_TRANSACTIONS = [n for n, q in catalog.queries().items()
                     if "transactions" in referenced_tables(q.sql) and "start_date" in q.parameter_names]


@pytest.mark.parametrize("name", OVER_TRANSACTIONS)
def test_one_day_scans_its_share_only(name, curated_dir):
    other = {p: "none" for p in catalog.get(name).parameter_names if p not in EVERY}  # an account, an alert id
    full = execute(name, EVERY | other, data_dir=curated_dir)
    one = execute(name, LAST | other, data_dir=curated_dir)
    assert full.bytes_in_partitions > 0 and full.files_scanned >= DAYS
    for run in (full, one):  # statistics can only skip what the partitions hold
        assert 0 <= run.bytes_scanned <= run.bytes_in_partitions
        assert 0 <= run.row_groups[0] <= run.row_groups[1] and run.row_groups[1] >= run.files_scanned
    ratio = one.bytes_in_partitions / full.bytes_in_partitions
    assert ratio <= bound(name, DAYS)
    if not lookback_days(name):
        assert ratio <= MAX_RATIO and one.files_scanned < full.files_scanned


def expected_bytes(files, columns) -> int:
    total = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        total += meta.serialized_size + 8
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            total += sum(group.column(c).total_compressed_size for c in range(group.num_columns)
                         if group.column(c).path_in_schema in columns)
    return total


def test_bytes_in_partitions_are_footers_and_needed_column_chunks(curated_dir):
    for window in (LAST, EVERY):
        result = execute("high_value_transactions", window, data_dir=curated_dir)
        files = [f for f in sorted((curated_dir / "transactions").glob("dt=*/*.parquet"))
                 if window["start_date"] <= f.parent.name.removeprefix("dt=") <= window["end_date"]]
        assert result.files_scanned == len(files)
        assert result.bytes_in_partitions == expected_bytes(files, HIGH_VALUE_COLUMNS)
        if result.row_groups[0] == result.row_groups[1]:  # nothing skipped: DuckDB read every needed chunk
            footers = sum(pq.ParquetFile(f).metadata.serialized_size + 8 for f in files)
            assert result.bytes_scanned == result.bytes_in_partitions - footers


def test_full_scan_skips_row_groups_by_statistics(curated_dir):
    """Why DuckDB's raw bytes read do not measure pruning: days without a candidate are skipped."""
    full = execute("high_value_transactions", EVERY, data_dir=curated_dir)
    files = sorted((curated_dir / "transactions").glob("dt=*/*.parquet"))
    footers = sum(pq.ParquetFile(f).metadata.serialized_size + 8 for f in files)
    assert full.row_groups[0] < full.row_groups[1]
    assert full.bytes_scanned < full.bytes_in_partitions - footers


def test_the_profiles_query_reads_its_scan_of_days_only(curated_dir):
    """account_profiles reads the 2 x dormant_days ending on its day: on the tenth day of the bank
    that is the ten days so far, on the last day every day (the bank is shorter than the scan)."""
    from aml_contract import profiles, rules

    scan_days = 2 * rules.load().rule("dormant_reactivation")["dormant_days"]
    tenth = {"end_date": (START + timedelta(days=9)).date().isoformat()}
    last = {"end_date": EVERY["end_date"]}
    customers = len(list((curated_dir / "customers").glob("**/*.parquet")))  # read whole, once
    assert execute(profiles.QUERY_NAME, tenth, data_dir=curated_dir).files_scanned == 10 + customers
    assert execute(profiles.QUERY_NAME, last, data_dir=curated_dir).files_scanned == min(DAYS, scan_days) + customers
