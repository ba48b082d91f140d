"""The risk score orders accounts as the weights say, and the budget cuts the queue at its share."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

from aml_contract import risk, rules


def _params(**risk_score):
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["risk_score"] = {**raw["risk_score"], **risk_score}
    return rules.parse(raw)


def test_a_scenario_weighs_its_score_times_its_severity_multiplier():
    params = _params(severity_multipliers={"low": 1, "medium": 2, "high": 3})
    for rule_id, rule in params.rules.items():
        assert risk.weight(rule_id, params) == rule.score * {"low": 1, "medium": 2, "high": 3}[rule.severity]


def test_the_score_orders_accounts_as_the_weights_say():
    params = _params(severity_multipliers={"low": 1, "medium": 2, "high": 3})
    # fan_in (medium 60 -> 120) + round_amounts (low 40 -> 40) = 160 beats velocity_spike alone
    # (medium 55 -> 110) and loses to cycles alone (high 85 -> 255)
    hits = {"A": ["velocity_spike"], "B": ["fan_in", "round_amounts"], "C": ["cycles"],
            "D": ["fan_in", "fan_in", "round_amounts"]}  # repeated scenario counts once
    ranked = risk.rank(hits, params, alerts={"A": 9, "B": 2, "C": 1, "D": 3})
    assert [(r.account, r.risk_score) for r in ranked] == [("C", 255), ("D", 160), ("B", 160), ("A", 110)]
    # equal scores: more alerts first (D 3 > B 2), then the account id

    flat = _params(severity_multipliers={"low": 1, "medium": 1, "high": 1})
    assert [r.account for r in risk.rank(hits, flat, alerts={"A": 9, "B": 2, "C": 1, "D": 3})] == ["D", "B", "C", "A"]


def test_the_budget_cuts_the_queue_at_the_stated_share():
    params = _params()
    hits = {f"A{i:03d}": ["fan_in"] * (1 + i % 3) + (["cycles"] if i % 7 == 0 else []) for i in range(250)}
    ranked = risk.rank(hits, params)
    for budget, active, expected in ((0.01, 1000, 10), (Fraction(1, 100), 999, 9), (0.05, 250, 12), (1, 250, 250),
                                     (0.01, 99, 0)):
        queue = risk.queue(ranked, active, budget)
        assert len(queue) == expected == risk.queue_size(active, budget)
        assert queue == ranked[:expected]  # the top of the order, nothing else
    # 0.07 x 100 is exactly 7, not 7.000000000000001 or 6.9999 (exact decimal share)
    assert risk.queue_size(100, 0.07) == 7 and risk.queue_size(300, 0.07) == 21
    with pytest.raises(ValueError):
        risk.queue_size(10, 0)


@pytest.mark.parametrize("bad", [{"alert_budget": 0}, {"alert_budget": 1.5}, {"alert_budget": True},
                                 {"severity_multipliers": {"low": 1, "high": 1}},
                                 {"severity_multipliers": {"low": 1, "medium": -1, "high": 1}}])
def test_bad_risk_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="risk_score"):
        _params(**bad)
