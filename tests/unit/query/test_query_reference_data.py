"""The named queries over the reference data: the FATF lists in force on each side's UTC booking
date (the Lambda's rule, ReferenceData.fatf_lists), and rows whose amount_base is unknown."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pytest
from handmade_bank import BankBuilder

from aml.evaluate import baseline
from aml.query.run import execute
from aml_contract.reference import ReferenceData

LIST_CHANGE = date(2025, 10, 24)  # NG leaves the grey list
OLDEST = date(2025, 6, 13)  # the oldest publication we hold: earlier dates are back-extended
WINDOW = {"start_date": "2025-01-01", "end_date": "2025-12-31"}
CEST = timezone(timedelta(hours=2))


@pytest.fixture(scope="module")
def dated(make_zone, tmp_path_factory):
    """One wire of 5,000 USD (above the grey-list threshold) to or from NG and IR on each side of
    the list change and before the oldest publication."""
    b = BankBuilder()
    ours = b.own("W1")
    when = {
        "before_oldest": datetime(2025, 3, 1, 12, tzinfo=UTC),
        "day_before_change": datetime(2025, 10, 23, 23, 30, tzinfo=UTC),
        # 01:30 in Paris is still the 23rd in UTC: the UTC date decides, as in the Lambda
        "day_before_change_local_time": datetime(2025, 10, 24, 1, 30, tzinfo=CEST),
        "change_day": datetime(2025, 10, 24, 0, 30, tzinfo=UTC),
        "after_change": datetime(2025, 11, 20, 9, tzinfo=UTC),
    }
    wires = []
    for at in when.values():
        for country in ("NG", "IR"):
            wires.append((b.tx(ours, f"X{country}", 5_000.0, at, dst_country=country), "out", country, at))
            wires.append((b.tx(f"Y{country}", ours, 5_000.0, at, src_country=country), "in", country, at))
    root = tmp_path_factory.mktemp("dated")
    make_zone(b, root)
    return root, wires, ReferenceData.from_directory(root)


def _by_side(frame: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    return {(r.transaction_id, r.direction): r for r in frame.itertuples()}


@pytest.mark.parametrize("run", ["scenario", "baseline"])
def test_each_side_is_judged_by_the_list_in_force_on_its_utc_date(dated, run):
    root, wires, ref = dated
    if run == "scenario":
        frame = execute("high_risk_jurisdiction", WINDOW, data_dir=root).frame
    else:
        frame = baseline.run_all(WINDOW, root)["baseline_high_risk_country"].frame
    found = _by_side(frame)
    for transaction_id, direction, country, at in wires:
        day = at.astimezone(UTC).date()
        lists = ref.fatf_lists(day)
        row = found.get((transaction_id, direction))
        assert (row.fatf_list if row is not None else None) == lists.list_of(country), (country, at, direction)
        if row is not None:
            assert (pd.Timestamp(row.fatf_list_effective).date(), bool(row.fatf_back_extended)) == (lists.effective, lists.back_extended)
    assert len(found) == sum(ref.fatf_lists(at.astimezone(UTC).date()).list_of(c) is not None
                             for _, _, c, at in wires)


def test_the_dates_cover_the_change_and_the_back_extension(dated):
    """The wires above really sit on each side of the NG change and before the oldest list."""
    _, _, ref = dated
    assert ref.fatf_lists(LIST_CHANGE - timedelta(days=1)).list_of("NG") == "grey_list"
    assert ref.fatf_lists(LIST_CHANGE).list_of("NG") is None
    early = ref.fatf_lists(date(2025, 3, 1))
    assert early.back_extended and early.effective == OLDEST and early.list_of("NG") == "grey_list"
    assert not ref.fatf_lists(OLDEST).back_extended


@pytest.fixture(scope="module")
def unknown_amounts(make_zone, tmp_path_factory):
    """Bitcoin payments (a currency without an FX rate) whose source gives no amount_base."""
    b = BankBuilder()
    btc = {"currency": "BTC", "amount_base": None}
    fan_in = b.own("NI1")
    for k in range(4):
        b.tx(f"NIX{k}", fan_in, 700.0, 50 + k * 0.1)
    b.tx("NIX4", fan_in, 0.25, 50.5, "crypto", **btc)  # the fifth counterparty
    fan_out = b.own("NO1")
    for k in range(4):
        b.tx(fan_out, f"NOX{k}", 300.0, 55 + k * 0.05)
    b.tx(fan_out, "NOX4", 0.01, 55.25, "crypto", **btc)
    cfa = b.own("NC1")
    b.tx(cfa, "NCX", 0.5, 60, "crypto", dst_country="IR", **btc)  # call for action: any amount
    grey = b.own("NG1")
    b.tx(grey, "NGX", 0.5, 60, "crypto", dst_country="NG", **btc)  # grey list: amount unknown
    pep = b.own("NP1", pep=True)
    b.tx("NPX", pep, 12_000.0, 65)
    b.tx("NPY", pep, 0.3, 65.5, "crypto", **btc)
    only_unknown = b.own("NP2", pep=True)  # all its activity unknown: no total to compare
    b.tx(only_unknown, "NPZ", 2.0, 65.5, "crypto", **btc)
    dormant = b.own("ND1")
    b.tx(dormant, "M1", 42.5, 1.0, "card")
    for k in range(5):  # wakes up 99 days later with five payments of unknown amount: min_count is met
        b.tx(dormant, f"NDX{k}", 0.2, 100 + k * 0.1, "crypto", **btc)
    root = tmp_path_factory.mktemp("unknown_amounts")
    curated = make_zone(b, root)
    return root, curated


def _hits(name, root) -> pd.DataFrame:
    frame = execute(name, {"start_date": "2025-01-01", "end_date": "2025-04-30"}, data_dir=root).frame
    return frame.set_index("subject_account_pid")


def test_the_rows_are_curated_with_a_null_amount_base(unknown_amounts):
    _, curated = unknown_amounts
    tx = curated["transactions"]
    assert curated.amount_base["unknown"] == 11 == int(tx["amount_base"].isna().sum())
    assert not curated.quarantined


@pytest.mark.parametrize("scenario", ["fan_in", "fan_out"])
def test_counting_rules_count_them_and_sums_skip_them(unknown_amounts, scenario, pid):
    root, _ = unknown_amounts
    account, known = ("NI1", 4 * 700) if scenario == "fan_in" else ("NO1", 4 * 300)
    hits = _hits(scenario, root)
    row = hits.loc[pid(account)]
    assert row.max_counterparties == 5
    assert row.max_window_amount == known


def test_call_for_action_at_any_amount_grey_list_needs_one(unknown_amounts, pid):
    root, _ = unknown_amounts
    hits = _hits("high_risk_jurisdiction", root)
    assert pid("NC1") in hits.index and pd.isna(hits.loc[pid("NC1"), "amount_base"])
    assert hits.loc[pid("NC1"), "fatf_list"] == "call_for_action"
    assert pid("NG1") not in hits.index


def test_sums_ignore_them_without_turning_a_total_null(unknown_amounts, pid):
    root, _ = unknown_amounts
    hits = _hits("pep_high_risk_activity", root)
    row = hits.loc[pid("NP1")]
    assert (row.transaction_count, row.total_in, row.total_out, row.max_amount) == (2, 12_000, 0, 12_000)
    assert pid("NP2") not in hits.index
    assert hits[["total_in", "total_out"]].notna().all().all()


def test_a_count_rule_counts_them_and_reports_a_known_total(unknown_amounts, pid):
    """dormant_reactivation: five transactions meet min_count; their unknown amounts add 0, so the
    reported total is a number (ordered the same on Athena and DuckDB), not NULL."""
    root, _ = unknown_amounts
    row = _hits("dormant_reactivation", root).loc[pid("ND1")]
    assert (row.reactivation_count, row.reactivation_amount) == (5, 0)
    assert pd.isna(row.max_amount)
