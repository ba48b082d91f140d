"""The evidence span of the queries summarising several qualifying windows per account (fan_in,
fan_out, smurfing, round_amounts, rapid_movement): besides the first qualifying window's start, the
row gives the start of the last one, so a batch alert covers every day of a pattern that went on
(`-- evidence: window first..last`). An account qualifying on two days apart has first < last, last
the later window's start; an account qualifying once has first == last."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from handmade_bank import START, BankBuilder

from aml.query.run import execute
from aml_contract import rules
from aml_contract.named_queries import load_all

PARAMS = rules.load()
DAYS = 60
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
FIRST_DAY, LATER_DAY = 5, 40  # two episodes further apart than any window of these rules
LONG_DAY = 20  # fans: a longer (floored) window qualifying after the shortest one's episodes
SPANS = {"fan_in": ("first_window_start", "last_window_start"),
         "fan_out": ("first_window_start", "last_window_start"),
         "smurfing": ("first_window_start", "last_window_start"),
         "round_amounts": ("first_window_start", "last_window_start"),
         "rapid_movement": ("first_inflow_at", "last_inflow_at")}


def at(day: float, hours: float = 0.0) -> pd.Timestamp:
    """The instant as the query returns it: UTC without zone."""
    return pd.Timestamp((START + timedelta(days=day, hours=hours)).replace(tzinfo=None))


def fan_burst(b: BankBuilder, rule_id: str, account: str, day: float, tag: str) -> None:
    """The shortest (unfloored) window's counterparties within an hour each, small payments: only
    that window qualifies, anchored on the burst's first payment."""
    short, _, _ = PARAMS.rule(rule_id).count_windows()
    small = PARAMS.rule(rule_id)["min_payment"] / 20
    for i in range(short.min_counterparties):
        other = f"{account}-{tag}{i}"
        src, dst = (other, account) if rule_id == "fan_in" else (account, other)
        b.tx(src, dst, small, START + timedelta(days=day, hours=i / 2))


def fan_days(b: BankBuilder, rule_id: str, account: str, day: float) -> None:
    """A floored days window's counterparties a day apart, paying the floor: only that window
    qualifies, anchored on the first payment."""
    _, days, _ = PARAMS.rule(rule_id).count_windows()
    floor = float(PARAMS.rule(rule_id)["min_payment"])
    for i in range(days.min_counterparties):
        other = f"{account}-D{i}"
        src, dst = (other, account) if rule_id == "fan_in" else (account, other)
        b.tx(src, dst, floor * 1.5, START + timedelta(days=day + i))


def smurf(b: BankBuilder, account: str, day: float, tag: str) -> None:
    for i in range(PARAMS.rule("smurfing")["min_depositors"]):
        b.tx(f"{account}-{tag}{i}", account, 2_500.0, START + timedelta(days=day, hours=i), "cash_deposit")


def rounds(b: BankBuilder, account: str, day: float) -> None:
    for i in range(PARAMS.rule("round_amounts")["min_count"]):
        b.tx(account, f"{account}-X", 5_000.0, START + timedelta(days=day, hours=i))


def pass_through(b: BankBuilder, account: str, day: float) -> None:
    b.tx(f"{account}-X", account, 20_000.0, START + timedelta(days=day))
    b.tx(account, f"{account}-Y", 17_500.0, START + timedelta(days=day, hours=12))


def book(b: BankBuilder, rule_id: str, account: str, days: tuple[float, ...]) -> None:
    for k, day in enumerate(days):
        if rule_id in ("fan_in", "fan_out"):
            fan_burst(b, rule_id, account, day, f"E{k}-")
        elif rule_id == "smurfing":
            smurf(b, account, day, f"E{k}-")
        elif rule_id == "round_amounts":
            rounds(b, account, day)
        else:
            pass_through(b, account, day)


@pytest.fixture(scope="module")
def results(make_zone, tmp_path_factory):
    b = BankBuilder()
    for rule_id in SPANS:
        book(b, rule_id, b.own(f"EV-{rule_id}-twice"), (FIRST_DAY, LATER_DAY))
        book(b, rule_id, b.own(f"EV-{rule_id}-once"), (FIRST_DAY,))
    for rule_id in ("fan_in", "fan_out"):
        account = b.own(f"EV-{rule_id}-longer-later")
        fan_burst(b, rule_id, account, FIRST_DAY, "B")
        fan_days(b, rule_id, account, LONG_DAY)
    root = tmp_path_factory.mktemp("evidence_span")
    make_zone(b, root)
    return {rule_id: execute(rule_id, FULL, data_dir=root).frame.set_index("subject_account_pid")
            for rule_id in SPANS}


def test_each_query_declares_its_span_as_evidence_the_last_column_right_after_the_first():
    queries = {q.name: q for q in load_all()}
    for rule_id, (first, last) in SPANS.items():
        query = queries[rule_id]
        assert (query.evidence.window_start, query.evidence.window_end) == (first, last)
        assert query.columns[query.columns.index(first) + 1] == last


@pytest.mark.parametrize("rule_id", list(SPANS))
def test_two_episodes_on_different_days_span_from_the_first_window_to_the_last(results, rule_id, pid):
    first, last = SPANS[rule_id]
    row = results[rule_id].loc[pid(f"EV-{rule_id}-twice")]
    assert row[first] == at(FIRST_DAY) and row[last] == at(LATER_DAY)
    assert row[first] < row[last]


@pytest.mark.parametrize("rule_id", list(SPANS))
def test_one_episode_starts_and_ends_its_span_at_the_same_window(results, rule_id, pid):
    first, last = SPANS[rule_id]
    row = results[rule_id].loc[pid(f"EV-{rule_id}-once")]
    assert row[first] == row[last] == at(FIRST_DAY)


@pytest.mark.parametrize("rule_id", ["fan_in", "fan_out"])
def test_a_fans_last_window_is_the_latest_of_any_length_not_only_the_shortest(results, rule_id, pid):
    """window_hours and first_window_start describe the shortest window that qualified; the span runs
    to the latest qualifying window of any length (here a floored days window, two weeks later)."""
    short, days, _ = PARAMS.rule(rule_id).count_windows()
    row = results[rule_id].loc[pid(f"EV-{rule_id}-longer-later")]
    assert row.qualified_window_hours == f"{short.window_hours},{days.window_hours}"
    assert row.window_hours == short.window_hours
    assert (row.first_window_start, row.last_window_start) == (at(FIRST_DAY), at(LONG_DAY))
