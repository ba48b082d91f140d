"""Behaviour rules against the account's own history: round amounts, velocity spike, dormancy."""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, amount_floor, seconds, usd, windows_containing
from lambdas.realtime_rules.window import DAY, AccountState, known_cents, utc_day


def round_amounts(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Repeated round amounts (a multiple of the modulus in their own currency) within the window."""
    rule = params.rule("round_amounts")

    def qualifies(e) -> bool:
        return e.round and e.cents is not None and e.cents >= rule.least_cents("min_amount")

    mine = state.events.get(tx.transaction_id)
    if mine is None or not qualifies(mine):
        return []
    rounds = [e for e in state.sorted_events() if qualifies(e)]
    for start, end, window in windows_containing(tx.ts, rounds, seconds(rule)):
        if len(window) >= rule["min_count"]:
            return [AlertDraft(
                "round_amounts", state.account_id, window[0].transaction_id,
                tuple(e.transaction_id for e in window), tx.ts, start, end,
                {"count": len(window), "total_usd": usd(sum(e.cents for e in window)),
                 "modulus": rule["modulus"], "min_count": rule["min_count"]})]
    return []


def velocity_spike(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """The activity of `window_days` UTC days (ending on the transaction's day, or on a later active
    day whose window holds it) against the account's own baseline over the `baseline_days` days
    before: the named query's definition, so batch and real time flag the same account-days
    (a sliding 24 h window would also count yesterday's payment made at a later hour). The window's
    sum must reach the `min_amount` floor, the lowest among the events summed (base.amount_floor).

    The baseline is the stream's own days, or the account's profile (aml_contract.profiles) when
    that serves the window and covers more days: on a deployment's first days, or for an account
    the stream met only lately, the daily pipeline's history stands in for the days the stream
    has not carried (docs/profiles.md)."""
    rule = params.rule("velocity_spike")
    window, multiplier = rule["window_days"], rule.exact("multiplier")
    tx_day, first_day = tx.ts // DAY, (state.first_seen or tx.ts) // DAY
    events = state.sorted_events()
    for anchor in sorted({e.ts // DAY for e in events if tx_day <= e.ts // DAY < tx_day + window}):
        start, end = (anchor - window + 1) * DAY, (anchor + 1) * DAY
        in_window = [e for e in events if start <= e.ts < end]
        amount, count = sum(known_cents(in_window)), len(in_window)  # count: every event, as SQL's count(*)
        floor = amount_floor(tx, rule, "min_amount", (e.country for e in in_window if e.cents is not None))
        if not floor.reached_by(amount):
            continue
        base_from = max(first_day, anchor - window - rule["baseline_days"] + 1)
        covered_days = start // DAY - base_from
        base_count, base_amount = state.day_totals(utc_day(base_from * DAY), utc_day(start))
        baseline_source = "stream"
        if first_day > anchor - rule["min_baseline_days"]:  # the stream's own history is too short
            covered_days = 0
        profile = state.profile_for(start, params)
        if profile is not None and profile.covered_days > covered_days:
            covered_days, base_count, base_amount = profile.covered_days, profile.baseline_count, profile.baseline_cents
            baseline_source = "profile"
            if covered_days < rule["min_baseline_days"]:
                continue
        if covered_days <= 0 or base_amount <= 0:  # the baseline must be proven by data
            continue
        # now >= multiplier x the daily baseline scaled to the window, cross-multiplied in integers
        # and exact fractions, as the named query does (no engine's division decides a boundary)
        spiked = [name for name, now, base in (("amount", amount, base_amount), ("count", count, base_count))
                  if now * covered_days >= multiplier * window * base]
        if spiked:
            # Anchored on its UTC-day window, as large_cash: which of the day's events arrived
            # first (or late) must not change the id.
            return [AlertDraft(
                "velocity_spike", state.account_id, utc_day(anchor * DAY),
                tuple(e.transaction_id for e in in_window), tx.ts, start, end,
                {"spiked": spiked, "window_usd": usd(amount), "window_count": count,
                 "baseline_daily_usd": round(usd(base_amount) / covered_days, 2),
                 "baseline_daily_count": round(base_count / covered_days, 3),
                 "baseline_days": covered_days, "baseline_source": baseline_source,
                 **_profile_details(profile if baseline_source == "profile" else None),
                 "multiplier": rule["multiplier"], **floor.details()})]
    return []


def dormant_reactivation(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """After at least `dormant_days` without activity, a large amount (each event against the
    `min_amount` floor of its own segment: base.amount_floor) or many transactions within
    `window_days` of the first one back."""
    rule = params.rule("dormant_reactivation")
    length, dormant = seconds(rule), rule["dormant_days"] * DAY
    events = state.sorted_events()
    lo = bisect_left(events, tx.ts - length, key=lambda e: e.ts)
    hi = bisect_right(events, tx.ts, key=lambda e: e.ts)
    for i in range(lo, hi):  # the events within the window before the transaction
        first = events[i]
        before = events[i - 1].ts if i else None
        if before is not None and before < first.ts and first.ts - before < dormant:
            continue  # the event just before it is recent: cheaper than the full lookup
        previous, profile = state.previous_activity(first.ts), None
        if previous is None:  # the stream knows nothing earlier: the profile may
            profile = state.profile_for(first.ts, params)
            previous = profile.last_activity_at if profile is not None else None
        if previous is None or first.ts - previous < dormant:
            continue
        window = [e for e in events if first.ts <= e.ts <= first.ts + length]
        priced = [e for e in window if e.cents is not None]
        floors = {c: amount_floor(tx, rule, "min_amount", [c]) for c in {e.country for e in priced}}
        large = [e for e in priced if floors[e.country].reached_by(e.cents)]
        if large or len(window) >= rule["min_count"]:
            # the floor the first large event reached; else the lowest any event of the window had to reach
            floor = floors[large[0].country] if large else amount_floor(tx, rule, "min_amount", floors)
            return [AlertDraft(
                "dormant_reactivation", state.account_id, first.transaction_id,
                tuple(e.transaction_id for e in window), tx.ts, first.ts, first.ts + length,
                {"dormant_days": round((first.ts - previous) / DAY, 2),
                 "last_activity_source": "stream" if profile is None else "profile", **_profile_details(profile),
                 "count": len(window),
                 "max_usd": usd(max(known_cents(window), default=None)), "min_count": rule["min_count"],
                 **floor.details()})]
    return []


def _profile_details(profile) -> dict:
    """An alert's note of the profile it read (none: nothing)."""
    return {} if profile is None else {"profile_as_of": profile.as_of.isoformat()}
