"""Partition pruning on the local engine: a 1-day window scans a small share of the bytes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from handmade_bank import DAYS, START

from aml.bench.query import MAX_RATIO, lookback_days
from aml.query import catalog
from aml.query.cli import execute

EVERY = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
LAST = {"start_date": EVERY["end_date"], "end_date": EVERY["end_date"]}


@pytest.mark.parametrize("name", [n for n in catalog.queries() if n != "customer_risk_summary"])
def test_one_day_scans_its_share_only(name, curated_dir):
    full = execute(name, EVERY, data_dir=curated_dir)
    one = execute(name, LAST, data_dir=curated_dir)
    assert full.bytes_scanned > 0 and full.files_scanned >= DAYS
    days_read = 1 + lookback_days(name)
    assert one.bytes_scanned / full.bytes_scanned <= days_read / DAYS + MAX_RATIO
    if not lookback_days(name):
        assert one.bytes_scanned / full.bytes_scanned <= MAX_RATIO
