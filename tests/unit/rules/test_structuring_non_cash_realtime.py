"""Issue 23: structuring_non_cash in the rules Lambda (rules/splitting.py): payments SENT by the
account, of the rule's transaction_types, each in [min_amount, max_amount) USD, at least min_count
within window_days (event time, sliding), summing above min_total; one alert per episode."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta as td

import pytest

from lambdas.realtime_rules.alerts import alert_id
from lambdas.realtime_rules.rules import ALL_RULES, SLIDING

RULE = "structuring_non_cash"


def test_the_parameters_these_tests_assume(params):
    p = params.rule(RULE).params
    assert (p["min_amount"], p["max_amount"], p["min_count"], p["window_days"], p["min_total"]) == \
        (2400, 3000, 3, 3, 3000)
    assert set(p["transaction_types"]) == {"wire", "ach", "check", "crypto", "internal"}
    assert RULE in ALL_RULES and RULE in SLIDING


def _sent(make_tx, amounts_at, type="wire", **kw):  # noqa: A002
    return [make_tx(orig="A", benef=f"R{i}", amount=a, at=o, type=type, **kw) for i, (a, o) in enumerate(amounts_at)]


def _one(drafts):
    assert drafts and len({d.anchor for d in drafts}) == 1, drafts
    return drafts[-1]


@pytest.mark.parametrize("amounts", [(2400, 2500, 2999.99), (2999, 2999, 2999), (2450.5, 2800, 2600)])
def test_fires_on_payments_just_below_the_threshold(make_tx, run_rules, amounts):
    payments = _sent(make_tx, [(a, td(hours=20 * i)) for i, a in enumerate(amounts)])
    draft = _one(run_rules(payments, "A", rule_id=RULE))
    assert draft.anchor == payments[0].transaction_id and draft.subject_account_id == "A"
    assert draft.transaction_ids == tuple(t.transaction_id for t in payments)
    assert draft.details == {"count": 3, "total_usd": round(sum(amounts), 2), "band_usd": [2400, 3000],
                             "min_total_usd": 3000}


def test_mixed_transfer_types_count_together(make_tx, run_rules):
    payments = [make_tx(orig="A", benef="R", amount=2500, type=t, at=td(hours=h))
                for t, h in (("wire", 0), ("ach", 5), ("check", 10))]
    assert _one(run_rules(payments, "A", rule_id=RULE))


@pytest.mark.parametrize("amount", [2399.99, 3000, 3000.01, 100])
def test_quiet_when_one_payment_is_outside_the_band(make_tx, run_rules, amount):
    payments = _sent(make_tx, [(2500, td(0)), (amount, td(hours=6)), (2500, td(hours=12))])
    assert run_rules(payments, "A", rule_id=RULE) == []


def test_quiet_with_two_payments_or_beyond_the_window(make_tx, run_rules):
    assert run_rules(_sent(make_tx, [(2900, td(0)), (2900, td(days=1))]), "A", rule_id=RULE) == []
    beyond = _sent(make_tx, [(2500, td(0)), (2500, td(days=1)), (2500, td(days=3, seconds=1))])
    assert run_rules(beyond, "A", rule_id=RULE) == []
    at_length = _sent(make_tx, [(2500, td(0)), (2500, td(days=1)), (2500, td(days=3))])
    assert _one(run_rules(at_length, "A", rule_id=RULE))


@pytest.mark.parametrize("type_", ["card", "cash_withdrawal", "cash_deposit"])
def test_quiet_for_types_outside_the_rule(make_tx, run_rules, type_):
    benef = "CASH" if type_ == "cash_withdrawal" else "R"
    orig = "CASH" if type_ == "cash_deposit" else "A"
    payments = [make_tx(orig=orig, benef=benef if orig == "A" else "A", amount=2500, type=type_, at=td(hours=h))
                for h in (0, 5, 10)]
    assert run_rules(payments, "A", rule_id=RULE) == []


def test_quiet_for_payments_received(make_tx, run_rules):
    received = [make_tx(orig=f"P{i}", benef="A", amount=2500, at=td(hours=i)) for i in range(3)]
    assert run_rules(received, "A", rule_id=RULE) == []
    # ... but the payers' own side sees nothing either: each sent only one
    assert run_rules(received, "P0", rule_id=RULE) == []


def test_the_total_must_exceed_min_total(make_tx, run_rules, params):
    """With the contract's values three payments in the band always exceed 3,000; a larger
    min_total shows the strict comparison."""
    rules = dict(params.rules)
    rules[RULE] = replace(rules[RULE], params={**rules[RULE].params, "min_total": 7500})
    stricter = replace(params, rules=rules)
    at_total = _sent(make_tx, [(2500, td(hours=h)) for h in (0, 1, 2)])
    assert run_rules(at_total, "A", params=stricter, rule_id=RULE) == []
    above = _sent(make_tx, [(2500, td(0)), (2500, td(hours=1)), (2500.01, td(hours=2))])
    assert _one(run_rules(above, "A", params=stricter, rule_id=RULE))


def test_cash_structuring_and_non_cash_splitting_stay_apart(make_tx, run_rules):
    cash = [make_tx(orig="CASH", benef="A", amount=9000, type="cash_deposit", at=td(days=d)) for d in (0, 1)]
    assert run_rules(cash, "A", rule_id=RULE) == [] and run_rules(cash, "A", rule_id="structuring")
    wires = _sent(make_tx, [(2500, td(hours=h)) for h in (0, 1, 2)])
    assert run_rules(wires, "A", rule_id="structuring") == []


# ---- episodes, late records, redelivery ------------------------------------------------------------
def test_a_sliding_episode_is_one_alert(make_tx, run_rules):
    """Five payments a day apart: windows [0-2], [1-3], [2-4] all qualify, one episode."""
    payments = _sent(make_tx, [(2500, td(days=d)) for d in range(5)])
    drafts = run_rules(payments, "A", rule_id=RULE)
    assert len(drafts) == 3 and _one(drafts).anchor == payments[0].transaction_id
    later = _sent(make_tx, [(2500, td(days=d)) for d in (20, 20.5, 21)])
    drafts = run_rules(payments + later, "A", rule_id=RULE)
    assert len({d.anchor for d in drafts}) == 2


def test_late_records_give_the_in_order_anchor(make_tx, run_rules):
    payments = _sent(make_tx, [(2500, td(hours=h)) for h in (0, 30, 60)])
    in_order = _one(run_rules(payments, "A", rule_id=RULE))
    for order in ([2, 1, 0], [1, 2, 0], [0, 2, 1]):
        late = _one(run_rules([payments[i] for i in order], "A", rule_id=RULE))
        assert alert_id(late) == alert_id(in_order), order


def test_a_record_beyond_the_horizon_completes_nothing(make_tx, run_rules):
    payments = _sent(make_tx, [(2500, td(hours=h)) for h in (0, 30, 60)])
    newer = make_tx(orig="A", benef="Z", amount=10, at=td(days=9))
    assert run_rules([payments[1], payments[2], newer, payments[0]], "A", rule_id=RULE) == []


def test_redelivery_keeps_the_alert_id(make_tx, run_rules):
    payments = _sent(make_tx, [(2500, td(hours=h)) for h in (0, 30, 60)])
    drafts = run_rules(payments + payments + payments[::-1], "A", rule_id=RULE)
    assert len(drafts) == 7 and len({alert_id(d) for d in drafts}) == 1
