"""Amounts are decimal(18,2) in the Lambda as in curation: extra decimals are rounded half up to
cents (Spark's cast), too large a value is a poison record (curation: invalid_decimal), and a
currency is matched exactly (curation compares it as sent)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rule_runner import parse_record

from lambdas.realtime_rules.records import PoisonRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(**values) -> bytes:
    row = {"transaction_id": "t1", "booked_at": "2025-03-03T10:00:00Z", "originator_account_id": "A",
           "beneficiary_account_id": "B", "amount": "100.00", "currency": "USD", "transaction_type": "wire",
           "status": "booked", **values}
    return json.dumps(row).encode()


@pytest.mark.parametrize(("values", "reason"), [
    ({"amount": "1e26"}, "does not fit decimal(18,2)"),
    ({"amount": "99999999999999999999.99", "currency": "EUR"}, "does not fit decimal(18,2)"),
    ({"amount": "100.00", "amount_base": "1e17"}, "does not fit decimal(18,2)"),
    ({"amount": "0.004", "currency": "JPY"}, "greater than 0 once rounded"),
    ({"currency": "eur"}, "'eur' is not a code"),
])
def test_values_curation_would_refuse_are_poison_records(values, reason):
    with pytest.raises(PoisonRecord, match=re.escape(reason)):
        parse_record(record(**values), NOW)


def test_extra_decimals_are_rounded_half_up_to_cents_before_the_rate_applies():
    tx = parse_record(record(amount="1000.005", currency="GBP"), NOW)
    assert tx.row.amount == Decimal("1000.01")
    from aml.reference import build

    expected = build.in_memory().amount_base(Decimal("1000.01"), "GBP", tx.booked_at.date(), None)
    assert tx.amount_base == expected


def test_a_derived_amount_too_large_for_decimal_18_2_is_unknown_not_an_error():
    tx = parse_record(record(amount="9999999999999999.99", currency="EUR"), NOW)
    assert tx.amount_base is None
