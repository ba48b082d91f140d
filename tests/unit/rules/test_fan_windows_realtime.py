"""Issue 23: fan_in / fan_out over several windows in the rules Lambda (aml_contract.rules
CountWindow). Every `realtime` window is checked on event time: the unfloored hours window counts
any payment, the floored 168 h window only counterparties with a payment at or above the
`min_payment` floor (lowered to the segment's percentile: base.amount_floor). Whichever window
qualifies, one alert per episode; its details say which window(s) qualified. The 672 h windows
are batch-only (window.Horizons)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta as td

import pytest
from lambda_harness import reference_objects
from test_segment_floors_realtime import LARGE, SMALL, _statistics

from aml_contract.reference import ReferenceData
from lambdas.realtime_rules.alerts import alert_id
from lambdas.realtime_rules.window import DAY, HOUR, Horizons


@pytest.fixture(scope="module")
def stats() -> ReferenceData:
    objects = {**reference_objects(), **_statistics()}
    return ReferenceData(lambda key: objects[key])


def _windows(params, rule_id):
    return [(w.window_hours, w.min_counterparties, w.floored) for w in params.rule(rule_id).count_windows(True)]


def test_the_windows_these_tests_assume(params):
    assert _windows(params, "fan_in") == [(24, 5, False), (168, 3, True)]
    assert _windows(params, "fan_out") == [(8, 5, False), (168, 3, True)]
    for rule_id in ("fan_in", "fan_out"):
        assert params.rule(rule_id)["min_payment"] == 1000
        assert [w.window_hours for w in params.rule(rule_id).count_windows() if not w.realtime] == [672]


def _paid(make_tx, amounts_at, payers=None, **kw):
    """Credits into A: (amount, offset) pairs, each from its own payer unless `payers` says."""
    payers = payers or [f"P{i}" for i in range(len(amounts_at))]
    return [make_tx(orig=p, benef="A", amount=a, at=o, **kw) for p, (a, o) in zip(payers, amounts_at, strict=True)]


def _pays(make_tx, amounts_at, payees=None, **kw):
    payees = payees or [f"R{i}" for i in range(len(amounts_at))]
    return [make_tx(orig="A", benef=p, amount=a, at=o, **kw) for p, (a, o) in zip(payees, amounts_at, strict=True)]


def _one(drafts):
    """The single alert (every draft of one episode carries its anchor), as last found."""
    assert drafts and len({d.anchor for d in drafts}) == 1, drafts
    return drafts[-1]


# ---- the 168 h floored window where the hours window does not qualify ---------------------------
@pytest.mark.parametrize("days", [(0, 3, 6), (0, 1, 2), (0, 6.5, 7)])
def test_fan_in_three_large_payers_over_a_week(make_tx, run_rules, days):
    credits = _paid(make_tx, [(1500, td(days=d)) for d in days])
    draft = _one(run_rules(credits, "A", rule_id="fan_in"))
    assert draft.anchor == credits[0].transaction_id
    assert draft.details["window_hours"] == [168]
    assert draft.details["windows"] == [{
        "window_hours": 168, "min_counterparties": 3, "counterparties": 3, "count": 3, "total_usd": 4500.0,
        "floored": True, "min_payment_usd": 1000, "floor_basis": "absolute", "floor_segment": None,
        "floor_percentile": None}]


def test_fan_out_three_large_payees_over_a_week(make_tx, run_rules):
    payments = _pays(make_tx, [(2000, td(days=0)), (1000, td(days=2)), (5000, td(days=5, hours=3))])
    draft = _one(run_rules(payments, "A", rule_id="fan_out"))
    assert draft.details["window_hours"] == [168] and draft.details["distinct_counterparties"] == 3
    assert draft.transaction_ids == tuple(t.transaction_id for t in payments)
    assert run_rules(payments, "A", rule_id="fan_in") == []


def test_floored_window_near_misses(make_tx, run_rules):
    # one payment under the floor (999.99): two counterparties count
    assert run_rules(_paid(make_tx, [(1500, td(0)), (999.99, td(days=2)), (1500, td(days=4))]), "A",
                     rule_id="fan_in") == []
    # at the floor exactly: counts
    assert _one(run_rules(_paid(make_tx, [(1500, td(0)), (1000, td(days=2)), (1500, td(days=4))]), "A",
                          rule_id="fan_in"))
    # one second beyond 168 h; at 168 h exactly the window (both ends inclusive) holds all three
    assert run_rules(_paid(make_tx, [(1500, td(0)), (1500, td(days=3)), (1500, td(hours=168, seconds=1))]), "A",
                     rule_id="fan_in") == []
    assert _one(run_rules(_paid(make_tx, [(1500, td(0)), (1500, td(days=3)), (1500, td(hours=168))]), "A",
                          rule_id="fan_in"))
    # three large payments, two payers
    assert run_rules(_paid(make_tx, [(1500, td(0)), (1500, td(days=1)), (1500, td(days=2))],
                           payers=["P0", "P1", "P0"]), "A", rule_id="fan_in") == []
    # fan_out: a large payee twice and a small one
    assert run_rules(_pays(make_tx, [(3000, td(0)), (3000, td(days=1)), (900, td(days=2))],
                           payees=["R0", "R0", "R1"]), "A", rule_id="fan_out") == []


def test_small_payments_count_in_the_hours_window_only(make_tx, run_rules):
    """Ten payers of 500 over six days, never five within 24 h: the floored week window ignores them."""
    spread = _paid(make_tx, [(500, td(hours=15 * i)) for i in range(10)])
    assert run_rules(spread, "A", rule_id="fan_in") == []
    # two large payers among them: still short of three counted
    mixed = _paid(make_tx, [(1500 if i in (2, 7) else 500, td(hours=15 * i)) for i in range(10)])
    assert run_rules(mixed, "A", rule_id="fan_in") == []


def test_a_payer_counts_by_its_payment_at_the_floor(make_tx, run_rules):
    """P1 pays small then large: its large payment counts it, and only that payment is evidence."""
    credits = _paid(make_tx, [(1500, td(0)), (200, td(days=1)), (1200, td(days=2)), (1800, td(days=3))],
                    payers=["P0", "P1", "P1", "P2"])
    draft = _one(run_rules(credits, "A", rule_id="fan_in"))
    assert credits[1].transaction_id not in draft.transaction_ids
    assert draft.details["windows"][0]["counterparties"] == 3 and draft.details["windows"][0]["count"] == 3


def test_the_floor_is_the_segments_percentile_where_lower(make_tx, run_rules, stats):
    """Malawi's p95 is 600: three payments of 700 booked there count; in Switzerland (p95 50,000)
    the absolute 1,000 applies and they do not."""
    small = _paid(make_tx, [(700, td(days=d)) for d in (0, 2, 4)], beneficiary_country=SMALL, reference=stats)
    draft = _one(run_rules(small, "A", rule_id="fan_in"))
    assert draft.details["windows"][0].items() >= {"min_payment_usd": 600.0, "floor_basis": "segment",
                                                   "floor_segment": SMALL, "floor_percentile": 95}.items()
    large = _paid(make_tx, [(700, td(days=d)) for d in (0, 2, 4)], beneficiary_country=LARGE, reference=stats)
    assert run_rules(large, "A", rule_id="fan_in") == []
    under = _paid(make_tx, [(700, td(0)), (599.99, td(days=2)), (700, td(days=4))], beneficiary_country=SMALL,
                  reference=stats)
    assert run_rules(under, "A", rule_id="fan_in") == []
    sent = _pays(make_tx, [(700, td(days=d)) for d in (0, 2, 4)], originator_country=SMALL, reference=stats)
    assert _one(run_rules(sent, "A", rule_id="fan_out")).details["windows"][0]["floor_segment"] == SMALL


# ---- one alert per episode, whichever window qualified -------------------------------------------
def test_both_windows_qualifying_at_once_make_one_draft_naming_both(make_tx, run_rules):
    """Five large payers within 24 h: the week window qualifies at the third, both at the fifth."""
    credits = _paid(make_tx, [(1500, td(hours=h)) for h in (0, 2, 4, 6, 8)])
    drafts = run_rules(credits, "A", rule_id="fan_in")
    assert len(drafts) == 3  # the third, fourth and fifth credit each find it
    draft = _one(drafts)
    assert [d.details["window_hours"] for d in drafts] == [[168], [168], [24, 168]]
    assert draft.anchor == credits[0].transaction_id
    assert [w["counterparties"] for w in draft.details["windows"]] == [5, 5]


def test_one_alert_when_the_windows_qualify_on_different_evidence(make_tx, run_rules):
    """Five small payers within four hours (the 24 h window), then large payers over the next
    day (the week window): the evidence overlaps in event time, one alert."""
    small = _paid(make_tx, [(500, td(hours=h)) for h in range(5)])
    large = _paid(make_tx, [(1500, td(hours=h)) for h in (1, 5, 30)], payers=["L0", "L1", "L2"])
    ordered = sorted(small + large, key=lambda t: t.ts)
    drafts = run_rules(ordered, "A", rule_id="fan_in")
    draft = _one(drafts)
    assert draft.anchor == small[0].transaction_id
    assert {h for d in drafts for h in d.details["window_hours"]} == {24, 168}


def test_separate_episodes_make_separate_alerts(make_tx, run_rules):
    first = _paid(make_tx, [(1500, td(days=d)) for d in (0, 1, 2)])
    again = _paid(make_tx, [(1500, td(days=d)) for d in (20, 21, 22)], payers=["Q0", "Q1", "Q2"])
    drafts = run_rules(first + again, "A", rule_id="fan_in")
    assert [d.anchor for d in drafts] == [first[0].transaction_id, again[0].transaction_id]


def test_the_batch_only_672h_window_is_not_evaluated(make_tx, run_rules):
    """Five large payers five days apart qualify in the 672 h window (the Athena query), never in
    a realtime one."""
    assert run_rules(_paid(make_tx, [(1500, td(days=5 * i)) for i in range(5)]), "A", rule_id="fan_in") == []


# ---- late records and redelivery ---------------------------------------------------------------
def test_late_records_give_the_in_order_anchor(make_tx, run_rules):
    credits = _paid(make_tx, [(1500, td(days=d)) for d in (0, 3, 6)])
    in_order = _one(run_rules(credits, "A", rule_id="fan_in"))
    for order in ([2, 0, 1], [1, 2, 0], [2, 1, 0]):
        late = _one(run_rules([credits[i] for i in order], "A", rule_id="fan_in"))
        assert late.anchor == in_order.anchor == credits[0].transaction_id, order
        assert alert_id(late) == alert_id(in_order)
    short = _paid(make_tx, [(500, td(hours=h)) for h in (9, 0, 6, 3, 12)])
    assert _one(run_rules(short, "A", rule_id="fan_in")).anchor == short[1].transaction_id


def test_a_record_beyond_the_horizon_completes_nothing(make_tx, run_rules):
    """The day-0 credit arrives after one on day 8 (8 days behind: beyond the 7-day horizon)."""
    credits = _paid(make_tx, [(1500, td(days=d)) for d in (3, 6, 0)])
    newer = make_tx(orig="Z", benef="A", amount=10, at=td(days=8))
    assert run_rules([credits[0], credits[1], newer, credits[2]], "A", rule_id="fan_in") == []
    assert _one(run_rules([credits[0], credits[1], credits[2], newer], "A", rule_id="fan_in"))


def test_redelivery_keeps_the_alert_id(make_tx, run_rules):
    credits = _paid(make_tx, [(1500, td(hours=h)) for h in (0, 2, 4, 6, 8)])
    drafts = run_rules(credits + credits + credits[2:], "A", rule_id="fan_in")
    assert len({alert_id(d) for d in drafts}) == 1
    payments = _pays(make_tx, [(2000, td(days=d)) for d in (0, 2, 4)])
    assert len({alert_id(d) for d in run_rules(payments + payments[::-1], "A", rule_id="fan_out")}) == 1


# ---- the state horizon: realtime windows only ----------------------------------------------------
def test_the_event_horizon_follows_the_realtime_windows(params):
    horizons = Horizons.from_params(params)
    assert horizons.events == 7 * DAY + params.out_of_order_tolerance_hours * HOUR
    rules = dict(params.rules)
    windows = [*params.rule("fan_in")["windows"], {"window_hours": 240, "min_counterparties": 3, "floored": True,
                                                  "realtime": True}]
    rules["fan_in"] = replace(rules["fan_in"], params={**rules["fan_in"].params, "windows": windows})
    longer = Horizons.from_params(replace(params, rules=rules))
    assert longer.events == 240 * HOUR + params.out_of_order_tolerance_hours * HOUR
