"""account_profiles on a tiny hand-made bank: every column, the window edges, the daily spread over
days without activity, the top-N tie rule, and the round trip through Athena's CSV into
aml_contract.profiles.Profile.from_row (what the pipeline's LoadProfiles step parses)."""
from __future__ import annotations

import dataclasses
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from handmade_bank import BankBuilder

from aml.pipeline.athena_binding import result_csv
from aml.query import catalog
from aml.query.local import LocalEngine
from aml_contract import named_queries, profiles, rules
from lambdas.daily_pipeline.query_results import parse_csv

DEFAULT = rules.load()
# Small lists, so a handful of counterparties exercises the cut and its tie rule.
PARAMS = dataclasses.replace(DEFAULT, profiles=dataclasses.replace(
    DEFAULT.profiles, max_counterparties=2, max_countries=2))
BASELINE = PARAMS.profiles.baseline_days
DORMANT = PARAMS.rule("dormant_reactivation")["dormant_days"]
AS_OF = date(2025, 8, 31)
SCAN_FROM = AS_OF - timedelta(days=2 * DORMANT - 1)
BASELINE_FROM = AS_OF - timedelta(days=BASELINE - 1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def bank() -> BankBuilder:
    b = BankBuilder()
    a = b.own("PA", pep=True, risk="high")
    bb = b.own("PB")
    c = b.own("PC")
    b.own("PD")  # active only after as_of: no profile
    b.tx(a, "X9", 999.0, at(SCAN_FROM - timedelta(days=1)))  # the day before the scan: not read
    b.tx(a, "X1", 70.0, at(SCAN_FROM, 8))  # the scan's first day: history, not baseline
    b.tx(c, "X1", 10.0, at(SCAN_FROM + timedelta(days=5)))  # C: nothing in the baseline
    day10 = AS_OF - timedelta(days=10)
    b.tx(a, bb, 100.0, at(day10, 9))  # B's first day: its baseline starts there
    b.tx(a, "X2", 200.0, at(day10, 10), dst_country="DE")
    b.tx("X2", a, 300.0, at(AS_OF - timedelta(days=5)), src_country="KE")
    b.tx("CASH", a, 1_000.0, at(AS_OF - timedelta(days=1)), "cash_deposit", src_country="FR")  # no counterparty
    b.tx(a, "X3", 50.0, at(AS_OF, 23), currency="NGN", amount_base=None)  # no FX rate: amount unknown
    b.tx(a, "X9", 500.0, at(AS_OF + timedelta(days=1), 0))  # after as_of: not read
    b.tx("PD", "X9", 5.0, at(AS_OF + timedelta(days=1)))
    b.customers[-3]["customer_type"], b.customers[-3]["country"] = "business", "GB"  # PB's customer
    return b


@pytest.fixture(scope="module")
def zone(make_zone, tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    make_zone(bank(), root)
    return root


@pytest.fixture(scope="module")
def frame(zone) -> pd.DataFrame:
    query = named_queries.parse(named_queries.QUERIES_DIR / f"{profiles.QUERY_NAME}.sql", PARAMS)
    return LocalEngine(zone).run(query, {"end_date": AS_OF.isoformat()}).frame


def pstdev_with_zeros(values_by_day: dict[date, float], days: int) -> float:
    return statistics.pstdev([values_by_day.get(AS_OF - timedelta(days=i), 0) for i in range(days)])


def test_one_row_per_account_with_activity_in_the_scan(frame, pid):
    assert list(frame.columns) == list(catalog.get(profiles.QUERY_NAME).columns)
    assert list(frame["account_pid"]) == sorted([pid("PA"), pid("PB"), pid("PC")])  # no PD, no external, no cash


def test_every_column(frame, pid):
    got = frame.set_index("account_pid")
    for column in ("as_of", "history_from"):  # DuckDB's DATE arrives as a pandas Timestamp
        got[column] = pd.to_datetime(got[column]).dt.date
    a, b, c = got.loc[pid("PA")], got.loc[pid("PB")], got.loc[pid("PC")]
    assert a["as_of"] == AS_OF and a["customer_pid"] == pid("CPA")
    assert a["history_from"] == SCAN_FROM and a["covered_days"] == BASELINE  # scan's first day: history only
    assert pd.Timestamp(a["last_activity_at"]).tz_localize(None) == pd.Timestamp(at(AS_OF, 23)).tz_localize(None)
    assert (a["active_days"], a["baseline_count"]) == (4, 5)
    assert a["baseline_amount"] == Decimal("1600.00")  # 100 + 200 + 300 + 1,000; the NGN amount unknown
    counts = {AS_OF - timedelta(days=10): 2, AS_OF - timedelta(days=5): 1, AS_OF - timedelta(days=1): 1, AS_OF: 1}
    amounts = {AS_OF - timedelta(days=10): 300, AS_OF - timedelta(days=5): 300, AS_OF - timedelta(days=1): 1_000}
    assert a["daily_count_stddev"] == pytest.approx(pstdev_with_zeros(counts, BASELINE), rel=1e-12)
    assert a["daily_amount_stddev"] == pytest.approx(pstdev_with_zeros(amounts, BASELINE), rel=1e-12)
    assert a["amount_count"] == 4 and a["amount_max"] == Decimal("1000.00")
    assert a["amount_mean"] == pytest.approx(400.0)
    assert a["amount_stddev"] == pytest.approx(statistics.pstdev([100, 200, 300, 1_000]), rel=1e-12)
    # X2 twice; B and X3 once each: the smaller pid of the two; cash has no counterparty
    assert a["counterparties"] == ",".join([pid("X2"), min(pid("PB"), pid("X3"))])
    # the other side's country: US twice (B, X3), DE once (paid), KE once (received): DE < KE; FR is cash
    assert a["counterparty_countries"] == "US,DE"
    assert (a["residence_country"], a["risk_rating"], a["customer_type"], bool(a["is_pep"])) == (
        "US", "high", "individual", True)

    assert b["history_from"] == AS_OF - timedelta(days=10) and b["covered_days"] == 11  # from its first day
    assert (b["active_days"], b["baseline_count"], b["amount_count"]) == (1, 1, 1)
    assert b["daily_count_stddev"] == pytest.approx(statistics.pstdev([1] + [0] * 10), rel=1e-12)
    assert b["daily_amount_stddev"] == pytest.approx(statistics.pstdev([100] + [0] * 10), rel=1e-12)
    assert b["amount_stddev"] == 0 and b["counterparties"] == pid("PA") and b["counterparty_countries"] == "US"
    assert (b["residence_country"], b["customer_type"], bool(b["is_pep"])) == ("GB", "business", False)

    # active in the scan, not in the baseline: a profile of zeros, no amounts, no counterparties
    assert c["covered_days"] == BASELINE and (c["active_days"], c["baseline_count"], c["amount_count"]) == (0, 0, 0)
    assert c["baseline_amount"] == 0 and c["daily_count_stddev"] == 0 and c["daily_amount_stddev"] == 0
    assert pd.isna(c["amount_mean"]) and pd.isna(c["amount_stddev"]) and pd.isna(c["amount_max"])
    assert pd.isna(c["counterparties"]) and pd.isna(c["counterparty_countries"])


def test_the_defaults_render_and_cut_nothing_here(zone, pid):
    """With the parameter file's own list sizes every counterparty of PA is kept, most frequent first."""
    frame = LocalEngine(zone).run(catalog.get(profiles.QUERY_NAME), {"end_date": AS_OF.isoformat()}).frame
    a = frame.set_index("account_pid").loc[pid("PA")]
    assert a["counterparties"] == ",".join([pid("X2"), *sorted([pid("PB"), pid("X3")])])
    assert a["counterparty_countries"] == "US,DE,KE"


def test_profile_from_row_parses_athenas_csv_of_the_result(frame, pid):
    rows = parse_csv(result_csv(frame))
    parsed = {p.account_pid: p for p in map(profiles.Profile.from_row, rows)}
    a, c = parsed[pid("PA")], parsed[pid("PC")]
    assert a.as_of == AS_OF and a.history_from == SCAN_FROM and a.covered_days == BASELINE
    assert a.baseline_cents == 160_000 and a.amount_max_cents == 100_000 and a.amount_mean_usd == 400.0
    assert a.last_activity_at == int(at(AS_OF, 23).timestamp())
    assert a.counterparties == (pid("X2"), min(pid("PB"), pid("X3"))) and a.counterparty_countries == ("US", "DE")
    assert a.is_pep is True and a.risk_rating == "high" and a.customer_pid == pid("CPA")
    assert a.serves(int(at(AS_OF + timedelta(days=1)).timestamp()), PARAMS.profiles)
    assert c.amount_mean_usd is None and c.amount_max_cents is None and c.counterparties == ()
    assert c.baseline_cents == 0 and c.daily_usd_stddev == 0.0
