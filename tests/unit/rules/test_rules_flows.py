"""Flow rules: rapid movement, fan-in, fan-out (their several windows: test_fan_windows_realtime),
and the multi-account flows that are batch-only."""
from dataclasses import replace
from datetime import timedelta as td


def test_rapid_movement_fires_on_pass_through(make_tx, run_rules):
    flows = [make_tx(orig="X", benef="A", amount=10000), make_tx(orig="A", benef="Y", amount=8500, at=td(hours=30))]
    [draft] = run_rules(flows, "A", rule_id="rapid_movement")
    assert draft.details["ratio"] == 0.85


def test_rapid_movement_quiet_on_near_misses(make_tx, run_rules):
    small_out = [make_tx(orig="X", benef="A", amount=10000), make_tx(orig="A", benef="Y", amount=7999, at=td(hours=1))]
    assert run_rules(small_out, "A", rule_id="rapid_movement") == []
    small_in = [make_tx(orig="X", benef="A", amount=4999), make_tx(orig="A", benef="Y", amount=4999, at=td(hours=1))]
    assert run_rules(small_in, "A", rule_id="rapid_movement") == []
    out_before_in = [make_tx(orig="A", benef="Y", amount=9000), make_tx(orig="X", benef="A", amount=10000, at=td(hours=1))]
    assert run_rules(out_before_in, "A", rule_id="rapid_movement") == []


def test_rapid_movement_window_boundary_and_order(make_tx, run_rules):
    inflow = make_tx(orig="X", benef="A", amount=10000)
    at_length = make_tx(orig="A", benef="Y", amount=9000, at=td(hours=72))
    beyond = make_tx(orig="A", benef="Y", amount=9000, at=td(hours=72, seconds=1))
    assert len(run_rules([inflow, at_length], "A", rule_id="rapid_movement")) == 1
    assert run_rules([inflow, beyond], "A", rule_id="rapid_movement") == []
    early_out = make_tx(orig="A", benef="Y", amount=9000, at=td(hours=2))
    assert len(run_rules([early_out, inflow], "A", rule_id="rapid_movement")) == 1  # inflow arrives late


def _fan_in(make_tx, offsets, payers=None):
    payers = payers or [f"P{i}" for i in range(len(offsets))]
    return [make_tx(orig=p, benef="A", amount=500, at=o) for p, o in zip(payers, offsets, strict=True)]


def test_fan_in_fires_at_five_distinct_payers_within_24h(make_tx, run_rules):
    assert len(run_rules(_fan_in(make_tx, [td(hours=h) for h in (0, 3, 6, 9, 24)]), "A", rule_id="fan_in")) == 1
    beyond = [td(hours=h) for h in (0, 3, 6, 9)] + [td(hours=24, seconds=1)]
    assert run_rules(_fan_in(make_tx, beyond), "A", rule_id="fan_in") == []
    same_payer = _fan_in(make_tx, [td(hours=h) for h in range(5)], payers=["P0", "P1", "P2", "P3", "P0"])
    assert run_rules(same_payer, "A", rule_id="fan_in") == []
    shuffled = _fan_in(make_tx, [td(hours=h) for h in (9, 0, 6, 3, 12)])
    assert len(run_rules(shuffled, "A", rule_id="fan_in")) == 1


def test_fan_out_fires_at_five_distinct_payees_within_8h(make_tx, run_rules):
    def pays(offsets):
        return [make_tx(orig="A", benef=f"R{i}", amount=500, at=o) for i, o in enumerate(offsets)]
    assert len(run_rules(pays([td(hours=h) for h in (0, 2, 4, 6, 8)]), "A", rule_id="fan_out")) == 1
    assert run_rules(pays([td(hours=h) for h in (0, 2, 4, 6)] + [td(hours=8, seconds=1)]), "A", rule_id="fan_out") == []
    assert run_rules(pays([td(hours=h) for h in (8, 0, 2, 4, 6)]), "A", rule_id="fan_out") != []
    incoming = [make_tx(orig=f"R{i}", benef="A", amount=500, at=td(hours=i)) for i in range(5)]
    assert run_rules(incoming, "A", rule_id="fan_out") == []


def test_fan_in_and_out_count_only_the_counterparty_types_of_the_rule_parameters(make_tx, run_rules, params):
    """Card purchases (merchants) and cash are not counterparty transfers, as in the Athena queries."""
    assert "card" not in params.rule("fan_in")["counterparty_types"]
    shop = [make_tx(orig="A", benef=f"M{i}", type="card", at=td(minutes=i)) for i in range(6)]
    paid_by_cards = [make_tx(orig=f"P{i}", benef="A", type="card", at=td(minutes=i)) for i in range(6)]
    assert run_rules(shop, "A", rule_id="fan_out") == []
    assert run_rules(paid_by_cards, "A", rule_id="fan_in") == []
    four_and_a_card = [make_tx(orig="A", benef=f"Y{i}", type="ach", at=td(minutes=i)) for i in range(4)]
    assert run_rules([*four_and_a_card, shop[0]], "A", rule_id="fan_out") == []
    assert len(run_rules([*four_and_a_card, make_tx(orig="A", benef="Y9", type="wire")], "A", rule_id="fan_out")) == 1

    rules = dict(params.rules)
    rules["fan_out"] = replace(rules["fan_out"], params={**rules["fan_out"].params, "counterparty_types": ["card"]})
    with_cards = replace(params, rules=rules)
    assert run_rules(shop, "A", params=with_cards, rule_id="fan_out")


def test_fan_details_name_the_window_that_qualified(make_tx, run_rules):
    [draft] = run_rules(_fan_in(make_tx, [td(hours=h) for h in (0, 3, 6, 9, 24)]), "A", rule_id="fan_in")
    assert draft.details["window_hours"] == [24]
    assert draft.details["windows"] == [{"window_hours": 24, "min_counterparties": 5, "counterparties": 5,
                                         "count": 5, "total_usd": 2500.0, "floored": False}]
    assert draft.details["distinct_counterparties"] == 5


def test_fan_out_large_payees_within_hours_raise_one_alert(make_tx, run_rules):
    """Five payees of 2,000 within 8 h: the floored week window qualifies at the third, the 8 h
    window at the fifth; one anchor throughout."""
    pays = [make_tx(orig="A", benef=f"R{i}", amount=2000, at=td(hours=2 * i)) for i in range(5)]
    drafts = run_rules(pays, "A", rule_id="fan_out")
    assert {d.anchor for d in drafts} == {pays[0].transaction_id}
    assert drafts[-1].details["window_hours"] == [8, 168]


def test_multi_account_scenarios_are_batch_only(params):
    """A rule here reads one account's state: the graph scenarios are Athena queries only, and
    evaluation never needs a rule for every rule id of the parameter file."""
    from lambdas.realtime_rules.rules import ALL_RULES
    batch_only = {"cycles", "fan_in_layered", "fan_out_layered", "scatter_gather", "gather_scatter", "bipartite"}
    assert batch_only <= set(params.rules)
    assert set(ALL_RULES) == set(params.rules) - batch_only
