"""Each scenario on the hand-made bank: the injected account is flagged, its look-alike is not."""
from __future__ import annotations

from datetime import timedelta

import pytest
from handmade_bank import DAYS, START

from aml.query import catalog
from aml.query.run import execute

FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
# Lookback scenarios need their history inside the data: start after it.
WINDOWS = {"velocity_spike": {**FULL, "start_date": (START + timedelta(days=30)).date().isoformat()}}
SCENARIOS = ["structuring", "large_cash", "smurfing", "fan_in", "fan_out", "rapid_movement", "round_amounts",
             "cycles", "dormant_reactivation", "velocity_spike", "high_risk_jurisdiction", "pep_high_risk_activity",
             "high_value_transactions"]


def flagged(name, curated_dir):
    result = execute(name, WINDOWS.get(name, FULL), data_dir=curated_dir)
    return set(result.frame["subject_account_pid"]), result


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_injected_flagged_near_miss_not(scenario, small_bank, curated_dir, pid):
    hits, _ = flagged(scenario, curated_dir)
    expected = {pid(a) for a in small_bank.expected[scenario]}
    assert expected <= hits
    for account in small_bank.near_misses.get(scenario, ()):
        assert pid(account) not in hits, account


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s not in ("high_value_transactions",)])
def test_background_accounts_stay_quiet(scenario, small_bank, curated_dir, pid):
    hits, _ = flagged(scenario, curated_dir)
    background = {pid(f"B{i:03d}") for i in range(30)}
    assert not hits & background


def test_every_query_has_its_declared_columns(curated_dir):
    for query in catalog.queries().values():
        if query.name == "customer_risk_summary":
            continue  # reads alerts: see test_customer_risk_summary
        window = WINDOWS.get(query.name, FULL)
        values = {p: window.get(p, "none") for p in query.parameter_names}  # account_profiles: end_date only
        result = execute(query.name, values, data_dir=curated_dir)
        assert list(result.frame.columns) == list(query.columns), query.name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_come_back_as_integers_as_on_athena(scenario, curated_dir):
    """Trino's SUM of a BIGINT count is a BIGINT; DuckDB's HUGEINT reached pandas as 4.0."""
    _, result = flagged(scenario, curated_dir)
    counts = [c for c in result.frame.columns if c.endswith("_count") or c == "qualifying_windows"]
    for column in counts:
        assert str(result.frame[column].dtype) in ("int64", "Int64"), (scenario, column)
