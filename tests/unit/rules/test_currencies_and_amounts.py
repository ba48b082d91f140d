"""Currencies and USD amounts from the reference data (issue 19): any code of the currencies
dataset is evaluated, an unknown one is poison, a missing amount_base is derived at the booking
day's rate or stays unknown; an unknown amount is counted where the rules count and left out where
they add up or compare amounts."""
from datetime import timedelta as td
from decimal import Decimal

import pytest
from rule_runner import T0

from aml.reference import build
from lambdas.realtime_rules.records import PoisonRecord

CALL_FOR_ACTION = "KP"  # on the call-for-action list of every publication we hold
GREY = "KE"  # on the grey list in force on T0 (the 2025-10-24 publication)


def test_a_new_fiat_currency_with_its_amount_base_is_evaluated(make_tx, run_rules):
    naira = [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=16_000_000, currency="NGN",
                     amount_base=11_000)]
    assert naira[0].currency == "NGN" and naira[0].amount_base == Decimal(11_000)
    [draft] = run_rules(naira, "A", rule_id="large_cash")
    assert draft.details["total_usd"] == 11_000


def test_a_crypto_code_with_its_amount_base_is_evaluated(make_tx, run_rules):
    [t] = [make_tx(orig="A", benef="B", amount=0.5, currency="BTC", amount_base=50_000, type="crypto",
                   beneficiary_country=GREY)]
    assert t.currency == "BTC" and t.amount_base == Decimal(50_000) and not t.amount_base_derived
    [draft] = run_rules([t], "A", rule_id="high_risk_jurisdiction")
    assert draft.details["list"] == "grey_list" and draft.details["amount_usd"] == 50_000


def test_a_euro_amount_without_amount_base_is_derived_from_the_reference_rate(make_tx):
    t = make_tx(amount=1234.56, currency="EUR", amount_base=None)
    expected = build.in_memory().amount_base(Decimal("1234.56"), "EUR", T0.date(), None)
    assert expected is not None and t.amount_base == expected and t.amount_base_derived


def test_a_crypto_amount_without_amount_base_is_unknown_not_refused(make_tx):
    t = make_tx(amount=2, currency="BTC", amount_base=None, type="crypto")
    assert t.amount_base is None and not t.amount_base_derived


def test_unknown_amounts_still_count_counterparties(make_tx, run_rules):
    """fan_in and fan_out count distinct counterparties: an amount is not needed."""
    ins = [make_tx(orig=f"P{i}", benef="A", at=td(minutes=i), amount=1, currency="BTC", amount_base=None,
                   type="crypto") for i in range(5)]
    [fan_in] = run_rules(ins, "A", rule_id="fan_in")
    assert fan_in.details["distinct_counterparties"] == 5 and fan_in.details["total_usd"] == 0
    outs = [make_tx(orig="A", benef=f"P{i}", at=td(minutes=i), amount=1, currency="BTC", amount_base=None,
                    type="crypto") for i in range(5)]
    assert len(run_rules(outs, "A", rule_id="fan_out")) == 1


def test_an_unknown_amount_to_a_call_for_action_country_raises_an_alert(make_tx, run_rules):
    wire = make_tx(orig="A", benef="B", amount=3, currency="BTC", amount_base=None,
                   beneficiary_country=CALL_FOR_ACTION)
    [draft] = run_rules([wire], "A", rule_id="high_risk_jurisdiction")
    assert draft.details["list"] == "call_for_action" and draft.details["amount_usd"] is None


def test_an_unknown_amount_to_a_grey_list_country_raises_nothing(make_tx, run_rules):
    """The grey list applies from grey_list_min_amount USD: an unknown amount cannot reach it."""
    wire = make_tx(orig="A", benef="B", amount=3, currency="BTC", amount_base=None, beneficiary_country=GREY)
    assert run_rules([wire], "A", rule_id="high_risk_jurisdiction") == []
    known = make_tx(orig="A", benef="B", amount=3000, beneficiary_country=GREY)
    assert len(run_rules([known], "A", rule_id="high_risk_jurisdiction")) == 1


def test_unknown_amounts_are_left_out_of_sums_and_thresholds(make_tx, run_rules):
    """A large cash day of 9,000 USD plus a cash deposit of unknown USD amount stays below the
    10,000 threshold: the unknown one is neither added nor evidence."""
    known = make_tx(type="cash_deposit", orig="CASH", benef="A", amount=9_000)
    unknown = make_tx(type="cash_deposit", orig="CASH", benef="A", amount=5, currency="BTC", amount_base=None,
                      at=td(hours=1))
    assert run_rules([known, unknown], "A", rule_id="large_cash") == []
    more = make_tx(type="cash_deposit", orig="CASH", benef="A", amount=1_500, at=td(hours=2))
    [draft] = run_rules([known, unknown, more], "A", rule_id="large_cash")
    assert unknown.transaction_id not in draft.transaction_ids and draft.details["count"] == 2


def test_unknown_amounts_do_not_move_money_in_rapid_movement(make_tx, run_rules):
    inflow = make_tx(orig="X", benef="A", amount=10_000)
    unknown_out = make_tx(orig="A", benef="Y", amount=9, currency="BTC", amount_base=None, at=td(hours=1))
    assert run_rules([inflow, unknown_out], "A", rule_id="rapid_movement") == []


@pytest.mark.parametrize("code", ["QQQ", "EURO", ""])
def test_an_unknown_currency_code_is_poison_with_its_reason(make_tx, code):
    with pytest.raises(PoisonRecord, match=f"currency: .*{code!r} is not a code of the currencies reference"):
        make_tx(currency=code)


def test_a_non_positive_amount_base_is_still_poison(make_tx):
    with pytest.raises(PoisonRecord, match="amount_base: Input should be greater than 0"):
        make_tx(amount_base=0)


AMOUNT_RULES = ("large_cash", "structuring", "smurfing", "rapid_movement", "round_amounts")


def test_no_amount_rule_takes_an_unknown_amount_as_evidence(make_tx, run_rules):
    """Every rule over a mix of known and unknown amounts (cash, round, flows): nothing fails, and
    the rules that compare or add amounts never name an unknown one among their transactions."""
    def unknown(**kw):
        return make_tx(currency="BTC", amount_base=None, **kw)

    mix = []
    for i in range(6):
        at = td(hours=i)
        mix += [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=9_500, at=at, originator_name=f"d{i}"),
                unknown(type="cash_deposit", orig="CASH", benef="A", amount=9_500, at=at, originator_name=f"u{i}"),
                make_tx(orig="A", benef=f"P{i}", amount=5_000, at=at + td(minutes=1)),
                unknown(orig="A", benef=f"Q{i}", amount=5_000, at=at + td(minutes=2))]
    drafts = run_rules(mix, "A")
    assert {"large_cash", "structuring", "smurfing", "round_amounts"} <= {d.rule_id for d in drafts}
    unknown_ids = {t.transaction_id for t in mix if t.amount_base is None}
    for draft in drafts:
        if draft.rule_id in AMOUNT_RULES:
            assert not unknown_ids & set(draft.transaction_ids), draft.rule_id
