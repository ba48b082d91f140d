"""Rules fed by the account's profile (aml_contract.profiles): the velocity baseline and the
dormancy from before the live period, the two rules only a profile makes possible, and the
profiles the rules must ignore (stale, or as of the event's own day)."""
from dataclasses import replace
from datetime import timedelta as td

import pytest
from rule_runner import T0

from aml_contract.profiles import Profile

DAY_BEFORE = T0.date() - td(days=1)


def profile(**overrides) -> Profile:
    """A quiet account's 60 days to the day before T0: one 100 USD payment a day."""
    values = dict(account_pid="pid-A", as_of=DAY_BEFORE, customer_pid="cust", history_from=DAY_BEFORE - td(days=200),
                  covered_days=60, active_days=60, baseline_count=60, baseline_cents=60 * 100_00,
                  daily_count_stddev=0.0, daily_usd_stddev=0.0, amount_count=60, amount_mean_usd=100.0,
                  amount_stddev_usd=20.0, amount_max_cents=150_00,
                  last_activity_at=int((T0 - td(days=1)).timestamp()), counterparties=("pid-Y",),
                  counterparty_countries=("US", "GB"), residence_country="US", risk_rating="low",
                  customer_type="individual", is_pep=False)
    return Profile(**{**values, **overrides})


def pay(make_tx, amount, at=td(0), **extra):
    return make_tx(orig="A", benef="Z", amount=amount, at=at, **extra)


# ---- velocity_spike: the baseline from before the live period -----------------------------
def test_a_profile_gives_velocity_spike_a_baseline_the_stream_does_not_have(make_tx, run_rules):
    spike = [pay(make_tx, 20000)]
    assert run_rules(spike, "A", rule_id="velocity_spike") == []  # the stream's first day: no baseline
    [draft] = run_rules(spike, "A", rule_id="velocity_spike", profile=profile())
    assert draft.details["baseline_source"] == "profile" and draft.details["baseline_days"] == 60
    assert draft.details["profile_as_of"] == DAY_BEFORE.isoformat()
    assert draft.details["baseline_daily_usd"] == 100.0


def test_velocity_spike_near_misses_with_a_profile(make_tx, run_rules):
    busy = profile(baseline_cents=60 * 5_000_00)  # 5,000 a day: 20,000 is 4x, under the multiplier 5
    assert run_rules([pay(make_tx, 20000)], "A", rule_id="velocity_spike", profile=busy) == []
    at_boundary = profile(baseline_cents=60 * 4_000_00)  # exactly 5x
    assert len(run_rules([pay(make_tx, 20000)], "A", rule_id="velocity_spike", profile=at_boundary)) == 1
    short = profile(covered_days=13)  # below min_baseline_days (14)
    assert run_rules([pay(make_tx, 20000)], "A", rule_id="velocity_spike", profile=short) == []


@pytest.mark.parametrize("as_of,serves", [
    (DAY_BEFORE, True),
    (T0.date() - td(days=7), True),  # max_age_days: 7
    (T0.date() - td(days=8), False),  # stale
    (T0.date(), False),  # as of the event's own day: it would hold the event (no look-ahead)
    (T0.date() + td(days=1), False),
])
def test_a_stale_profile_or_one_not_before_the_event_is_ignored(make_tx, run_rules, as_of, serves):
    found = run_rules([pay(make_tx, 20000)], "A", rule_id="velocity_spike", profile=profile(as_of=as_of))
    assert len(found) == (1 if serves else 0)


def test_the_stream_baseline_wins_when_it_covers_more_days(make_tx, run_rules):
    history = [make_tx(orig="A", benef="Y", amount=5000, at=td(days=-d)) for d in range(30, 0, -1)]
    thin = profile(covered_days=20, baseline_cents=20 * 100_00)  # would make 20,000 a spike
    assert run_rules([*history, pay(make_tx, 20000)], "A", rule_id="velocity_spike", profile=thin) == []


# ---- dormant_reactivation: the last activity before the stream -----------------------------
def test_a_profile_proves_dormancy_the_stream_cannot(make_tx, run_rules):
    back = [pay(make_tx, 6000)]
    assert run_rules(back, "A", rule_id="dormant_reactivation") == []  # nothing earlier is known
    silent = profile(last_activity_at=int((T0 - td(days=120)).timestamp()))
    [draft] = run_rules(back, "A", rule_id="dormant_reactivation", profile=silent)
    assert draft.details["last_activity_source"] == "profile" and draft.details["dormant_days"] == 120
    recent = profile(last_activity_at=int((T0 - td(days=89)).timestamp()))  # dormant_days: 90
    assert run_rules(back, "A", rule_id="dormant_reactivation", profile=recent) == []
    stale = replace(silent, as_of=T0.date() - td(days=8))
    assert run_rules(back, "A", rule_id="dormant_reactivation", profile=stale) == []


def test_the_stream_s_own_earlier_activity_wins_over_the_profile(make_tx, run_rules):
    silent = profile(last_activity_at=int((T0 - td(days=120)).timestamp()))
    earlier = make_tx(orig="A", benef="Y", amount=10, at=td(days=-30))  # the stream saw it: not dormant
    assert run_rules([earlier, pay(make_tx, 6000)], "A", rule_id="dormant_reactivation", profile=silent) == []


# ---- amount_outlier: only a profile makes it possible --------------------------------------
def test_amount_outlier_against_the_account_s_own_spread(make_tx, run_rules):
    assert run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier") == []
    [draft] = run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier", profile=profile())
    assert draft.details["profile_mean_usd"] == 100.0 and draft.details["amount_usd"] == 6000
    received = make_tx(orig="Z", benef="A", amount=6000)
    assert len(run_rules([received], "A", rule_id="amount_outlier", profile=profile())) == 1


def test_amount_outlier_near_misses(make_tx, run_rules):
    assert run_rules([pay(make_tx, 4999.99)], "A", rule_id="amount_outlier", profile=profile()) == []  # min_amount
    big_max = profile(amount_max_cents=6000_00)  # the account moved 6,000 before: not above its largest
    assert run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier", profile=big_max) == []
    assert len(run_rules([pay(make_tx, 6000.01)], "A", rule_id="amount_outlier", profile=big_max)) == 1
    wide = profile(amount_mean_usd=2000.0, amount_stddev_usd=1000.0)  # mean + 4 sd = 6,000 exactly
    assert len(run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier", profile=wide)) == 1
    assert run_rules([pay(make_tx, 5999.99)], "A", rule_id="amount_outlier", profile=wide) == []
    few = profile(amount_count=9)  # min_history: 10
    assert run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier", profile=few) == []
    stale = profile(as_of=T0.date() - td(days=8))
    assert run_rules([pay(make_tx, 6000)], "A", rule_id="amount_outlier", profile=stale) == []


# ---- new_high_risk_country: only a profile makes it possible -------------------------------
def test_a_first_payment_to_a_listed_country_the_profile_never_saw(make_tx, run_rules):
    to_iran = pay(make_tx, 1500, beneficiary_country="IR")  # call for action
    assert run_rules([to_iran], "A", rule_id="new_high_risk_country") == []
    [draft] = run_rules([to_iran], "A", rule_id="new_high_risk_country", profile=profile())
    assert draft.anchor == "IR" and draft.details["list"] == "call_for_action"
    from_kenya = make_tx(orig="Z", benef="A", amount=1500, originator_country="KE")  # grey list, received
    assert len(run_rules([from_kenya], "A", rule_id="new_high_risk_country", profile=profile())) == 1
    again = pay(make_tx, 2000, at=td(hours=3), beneficiary_country="IR")
    drafts = run_rules([to_iran, again], "A", rule_id="new_high_risk_country", profile=profile())
    assert {d.anchor for d in drafts} == {"IR"}  # one alert per account and country


def test_new_high_risk_country_near_misses(make_tx, run_rules):
    def found(tx, **overrides):
        return run_rules([tx], "A", rule_id="new_high_risk_country", profile=profile(**overrides))
    assert found(pay(make_tx, 999.99, beneficiary_country="IR")) == []  # min_amount
    assert found(pay(make_tx, 1500, beneficiary_country="IR"), counterparty_countries=("US", "IR")) == []  # seen
    assert found(pay(make_tx, 1500, beneficiary_country="FR")) == []  # not listed
    assert found(pay(make_tx, 1500, beneficiary_country="IR"), covered_days=29) == []  # min_history_days: 30
    full = tuple(f"C{i}" for i in range(20))  # max_countries kept: the set may be cut, proves nothing
    assert found(pay(make_tx, 1500, beneficiary_country="IR"), counterparty_countries=full) == []
    assert found(pay(make_tx, 1500, beneficiary_country="IR"), as_of=T0.date()) == []
    cash = make_tx(orig="CASH", benef="A", amount=1500, type="cash_deposit", originator_country="IR")
    assert found(cash) == []  # cash has no counterparty country


def test_the_profile_rules_are_quiet_without_a_profile_on_every_kind_of_transaction(make_tx, run_rules):
    mixed = [pay(make_tx, 50000, beneficiary_country="IR"), make_tx(orig="CASH", benef="A", amount=9000,
                                                                    type="cash_deposit")]
    assert [d for d in run_rules(mixed, "A") if d.rule_id in ("amount_outlier", "new_high_risk_country")] == []
