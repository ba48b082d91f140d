"""fan_in_layered and fan_out_layered: fan-ins (fan-outs) two hops deep. A shape is a subject
account of the bank and its intermediaries, each with its own sources (destinations); the near
misses break one threshold each by a clear margin: a source short, an intermediary short, an
intermediary that paid on before it was paid, one hour outside the window, one cent below the
floor, the subject on the far side, a subject that is not the bank's."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import bare_and_published

from aml.query.run import execute
from aml_contract import rules

PARAMS = rules.load()
RULES = {"fan_in_layered": "min_sources", "fan_out_layered": "min_destinations"}  # rule -> its far-side count
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=59)).date().isoformat()}
SHAPE_START = 5.0  # days after START


@dataclass(frozen=True)
class Branch:
    """One intermediary: `near` hours after the shape's start it pays (fan-in) or is paid by
    (fan-out) the subject; its far-side counterparties pay it (fan-in) or are paid by it (fan-out)
    at `far` hours, one payment each (a repeated index: the same counterparty again)."""

    near: float
    far: tuple[float, ...]
    far_accounts: tuple[int, ...] = ()
    amount: float = 1_500.0  # each far-side payment
    near_amount: float = 1_500.0  # the payment between the intermediary and the subject
    far_is_subject: bool = False  # the first far-side counterparty is the subject itself

    def counterparties(self) -> tuple[int, ...]:
        return self.far_accounts or tuple(range(len(self.far)))


@dataclass(frozen=True)
class Shape:
    branches: tuple[Branch, ...]
    flagged: bool
    subject_is_ours: bool = True
    ttype: str = "wire"


def shapes(rule_id: str) -> dict[str, Shape]:
    """Hours are measured so that every payment of a fan-in precedes the subject's receipt and
    every onward payment of a fan-out follows the subject's payment."""
    rule = PARAMS.rule(rule_id)
    far_min, intermediaries, window = rule[RULES[rule_id]], rule["min_intermediaries"], rule["window_days"] * 24
    floor = rule["min_amount"]
    fan_in = rule_id == "fan_in_layered"

    def branch(i: int, count: int = far_min, span: float = 10.0) -> Branch:
        # fan-in: the sources pay over `span` hours, then the intermediary pays the subject;
        # fan-out: the subject pays, then the destinations are paid over `span` hours
        start = 2.0 * i
        if fan_in:
            return Branch(start + span + 1, tuple(start + span * k / max(count - 1, 1) for k in range(count)))
        return Branch(start, tuple(start + 1 + span * k / max(count - 1, 1) for k in range(count)))

    base = tuple(branch(i) for i in range(intermediaries))
    last = intermediaries - 1

    def with_last(b: Branch) -> tuple[Branch, ...]:
        return (*base[:last], b)

    # the whole shape `window + 1` (or `window - 1`) hours long: the first payment at 0, the last one then
    stretched = {}
    for label, length in (("just_inside", window - 1), ("one_hour_outside", window + 1)):
        if fan_in:
            stretched[label] = with_last(replace(base[last], near=length))
        else:
            stretched[label] = with_last(replace(base[last], far=(*base[last].far[:-1], length)))
    late_near = base[last].far[0] - 1 if fan_in else base[last].far[-1] + 1  # paid on before it was paid
    return {
        "layered": Shape(base, True),
        "layered_by_ach": Shape(base, True, ttype="ach"),
        "one_far_counterparty_short": Shape(with_last(branch(last, far_min - 1)), False),
        "a_far_counterparty_twice": Shape(with_last(replace(base[last], far_accounts=(0,) * far_min)), False),
        "the_subject_on_the_far_side": Shape(with_last(replace(base[last], far_is_subject=True)), False),
        "one_intermediary_short": Shape(base[:last], False),
        "paid_on_before_it_was_paid": Shape(with_last(replace(base[last], near=late_near)), False),
        "just_inside_the_window": Shape(stretched["just_inside"], True),
        "one_hour_outside_the_window": Shape(stretched["one_hour_outside"], False),
        "far_payment_a_cent_below_the_floor": Shape(with_last(replace(base[last], amount=floor - 0.01)), False),
        "near_payment_a_cent_below_the_floor": Shape(with_last(replace(base[last], near_amount=floor - 0.01)), False),
        "at_the_floor": Shape(tuple(replace(b, amount=float(floor), near_amount=float(floor)) for b in base), True),
        "subject_not_ours": Shape(base, False, subject_is_ours=False),
        "by_card": Shape(base, False, ttype="card"),
    }


def subject(rule_id: str, shape: str, country: str = "US") -> str:
    return f"LF{list(RULES).index(rule_id)}{shape}{country}"


def book(b: BankBuilder, rule_id: str, name: str, shape: Shape, country: str = "US") -> str:
    account = subject(rule_id, name, country)
    if shape.subject_is_ours:
        b.own(account)
    fan_in = rule_id == "fan_in_layered"
    here = {"src_country": country, "dst_country": country}

    def pay(src: str, dst: str, amount: float, hours: float) -> None:
        b.tx(src, dst, amount, START + timedelta(days=SHAPE_START, hours=hours), shape.ttype, **here)

    for i, br in enumerate(shape.branches):
        middle = f"{account}-I{i}"
        pay(*((middle, account) if fan_in else (account, middle)), br.near_amount, br.near)
        for k, (hours, who) in enumerate(zip(br.far, br.counterparties(), strict=True)):
            far = account if br.far_is_subject and k == 0 else f"{middle}-F{who}"
            pay(*((far, middle) if fan_in else (middle, far)), br.amount, hours)
    return account


@pytest.fixture(scope="module")
def results(make_zone, tmp_path_factory):
    b = BankBuilder()
    for rule_id in RULES:
        for name, shape in shapes(rule_id).items():
            book(b, rule_id, name, shape)
    root = tmp_path_factory.mktemp("layered_fans")
    make_zone(b, root)
    return {rule_id: execute(rule_id, FULL, data_dir=root).frame.set_index("subject_account_pid") for rule_id in RULES}


@pytest.mark.parametrize("rule_id", RULES)
@pytest.mark.parametrize("name", list(shapes("fan_in_layered")))
def test_flagged_exactly_when_every_threshold_is_met(results, rule_id, name, pid):
    assert (pid(subject(rule_id, name)) in results[rule_id].index) is shapes(rule_id)[name].flagged


@pytest.mark.parametrize("rule_id", RULES)
def test_the_row_says_how_many_intermediaries_and_counterparties(results, rule_id, pid):
    rule = PARAMS.rule(rule_id)
    row = results[rule_id].loc[pid(subject(rule_id, "layered"))]
    far_column = "max_sources_per_intermediary" if rule_id == "fan_in_layered" else "max_destinations_per_intermediary"
    assert (row.max_intermediaries, row[far_column]) == (rule["min_intermediaries"], rule[RULES[rule_id]])
    assert row.first_window_start == (START + timedelta(days=SHAPE_START)).replace(tzinfo=None)
    assert Decimal(str(row.amount_floor)) == rule["min_amount"]
    assert row.qualifying_windows >= 1 and not pd.isna(row.subject_customer_pid)
    for column in ("max_intermediaries", far_column, "qualifying_windows"):
        assert pd.api.types.is_integer_dtype(results[rule_id][column]), column


@pytest.fixture(scope="module")
def segment_results(make_zone, tmp_path_factory):
    """The layered shape with every payment at 300 USD (below the USD floor) in KE and in US,
    statistics published (KE p95 238)."""
    b = BankBuilder()
    accounts = {}
    for rule_id in RULES:
        small = Shape(tuple(replace(br, amount=300.0, near_amount=300.0) for br in shapes(rule_id)["layered"].branches), True)
        for country in ("KE", "US"):
            accounts[rule_id, country] = book(b, rule_id, "segment", small, country)
    bare, published, floors = bare_and_published(make_zone, b, tmp_path_factory, "layered")
    frames = {(rule_id, root.name): execute(rule_id, FULL, data_dir=root).frame.set_index("subject_account_pid")
              for rule_id in RULES for root in (bare, published)}
    return frames, bare.name, published.name, accounts, floors


@pytest.mark.parametrize("rule_id", RULES)
def test_small_value_economy_takes_its_segment_floor(segment_results, rule_id, pid):
    frames, bare, published, accounts, floors = segment_results
    ke, us = pid(accounts[rule_id, "KE"]), pid(accounts[rule_id, "US"])
    rows = frames[rule_id, published]
    assert us not in rows.index
    expected = floors.floor(PARAMS.rule(rule_id), "min_amount", ["KE"])
    assert expected == Decimal(238) and Decimal(str(rows.loc[ke].amount_floor)) == expected
    assert not {ke, us} & set(frames[rule_id, bare].index)  # nothing published: the USD floor
