"""structuring_non_cash: payments sent by one account, each just under the funds-transfer
recordkeeping threshold, several within the window. Near misses fail one threshold each by a clear
margin (a cent below the band, the band's ceiling itself, one payment short, one hour outside the
window, a type that is not counted, a payment received rather than sent); the window semantics are
structuring's, checked by running both on the same shape with the same thresholds."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from handmade_bank import START, BankBuilder

from aml.query import catalog
from aml.query.local import LocalEngine
from aml.query.run import execute
from aml_contract import named_queries, rules

PARAMS = rules.load()
RULE = PARAMS.rule("structuring_non_cash")
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=29)).date().isoformat()}
SHAPE_START = 5.0  # days after START
NOT_COUNTED = ("card", "cash_withdrawal")  # sent by the account, but not a type of the rule


def shapes() -> dict[str, tuple[list[tuple[float, float, str]], bool]]:
    """name -> ((hours after the shape's start, amount, type) of each payment sent, flagged?)."""
    low, high, count = RULE["min_amount"], RULE["max_amount"], RULE["min_count"]
    window = RULE["window_days"] * 24
    inside = (low + high) / 2
    types = RULE["transaction_types"]

    def spaced(amounts: list[float], last_hours: float | None = None, ttypes=None) -> list[tuple[float, float, str]]:
        # the first at 0, the last `last_hours` later (default: well inside), the others between
        last = last_hours if last_hours is not None else window / 2
        hours = [last * i / (len(amounts) - 1) for i in range(len(amounts))]
        return list(zip(hours, amounts, ttypes or ["wire"] * len(amounts), strict=True))

    band = [inside] * count
    assert high - low > 1 and count >= 2 and RULE["min_total"] < count * low  # min_total: see its own test
    return {
        "in_the_band": (spaced(band), True),
        "at_the_band_floor": (spaced([float(low)] * count), True),
        "a_cent_below_the_band": (spaced([*band[:-1], low - 0.01]), False),
        "at_the_band_ceiling": (spaced([*band[:-1], float(high)]), False),
        "one_payment_short": (spaced(band[:-1]), False),
        "just_inside_the_window": (spaced(band, window - 1), True),
        "one_hour_outside_the_window": (spaced(band, window + 1), False),
        "every_type_of_the_rule": (spaced([inside] * len(types), ttypes=list(types)), True),
        "one_of_a_type_not_counted": (spaced(band, ttypes=[*["wire"] * (count - 1), NOT_COUNTED[0]]), False),
        "another_type_not_counted": (spaced(band, ttypes=[*["wire"] * (count - 1), NOT_COUNTED[1]]), False),
    }


def book(b: BankBuilder, name: str, payments, *, ours: bool = True, received: bool = False,
         known_base: bool = True, one_beneficiary: bool = False) -> str:
    account = f"SNC{name}"
    if ours:
        b.own(account)
    for i, (hours, amount, ttype) in enumerate(payments):
        other = "CASH" if ttype.startswith("cash") else f"{account}-B{0 if one_beneficiary else i}"
        src, dst = (other, account) if received else (account, other)
        money = {} if known_base else {"currency": "NGN", "amount_base": None}
        b.tx(src, dst, amount, START + timedelta(days=SHAPE_START, hours=hours), ttype, **money)
    return account


@pytest.fixture(scope="module")
def zone(make_zone, tmp_path_factory):
    b = BankBuilder()
    for name, (payments, _) in shapes().items():
        book(b, name, payments)
    band = shapes()["in_the_band"][0]
    book(b, "received_not_sent", band, received=True)
    book(b, "sent_by_an_account_not_ours", band, ours=False)
    book(b, "without_fx_rate", band, known_base=False)
    book(b, "one_beneficiary", band, one_beneficiary=True)
    mirror_shapes(b)
    root = tmp_path_factory.mktemp("structuring_non_cash")
    make_zone(b, root)
    return root


@pytest.fixture(scope="module")
def rows(zone):
    return execute("structuring_non_cash", FULL, data_dir=zone).frame.set_index("subject_account_pid")


@pytest.mark.parametrize("name", list(shapes()))
def test_flagged_exactly_when_every_threshold_is_met(rows, name, pid):
    assert (pid(f"SNC{name}") in rows.index) is shapes()[name][1]


@pytest.mark.parametrize("name", ["received_not_sent", "sent_by_an_account_not_ours", "without_fx_rate"])
def test_not_the_senders_payments_not_flagged(rows, name, pid):
    assert pid(f"SNC{name}") not in rows.index


def test_the_row_reports_the_window(rows, pid):
    count, inside = RULE["min_count"], (RULE["min_amount"] + RULE["max_amount"]) / 2
    row = rows.loc[pid("SNCin_the_band")]
    first = (START + timedelta(days=SHAPE_START)).replace(tzinfo=None)
    assert row.first_window_start == first
    assert row.last_window_end == first + timedelta(hours=RULE["window_days"] * 24 / 2)
    assert (row.max_payment_count, row.max_beneficiaries, row.qualifying_windows) == (count, count, 1)
    assert Decimal(str(row.max_total_amount)) == Decimal(str(inside)) * count
    assert rows.loc[pid("SNCone_beneficiary")].max_beneficiaries == 1
    for column in ("max_payment_count", "max_beneficiaries", "qualifying_windows"):
        assert pd.api.types.is_integer_dtype(rows[column]), column


def with_rule(**changes) -> rules.RuleParameters:
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["rules"]["structuring_non_cash"].update(changes)
    return rules.parse(raw)


def run_with(params: rules.RuleParameters, name: str, root) -> pd.DataFrame:
    query = named_queries.parse(named_queries.QUERIES_DIR / f"{name}.sql", params)
    return LocalEngine(root).run(query, catalog.bind(query, FULL)).frame.set_index("subject_account_pid")


def test_the_total_must_exceed_min_total(zone, pid):
    """With the contract's values min_count payments in the band always exceed min_total; a
    min_total equal to the shape's total shows the comparison is strict."""
    total = (RULE["min_amount"] + RULE["max_amount"]) / 2 * RULE["min_count"]
    found = run_with(with_rule(min_total=total), "structuring_non_cash", zone)
    assert pid("SNCin_the_band") not in found.index
    found = run_with(with_rule(min_total=total - 0.01), "structuring_non_cash", zone)
    assert pid("SNCin_the_band") in found.index


# The same hours and amounts as cash deposits into one account (structuring) and as wires sent by
# another (structuring_non_cash given structuring's thresholds): several windows, some qualifying.
MIRROR_HOURS_AMOUNTS = [(0, 9_000.0), (30, 8_500.0), (71, 9_900.0), (80, 8_000.0), (150, 9_999.99),
                        (160, 7_999.99), (223, 8_100.0), (500, 9_000.0)]


def mirror_shapes(b: BankBuilder) -> None:
    cash, wires = b.own("SNCMIRRORCASH"), b.own("SNCMIRRORWIRE")
    for i, (hours, amount) in enumerate(MIRROR_HOURS_AMOUNTS):
        when = START + timedelta(days=SHAPE_START, hours=hours)
        b.tx("CASH", cash, amount, when, "cash_deposit")
        b.tx(wires, f"SNCMIRROR-B{i}", amount, when, "wire")


def test_windows_are_structurings(zone, pid):
    cash_rule = PARAMS.rule("structuring")
    same = with_rule(**{k: cash_rule[k] for k in ("min_amount", "max_amount", "min_count", "window_days", "min_total")})
    cash = execute("structuring", FULL, data_dir=zone).frame.set_index("subject_account_pid").loc[pid("SNCMIRRORCASH")]
    sent = run_with(same, "structuring_non_cash", zone).loc[pid("SNCMIRRORWIRE")]
    assert cash.qualifying_windows >= 2
    assert (sent.first_window_start, sent.last_window_end, sent.max_payment_count, sent.max_total_amount,
            sent.qualifying_windows) == (cash.first_window_start, cash.last_window_end, cash.max_deposit_count,
                                         cash.max_total_amount, cash.qualifying_windows)
