"""What the rules derive once instead of per transaction (Rule.exact, Rule.least_cents,
Rule.count_windows, base.amount_floor) answers exactly what deriving it again would, and a cached
floor never answers for another rule object or another reference's statistics."""
from __future__ import annotations

import dataclasses
from fractions import Fraction
from math import ceil

import pytest
from rule_runner import tx
from test_segment_floors_realtime import SMALL, _reference, _statistics

from aml_contract import rules
from lambdas.realtime_rules.rules.base import amount_floor


def _with(rule: rules.Rule, **params) -> rules.Rule:
    return dataclasses.replace(rule, params={**rule.params, **params})


@pytest.mark.parametrize("value", [0, 1, 0.8, 2999.99, 3000, 3000.005, 3000.001, 9999.995, 10_000, 0.1 + 0.2])
def test_least_cents_decides_every_whole_cent_as_the_exact_fraction(value):
    rule = _with(rules.load().rule("structuring"), min_amount=value)
    exact = Fraction(repr(value)) * 100
    assert rule.least_cents("min_amount") == ceil(exact)
    for cents in range(ceil(exact) - 3, ceil(exact) + 3):
        assert (cents >= rule.least_cents("min_amount")) == (cents >= exact)
        assert (cents < rule.least_cents("min_amount")) == (cents < exact)
    assert rule.least_cents("min_amount") == rule.least_cents("min_amount")  # the cached answer


def test_exact_and_count_windows_are_per_rule_object():
    base = rules.load().rule("fan_in")
    changed = _with(base, windows=[{**w, "min_counterparties": w["min_counterparties"] + 1} for w in base["windows"]])
    assert base.count_windows() != changed.count_windows()
    assert [w.min_counterparties for w in changed.count_windows()] == \
        [w.min_counterparties + 1 for w in base.count_windows()]
    assert base == dataclasses.replace(base)  # the caches are no part of a rule's equality
    with pytest.raises(TypeError, match="not a number"):
        base.exact("counterparty_types")


def test_a_cached_floor_answers_only_for_its_own_rule_and_statistics():
    stats, none = _reference(_statistics()), _reference({})
    rule = rules.load().rule("rapid_movement")
    lower = _with(rule, min_inflow=rule["min_inflow"] / 2, min_inflow_percentile=None)
    t_stats = tx(amount=100.0, originator_country=SMALL, reference=stats)
    t_none = tx(amount=100.0, originator_country=SMALL, reference=none)
    for _ in range(2):  # asked again, in turn: each from its own entry
        assert amount_floor(t_stats, rule, "min_inflow", [SMALL]).segment == "MW"  # Malawi's percentile
        assert amount_floor(t_none, rule, "min_inflow", [SMALL]).segment is None  # no statistics: absolute
        assert amount_floor(t_none, lower, "min_inflow", [SMALL]).shown == rule["min_inflow"] / 2
        assert amount_floor(t_stats, lower, "min_inflow", [SMALL]).segment is None  # no percentile: absolute
        assert amount_floor(t_none, rule, "min_inflow", [SMALL]).shown == rule["min_inflow"]
