"""Cash rules: large cash (per UTC day), structuring, smurfing."""
from datetime import timedelta as td


def test_large_cash_aggregates_the_utc_day(make_tx, run_rules):
    deposits = [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000, at=td(hours=h)) for h in (0, 5)]
    drafts = run_rules(deposits, "A", rule_id="large_cash")
    assert [d.transaction_ids for d in drafts] == [(deposits[0].transaction_id, deposits[1].transaction_id)]
    assert drafts[0].details["total_usd"] == 12000


def test_large_cash_quiet_at_threshold_and_across_midnight(make_tx, run_rules):
    at_threshold = [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=5000, at=td(hours=h)) for h in (0, 1)]
    assert run_rules(at_threshold, "A", rule_id="large_cash") == []
    # T0 is 12:00 UTC: 23:59:59 is the same day, 12h later is the next day.
    split = [make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000, at=td(hours=11, minutes=59, seconds=59)),
             make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000, at=td(hours=12))]
    assert run_rules(split, "A", rule_id="large_cash") == []
    same_day = [split[0], make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000, at=td(0))]
    assert len(run_rules(same_day, "A", rule_id="large_cash")) == 1


def _deposit(make_tx, amount, at, **kw):
    return make_tx(type="cash_deposit", orig="CASH", benef="A", amount=amount, at=at, **kw)


def test_structuring_fires_on_deposits_just_below_threshold(make_tx, run_rules):
    deposits = [_deposit(make_tx, 9000, td(0)), _deposit(make_tx, 9500, td(days=1))]
    [draft] = run_rules(deposits, "A", rule_id="structuring")
    assert draft.subject_account_id == "A" and len(draft.transaction_ids) == 2
    assert draft.details == {"count": 2, "total_usd": 18500.0, "band_usd": [8000, 10000], "min_total_usd": 10000}
    # the non-cash splitting rule (test_structuring_non_cash_realtime) does not read cash deposits
    assert run_rules(deposits, "A", rule_id="structuring_non_cash") == []


def test_structuring_quiet_on_near_misses(make_tx, run_rules):
    assert run_rules([_deposit(make_tx, 7999.99, td(0)), _deposit(make_tx, 9500, td(days=1))], "A", rule_id="structuring") == []
    assert run_rules([_deposit(make_tx, 10000, td(0)), _deposit(make_tx, 9500, td(days=1))], "A", rule_id="structuring") == []
    wires = [make_tx(type="wire", orig="X", benef="A", amount=9000), make_tx(type="wire", orig="Y", benef="A", amount=9000)]
    assert run_rules(wires, "A", rule_id="structuring") == []


def test_structuring_window_boundary_is_exact(make_tx, run_rules):
    at_length = [_deposit(make_tx, 9000, td(0)), _deposit(make_tx, 9000, td(days=3))]
    assert len(run_rules(at_length, "A", rule_id="structuring")) == 1
    beyond = [_deposit(make_tx, 9000, td(0)), _deposit(make_tx, 9000, td(days=3, seconds=1))]
    assert run_rules(beyond, "A", rule_id="structuring") == []


def test_structuring_respects_event_time_out_of_order(make_tx, run_rules):
    first, second = _deposit(make_tx, 9000, td(0)), _deposit(make_tx, 9000, td(hours=20))
    in_order = run_rules([first, second], "A", rule_id="structuring")
    reversed_order = run_rules([second, first], "A", rule_id="structuring")
    assert len(in_order) == len(reversed_order) == 1
    assert in_order[0].anchor == reversed_order[0].anchor == first.transaction_id


def test_smurfing_needs_distinct_depositors(make_tx, run_rules):
    smurfs = [_deposit(make_tx, 3000, td(days=d), originator_name=n) for d, n in ((0, "ann"), (2, "bob"), (6, "cy"))]
    assert len(run_rules(smurfs, "A", rule_id="smurfing")) == 1
    one_person = [_deposit(make_tx, 3000, td(days=d), originator_name="ann") for d in (0, 2, 6)]
    assert run_rules(one_person, "A", rule_id="smurfing") == []
    late_third = smurfs[:2] + [_deposit(make_tx, 3000, td(days=7, seconds=1), originator_name="cy")]
    assert run_rules(late_third, "A", rule_id="smurfing") == []
    at_length = smurfs[:2] + [_deposit(make_tx, 3000, td(days=7), originator_name="cy")]
    assert len(run_rules(at_length, "A", rule_id="smurfing")) == 1
    # Out of order within the tolerance: bob's deposit (day 5.5) arrives after cy's (day 6).
    swapped = [smurfs[0], smurfs[2], _deposit(make_tx, 3000, td(days=5, hours=12), originator_name="bob")]
    assert len(run_rules(swapped, "A", rule_id="smurfing")) == 1


def test_records_beyond_the_horizon_skip_windowed_rules(make_tx, run_rules, params):
    """The round-amount window (30 days) is longer than the horizon (7 days): two round payments
    8 and 9 days behind the newest one would complete it in order, but arrive beyond the horizon."""
    assert params.out_of_order_tolerance_hours == 168

    def pay(day):
        return make_tx(orig="A", benef=f"R{day}", amount=5000, at=td(days=day))
    assert len(run_rules([pay(0), pay(1), pay(9)], "A", rule_id="round_amounts")) == 1
    assert run_rules([pay(9), pay(0), pay(1)], "A", rule_id="round_amounts") == []
    # Within the horizon (6 and 5 days behind): the window is evaluated again and completes.
    assert len(run_rules([pay(9), pay(3), pay(4)], "A", rule_id="round_amounts")) == 1

