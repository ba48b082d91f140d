"""An independent checker: does a labelled instance satisfy its rule (rule_parameters.json)?

Deliberately written from the rule definitions, not from the generator's code, so a generator
bug shows up as a failed check. Each function takes the rule, the instance's transactions (with
float `usd`), the subject account ids, the label, and the whole transaction table when history
matters; it returns True when the rule would flag the instance.
"""
from __future__ import annotations

from datetime import timedelta

import pandas as pd

from aml_contract.schema import CASH_ACCOUNT_ID, CASH_TYPES

DAY = pd.Timedelta(days=1)


def _max_in_window(times: pd.Series, keys: pd.Series, window: pd.Timedelta) -> int:
    """Largest number of distinct keys among events within any window of the given length."""
    times, keys = times.reset_index(drop=True), keys.reset_index(drop=True)
    best = 0
    for t in times:
        inside = (times >= t) & (times <= t + window)
        best = max(best, keys[inside].nunique())
    return best


def large_cash(rule, rows, subjects, label, everything) -> bool:
    cash = rows[rows.transaction_type.isin(CASH_TYPES)]
    per_day = cash.groupby(cash.booked_at.dt.floor("D")).usd.sum()
    return bool((per_day > rule["threshold"]).any())


def structuring(rule, rows, subjects, label, everything) -> bool:
    deposits = rows[(rows.transaction_type == "cash_deposit")].sort_values("booked_at")
    band = deposits[(deposits.usd >= rule["min_amount"]) & (deposits.usd < rule["max_amount"])]
    window = pd.Timedelta(days=rule["window_days"])
    for t in band.booked_at:
        inside = band[(band.booked_at >= t) & (band.booked_at < t + window)]
        if len(inside) >= rule["min_count"] and inside.usd.sum() > rule["min_total"]:
            return True
    return False


def smurfing(rule, rows, subjects, label, everything) -> bool:
    deposits = rows[(rows.transaction_type == "cash_deposit") & (rows.usd < rule["max_amount"])
                    & rows.beneficiary_account_id.isin(subjects)
                    & (rows.originator_account_id != CASH_ACCOUNT_ID)].sort_values("booked_at")
    window = pd.Timedelta(days=rule["window_days"])
    return _max_in_window(deposits.booked_at, deposits.originator_account_id, window) >= rule["min_depositors"]


def rapid_movement(rule, rows, subjects, label, everything) -> bool:
    account = subjects[0]
    inflow = rows[rows.beneficiary_account_id == account]
    outflow = rows[rows.originator_account_id == account]
    window = pd.Timedelta(hours=rule["window_hours"])
    span_ok = outflow.booked_at.max() - inflow.booked_at.min() <= window
    return bool(inflow.usd.sum() >= rule["min_inflow"] and span_ok
                and outflow.usd.sum() >= rule["min_outflow_ratio"] * inflow.usd.sum())


def _fan(rule, rows, subjects, inbound: bool, floor: float | None = None) -> bool:
    """Any window of the rule holds min_counterparties distinct counterparties (a floored window
    counting only payments of at least `floor`, min_payment unless given)."""
    side, other = ("beneficiary_account_id", "originator_account_id") if inbound else \
        ("originator_account_id", "beneficiary_account_id")
    mine = rows[rows[side].isin(subjects) & rows.transaction_type.isin(rule["counterparty_types"])]
    mine = mine.sort_values("booked_at")
    for w in rule.count_windows():
        counted = mine[mine.usd >= (rule["min_payment"] if floor is None else floor)] if w.floored else mine
        if _max_in_window(counted.booked_at, counted[other], pd.Timedelta(hours=w.window_hours)) \
                >= w.min_counterparties:
            return True
    return False


def fan_in(rule, rows, subjects, label, everything) -> bool:
    return _fan(rule, rows, subjects, True)


def fan_out(rule, rows, subjects, label, everything) -> bool:
    return _fan(rule, rows, subjects, False)


def round_amounts(rule, rows, subjects, label, everything) -> bool:
    paid = rows[rows.originator_account_id.isin(subjects)]
    hits = paid[(paid.usd >= rule["min_amount"]) & (paid.usd % rule["modulus"] == 0)].sort_values("booked_at")
    window = pd.Timedelta(days=rule["window_days"])
    return _max_in_window(hits.booked_at, hits.transaction_id, window) >= rule["min_count"]


def cycles(rule, rows, subjects, label, everything) -> bool:
    hops = rows.sort_values("booked_at").reset_index(drop=True)
    if not rule["min_hops"] <= len(hops) <= rule["max_hops"]:
        return False
    chained = all(hops.beneficiary_account_id[i] == hops.originator_account_id[i + 1] for i in range(len(hops) - 1))
    closed = hops.beneficiary_account_id.iloc[-1] == hops.originator_account_id.iloc[0]
    within = hops.booked_at.iloc[-1] - hops.booked_at.iloc[0] <= pd.Timedelta(days=rule["window_days"])
    first = hops.usd.iloc[0]
    kept = (abs(hops.usd / first - 1) <= rule["amount_tolerance"]).all()
    return bool(chained and closed and within and (hops.usd >= rule["min_amount"]).all()
                and (kept or rule.params.get("redrawn_amounts", False)))


def dormant_reactivation(rule, rows, subjects, label, everything) -> bool:
    account = subjects[0]
    start = rows.booked_at.min()
    mine = everything[(everything.originator_account_id == account) | (everything.beneficiary_account_id == account)]
    before = mine[mine.booked_at < start]
    if before.empty or start - before.booked_at.max() < pd.Timedelta(days=rule["dormant_days"]):
        return False
    window = mine[(mine.booked_at >= start) & (mine.booked_at < start + pd.Timedelta(days=rule["window_days"]))]
    return bool((window.usd >= rule["min_amount"]).any() or len(window) >= rule["min_count"])


def high_risk_jurisdiction(rule, rows, subjects, label, everything, fatf=None) -> bool:
    for row in rows.itertuples():
        lists = fatf(row.booked_at.date())
        countries = {row.originator_country, row.beneficiary_country}
        if countries & lists.call_for_action:
            return True
        if countries & lists.grey_list and row.usd >= rule["grey_list_min_amount"]:
            return True
    return False


def velocity_spike(rule, rows, subjects, label, everything) -> bool:
    account = subjects[0]
    mine = everything[(everything.originator_account_id == account) | (everything.beneficiary_account_id == account)]
    day = label.window_start
    first_seen = mine.booked_at.min().floor("D")
    observed = min((day - first_seen) // DAY, rule["baseline_days"])
    if observed < rule["min_baseline_days"]:
        return False
    history = mine[(mine.booked_at >= day - observed * DAY) & (mine.booked_at < day)]
    baseline = history.usd.sum() / observed
    today = mine[(mine.booked_at >= day) & (mine.booked_at < day + timedelta(days=rule["window_days"]))].usd.sum()
    return bool(today >= rule["min_amount"] and today >= rule["multiplier"] * baseline)


CHECKS = {f.__name__: f for f in (large_cash, structuring, smurfing, rapid_movement, fan_in, fan_out,
                                  round_amounts, cycles, dormant_reactivation, high_risk_jurisdiction,
                                  velocity_spike)}
