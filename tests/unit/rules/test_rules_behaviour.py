"""Round amounts, velocity spike, dormant reactivation, high-risk jurisdiction, parameters."""
import json
from datetime import timedelta as td

from aml_contract import rules as contract_rules


def test_round_amounts_three_times_in_30_days(make_tx, run_rules):
    def pay(amount, days):
        return make_tx(orig="A", benef="Y", amount=amount, at=td(days=days))
    assert len(run_rules([pay(2000, 0), pay(5000, 10), pay(1000, 30)], "A", rule_id="round_amounts")) == 1
    assert run_rules([pay(2000, 0), pay(5000, 10), pay(1000.5, 20)], "A", rule_id="round_amounts") == []
    assert run_rules([pay(2000, 0), pay(5000, 10), pay(1000, 30 + 1 / 86400)], "A", rule_id="round_amounts") == []
    assert run_rules([pay(2000, 0), pay(500, 1), pay(5000, 10)], "A", rule_id="round_amounts") == []
    assert len(run_rules([pay(2000, 0), pay(1000, 10.5), pay(5000, 10)], "A", rule_id="round_amounts")) == 1


def _history(make_tx, days=30, amount=100):
    return [make_tx(orig="A", benef="Y", amount=amount, at=td(days=d)) for d in range(days)]


def test_velocity_spike_against_own_baseline(make_tx, run_rules):
    base = _history(make_tx)
    spike = make_tx(orig="A", benef="Z", amount=20000, at=td(days=31))
    [draft] = run_rules([*base, spike], "A", rule_id="velocity_spike")
    assert "amount" in draft.details["spiked"]
    busy = _history(make_tx, amount=5000)  # a busy account's normal day is not a spike
    assert run_rules([*busy, make_tx(orig="A", benef="Z", amount=20000, at=td(days=31))], "A", rule_id="velocity_spike") == []
    short = _history(make_tx, days=10)  # too little history for a baseline
    assert run_rules([*short, make_tx(orig="A", benef="Z", amount=20000, at=td(days=11))], "A", rule_id="velocity_spike") == []


def test_dormant_reactivation_boundary(make_tx, run_rules):
    old = make_tx(orig="A", benef="Y", amount=100)
    at_90 = make_tx(orig="A", benef="Y", amount=6000, at=td(days=90))
    just_short = make_tx(orig="A", benef="Y", amount=6000, at=td(days=90, seconds=-1))
    assert len(run_rules([old, at_90], "A", rule_id="dormant_reactivation")) == 1
    assert run_rules([old, just_short], "A", rule_id="dormant_reactivation") == []
    small = make_tx(orig="A", benef="Y", amount=100, at=td(days=120))
    assert run_rules([old, small], "A", rule_id="dormant_reactivation") == []
    many = [make_tx(orig="A", benef="Y", amount=100, at=td(days=120, hours=h)) for h in (5, 1, 2, 3, 4)]
    assert len(run_rules([old, *many], "A", rule_id="dormant_reactivation")) == 1


def test_high_risk_jurisdiction_uses_the_lists_in_force(make_tx, run_rules):
    assert len(run_rules([make_tx(orig="A", benef="Y", amount=10, beneficiary_country="IR")], "A",
                         rule_id="high_risk_jurisdiction")) == 1
    grey_small = make_tx(orig="A", benef="Y", amount=2999, beneficiary_country="KE")
    grey_big = make_tx(orig="A", benef="Y", amount=3000, beneficiary_country="KE")
    assert run_rules([grey_small], "A", rule_id="high_risk_jurisdiction") == []
    assert len(run_rules([grey_big], "A", rule_id="high_risk_jurisdiction")) == 1
    # Nigeria left the grey list on 2025-10-24: flagged before, not after (event date decides).
    before = make_tx(orig="X", benef="A", amount=5000, originator_country="NG", at=td(days=-30))
    after = make_tx(orig="X", benef="A", amount=5000, originator_country="NG")
    assert len(run_rules([before], "A", rule_id="high_risk_jurisdiction")) == 1
    assert run_rules([after], "A", rule_id="high_risk_jurisdiction") == []
    # Stateless: still evaluated for a record beyond the out-of-order tolerance.
    late = make_tx(orig="A", benef="Y", amount=10, beneficiary_country="KP", at=td(days=-5))
    assert len(run_rules([make_tx(orig="A", benef="Y"), late], "A", rule_id="high_risk_jurisdiction")) == 1


def test_thresholds_come_from_the_parameter_file(make_tx, run_rules):
    raw = json.loads(contract_rules.PARAMETERS_FILE.read_text())
    deposits = [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=7000, at=td(days=d)) for d in (0, 1)]
    assert run_rules(deposits, "A", rule_id="structuring") == []
    raw["rules"]["structuring"]["min_amount"] = 6000
    assert len(run_rules(deposits, "A", params=contract_rules.parse(raw), rule_id="structuring")) == 1
