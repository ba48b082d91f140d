"""Issue 19: the same wire through both paths (the rules Lambda's code and the named query on the
local engine over the curated zone) gives the same answer, on each side of a FATF list change,
before the oldest publication, and in currencies with and without a USD amount."""
from __future__ import annotations

from datetime import datetime

import pytest
from rule_runner import T0
from test_threshold_boundaries import SUBJECT, lambda_flags, query_flags

from aml.reference import build


def _wire(booked_at: str, country: str, amount: str, currency: str = "USD", amount_base: str | None = "same",
          **extra) -> dict:
    return {"orig": SUBJECT, "benef": "Y", "beneficiary_country": country, "amount": amount, "currency": currency,
            "amount_base": amount if amount_base == "same" else amount_base,
            "at": datetime.fromisoformat(booked_at) - T0, **extra}


WIRES = {
    # Nigeria left the grey list at the October 2025 plenary (effective 2025-10-24, UTC date of booked_at)
    "grey_list_day_before_change": (_wire("2025-10-23T23:30:00+00:00", "NG", "5000"), True),
    "grey_list_day_of_change": (_wire("2025-10-24T00:30:00+00:00", "NG", "5000"), False),
    "local_time_next_day_still_utc_day_before": (_wire("2025-10-24T01:30:00+02:00", "NG", "5000"), True),
    "before_the_oldest_publication": (_wire("2024-03-01T12:00:00+00:00", "NG", "5000"), True),
    "call_for_action_before_the_oldest": (_wire("2021-06-01T12:00:00+00:00", "IR", "10"), True),
    # currencies: crypto without a USD amount, a currency the old contract refused, derived amounts
    "call_for_action_in_bitcoin_without_usd_amount": (_wire("2025-07-01T12:00:00+00:00", "IR", "0.5", "BTC", None),
                                                       True),
    "grey_list_needs_a_known_amount": (_wire("2025-07-01T12:00:00+00:00", "NG", "2", "BTC", None), False),
    "grey_list_in_naira_with_the_banks_usd_amount": (_wire("2025-07-01T12:00:00+00:00", "NG", "9000000", "NGN",
                                                           "5850"), True),
    "grey_list_in_kronor_usd_derived_above": (_wire("2025-07-01T12:00:00+00:00", "NG", "50000", "SEK", None),
                                              True),
    "grey_list_in_kronor_usd_derived_below": (_wire("2025-07-01T12:00:00+00:00", "NG", "20000", "SEK", None),
                                              False),
}


@pytest.mark.parametrize("case", WIRES)
def test_the_same_wire_gets_the_same_answer_in_both_paths(case, tmp_path):
    row, expected = WIRES[case]
    assert (lambda_flags("high_risk_jurisdiction", [row]), query_flags("high_risk_jurisdiction", [row], tmp_path)) \
        == (expected, expected)


def test_the_derived_amounts_straddle_the_grey_list_threshold():
    """The kronor cases above test what they say: ECB-derived USD amounts either side of 3,000."""
    from decimal import Decimal

    day = datetime(2025, 7, 1).date()
    rate = build.in_memory().usd_per_unit("SEK", day)
    assert Decimal(20000) * rate < 3000 < Decimal(50000) * rate


def test_fan_in_counts_payments_whose_usd_amount_is_unknown_in_both_paths(tmp_path):
    rows = [{"orig": f"X{i}", "benef": SUBJECT, "amount": "0.1", "currency": "BTC", "amount_base": None,
             "at": datetime.fromisoformat(f"2025-07-01T1{i}:00:00+00:00") - T0} for i in range(5)]
    assert (lambda_flags("fan_in", rows), query_flags("fan_in", rows, tmp_path)) == (True, True)
