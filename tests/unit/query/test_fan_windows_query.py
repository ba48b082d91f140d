"""fan_in and fan_out evaluate every window of the rule (aml_contract.rules.CountWindow): many
counterparties within hours, or fewer paying at least the floor over days and weeks. Each shape is
booked once into (fan_in) and once out of (fan_out) an account of its own; the near misses fail one
threshold each by a clear margin: one counterparty short, one hour outside the window, one cent
below the floor, small payments in a floored window."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import bare_and_published

from aml.query.run import execute
from aml_contract import rules

PARAMS = rules.load()
RULES = ("fan_in", "fan_out")
DAYS = 60
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
SHAPE_START = 5.0  # days after START: every shape has its own account, so they may overlap in time


def windows(rule_id: str):
    """(short unfloored, days floored, weeks floored): the contract's windows, shortest first."""
    short, days, weeks = PARAMS.rule(rule_id).count_windows()
    return short, days, weeks


@dataclass(frozen=True)
class Payment:
    hours: float  # after the shape's start
    counterparty: int
    amount: float
    ttype: str = "wire"
    known_base: bool = True  # False: NGN without an ECB rate, curated with no amount_base


def shapes(rule_id: str) -> dict[str, tuple[list[Payment], str | None]]:
    """name -> (payments, the window lengths that must qualify as reported, None: not flagged)."""
    short, days, weeks = windows(rule_id)
    floor = PARAMS.rule(rule_id)["min_payment"]
    small = floor / 20
    n, h = short.min_counterparties, short.window_hours
    m, d = days.min_counterparties, days.window_hours
    k, w = weeks.min_counterparties, weeks.window_hours

    def spread(count: int, span_hours: float, amount: float, **kw) -> list[Payment]:
        return [Payment(span_hours * i / max(count - 1, 1), i, amount, **kw) for i in range(count)]

    def days_shape(last_hours: float, amounts: tuple[float, ...]) -> list[Payment]:
        # m payers: the first and the last `last_hours` apart, the others in between; no short window
        times = [0.0] + [h + 1 + i for i in range(m - 2)] + [last_hours]
        return [Payment(t, i, a) for i, (t, a) in enumerate(zip(times, amounts, strict=True))]

    def weeks_shape(count: int, last_hours: float) -> list[Payment]:
        # `count` payers, never m of them within the days window, the last `last_hours` after the first
        gap = d / (m - 1) + 1
        times = [gap * i for i in range(count - 1)] + [last_hours]
        return [Payment(t, i, floor * 1.5) for i, t in enumerate(times)]

    at_floor = (float(floor),) * m
    return {
        "burst": (spread(n, h - 1, small), f"{h}"),
        "burst_one_counterparty_short": (spread(n - 1, h - 1, small), None),
        "burst_one_hour_outside": (spread(n, h + 1, small), None),
        "burst_a_payer_twice": ([*spread(n - 1, h - 1, small), Payment(h / 2, 0, small)], None),
        "burst_by_card": (spread(n, h - 1, small, ttype="card"), None),
        "burst_without_fx_rate": (spread(n, h - 1, small, known_base=False), f"{h}"),
        "days_at_the_floor": (days_shape(d - 1, at_floor), f"{d}"),
        "days_a_cent_below_the_floor": (days_shape(d - 1, (*at_floor[:-1], floor - 0.01)), None),
        "days_one_hour_outside": (days_shape(d + 1, at_floor), None),
        "days_one_counterparty_short": (days_shape(d - 1, at_floor)[1:], None),
        "days_small_payments": (spread(max(n, k), d - 1, small), None),
        "days_without_fx_rate": ([Payment(p.hours, p.counterparty, p.amount, known_base=False)
                                  for p in days_shape(d - 1, at_floor)], None),
        "weeks": (weeks_shape(k, w - 1), f"{w}"),
        "weeks_one_hour_outside": (weeks_shape(k, w + 1), None),
        "weeks_one_counterparty_short": (weeks_shape(k - 1, w - 1), None),
        "every_window": (spread(max(n, m, k), h / 2, float(floor) * 2), f"{h},{d},{w}"),
    }


def subject(rule_id: str, shape: str) -> str:
    return f"FW{RULES.index(rule_id)}{shape}"


def book(b: BankBuilder, rule_id: str, shape: str, payments: list[Payment], country: str = "US") -> str:
    account = b.own(subject(rule_id, shape) + country)
    here = {"src_country": country, "dst_country": country}
    for p in payments:
        other = f"{account}-CP{p.counterparty}"
        src, dst = (other, account) if rule_id == "fan_in" else (account, other)
        money = {"currency": "NGN", "amount_base": None} if not p.known_base else {}
        b.tx(src, dst, p.amount, START + timedelta(days=SHAPE_START, hours=p.hours), p.ttype, **here, **money)
    return account


@pytest.fixture(scope="module")
def zone(make_zone, tmp_path_factory):
    b = BankBuilder()
    for rule_id in RULES:
        for name, (payments, _) in shapes(rule_id).items():
            book(b, rule_id, name, payments)
    root = tmp_path_factory.mktemp("fan_windows")
    make_zone(b, root)
    return root


@pytest.fixture(scope="module")
def results(zone):
    return {rule_id: execute(rule_id, FULL, data_dir=zone).frame.set_index("subject_account_pid")
            for rule_id in RULES}


def test_the_contract_has_the_three_windows_the_shapes_are_built_on():
    for rule_id in RULES:
        short, days, weeks = windows(rule_id)
        assert not short.floored and days.floored and weeks.floored
        assert short.window_hours < days.window_hours < weeks.window_hours
        assert days.min_counterparties < weeks.min_counterparties  # "fewer over days": weeks need more


@pytest.mark.parametrize("rule_id", RULES)
@pytest.mark.parametrize("shape", list(shapes("fan_in")))
def test_each_window_qualifies_exactly_when_its_thresholds_are_met(results, rule_id, shape, pid):
    _, expected = shapes(rule_id)[shape]
    account = pid(subject(rule_id, shape) + "US")
    rows = results[rule_id]
    if expected is None:
        assert account not in rows.index
        return
    row = rows.loc[account]
    assert row.qualified_window_hours == expected
    assert row.window_hours == int(expected.split(",")[0])
    assert row.qualifying_windows >= 1


@pytest.mark.parametrize("rule_id", RULES)
def test_the_row_describes_the_shortest_window_and_the_floor_met(results, rule_id, pid):
    short, days, weeks = windows(rule_id)
    floor = PARAMS.rule(rule_id)["min_payment"]
    rows = results[rule_id]
    burst = rows.loc[pid(subject(rule_id, "burst") + "US")]
    assert burst.max_counterparties == short.min_counterparties
    assert burst.max_window_amount == pytest.approx(short.min_counterparties * floor / 20)
    assert pd.isna(burst.amount_floor)  # only an unfloored window qualified
    assert burst.first_window_start == (START + timedelta(days=SHAPE_START)).replace(tzinfo=None)  # UTC, as read
    unknown = rows.loc[pid(subject(rule_id, "burst_without_fx_rate") + "US")]
    assert unknown.max_window_amount == 0  # counted, but no known amount to sum
    at_floor = rows.loc[pid(subject(rule_id, "days_at_the_floor") + "US")]
    assert (at_floor.max_counterparties, Decimal(str(at_floor.amount_floor))) == (days.min_counterparties, floor)
    every = rows.loc[pid(subject(rule_id, "every_window") + "US")]
    assert every.window_hours == short.window_hours and Decimal(str(every.amount_floor)) == floor
    # every anchor of every length: a window anchored on a payment holds it and the ones after it
    payers = max(short.min_counterparties, days.min_counterparties, weeks.min_counterparties)
    assert every.qualifying_windows == sum(payers - w.min_counterparties + 1 for w in (short, days, weeks))


@pytest.mark.parametrize("rule_id", RULES)
def test_counts_are_integers_as_on_athena(results, rule_id):
    for column in ("window_hours", "max_counterparties", "qualifying_windows"):
        assert pd.api.types.is_integer_dtype(results[rule_id][column]), column


@pytest.fixture(scope="module")
def segment_zones(make_zone, tmp_path_factory):
    """A days shape of payments far below the USD floor (300 USD) in KE and in US, statistics
    published (KE p95 238) or not."""
    b = BankBuilder()
    accounts = {}
    for rule_id in RULES:
        _, days, _ = windows(rule_id)
        payments = [Payment(i * (days.window_hours - 1) / (days.min_counterparties - 1), i, 300.0)
                    for i in range(days.min_counterparties)]
        for country in ("KE", "US"):
            accounts[rule_id, country] = book(b, rule_id, "segment", payments, country)
    bare, published, floors = bare_and_published(make_zone, b, tmp_path_factory, "fan_windows")
    return bare, published, accounts, floors


@pytest.mark.parametrize("rule_id", RULES)
def test_a_floored_window_takes_the_segment_floor_on_the_subjects_side(segment_zones, rule_id, pid):
    bare, published, accounts, floors = segment_zones
    rule = PARAMS.rule(rule_id)
    _, days, _ = windows(rule_id)
    rows = execute(rule_id, FULL, data_dir=published).frame.set_index("subject_account_pid")
    ke, us = pid(accounts[rule_id, "KE"]), pid(accounts[rule_id, "US"])
    assert us not in rows.index
    expected = floors.floor(rule, "min_payment", ["KE"])
    assert expected == Decimal(238) and Decimal(str(rows.loc[ke].amount_floor)) == expected
    assert rows.loc[ke].qualified_window_hours == str(days.window_hours)
    assert not {ke, us} & set(execute(rule_id, FULL, data_dir=bare).frame["subject_account_pid"])
