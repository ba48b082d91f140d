"""Typologies only an account profile reveals (lambdas/realtime_rules/rules/profiled.py): an
amount far outside the account's own spread, and a first payment to a FATF-listed country the
account never dealt with. Both hit background accounts with a salary (regular history) on a day
at least `min_history_days` (amount outlier: `profiles.baseline_days` capped by the bank) into
their activity, so the profile as of the day before holds that history.

Near misses: an outlier-sized payment from an account whose history holds fewer than
`min_history` amounts (a new customer: no spread to be outside of), and a payment to a listed
country never used before far below the `min_amount` floor.
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR
from aml.reference.build import in_memory

OUTLIER_MIN_DAYS = 21  # days of an account's activity before an injected outlier


def _history(ctx: Context):
    cols = ctx.ledger.columns()
    return (np.concatenate([cols["orig"], cols["bene"]]), np.concatenate([cols["ts"], cols["ts"]]),
            np.concatenate([cols["usd"], cols["usd"]]), np.concatenate([cols["bene"], cols["orig"]]))


def _candidates(ctx: Context, typology: str, needed: int) -> np.ndarray | None:
    pool = ctx.background.individuals[ctx.background.salary_day[ctx.background.individuals] > 0]
    pool = pool[ctx.rng.permutation(len(pool))]
    if len(pool) < needed:
        ctx.skip(typology, "too few background accounts with a salary")
        return None
    return pool


def _day_after(ctx: Context, seen: np.ndarray, days: int) -> int | None:
    """A day at least `days` after the account's first activity, if the bank reaches it."""
    if not len(seen):
        return None
    earliest = int((seen.min() - ctx.time.start) // DAY) + days + 1
    return None if earliest >= ctx.time.days else int(ctx.rng.integers(earliest, ctx.time.days))


def amount_outlier(ctx: Context, n: int, near: int) -> None:
    p, baseline_days = ctx.params("amount_outlier"), ctx.rules.profiles.baseline_days
    pool = _candidates(ctx, "amount_outlier", n)
    if pool is None:
        return
    parties, ts, usd, _ = _history(ctx)
    done = 0
    for account in pool:
        if done == n:
            break
        day = _day_after(ctx, ts[parties == account], OUTLIER_MIN_DAYS)
        if day is None:
            continue
        start = ctx.time.day(day)
        mine = usd[(parties == account) & (ts >= start - baseline_days * DAY) & (ts < start) & ~np.isnan(usd)]
        if len(mine) < p["min_history"] * 2:
            continue
        amount = max(p["min_amount"] * 1.5, mine.max() * 3, mine.mean() + 3 * p["stddev_multiplier"] * mine.std())
        when = start + 11 * HOUR + int(ctx.rng.integers(0, 5 * HOUR))
        keys = ctx.ledger.add(when, account, ctx.directory.new_companies(1), ctx.cents(amount), "wire", "online",
                              "Transfer")
        ctx.labels.add("amount_outlier", "laundering", account, keys, when, when)
        done += 1
    if done < n:
        ctx.skip("amount_outlier", f"only {done} of {n} accounts have {p['min_history'] * 2} amounts before a day "
                                   f"{OUTLIER_MIN_DAYS} days into their activity")
    for _ in range(near):  # a new customer's first large payment: too little history for a spread
        t0 = ctx.place(3 * DAY)
        if t0 is None:
            return
        account = ctx.claim(1, t0)[0]
        small = [t0 + d * DAY for d in range(3)]
        ctx.ledger.add(small, account, ctx.directory.new_companies(3), ctx.cents(ctx.rng.uniform(20, 200, 3)),
                       "card", "pos", "Card purchase")
        when = t0 + 3 * DAY
        keys = ctx.ledger.add(when, account, ctx.directory.new_companies(1),
                              ctx.cents(p["min_amount"] * ctx.rng.uniform(2, 4)), "wire", "online", "Transfer")
        ctx.labels.add("amount_outlier", "near_miss", account, keys, when, when)


def new_high_risk_country(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("new_high_risk_country")
    pool = _candidates(ctx, "new_high_risk_country", n + near)
    if pool is None:
        return
    reference = in_memory()
    latest = reference.latest_fatf_lists()
    parties, ts, _, others = _history(ctx)
    countries = ctx.directory.party_countries()
    done = {"laundering": 0, "near_miss": 0}
    for account in pool:
        kind = "laundering" if done["laundering"] < n else "near_miss"
        if done[kind] == (n if kind == "laundering" else near):
            break
        mine = parties == account
        day = _day_after(ctx, ts[mine], p["min_history_days"])
        if day is None:
            continue
        lists = reference.fatf_lists(ctx.time.start_date + timedelta(days=day))
        seen = set(countries[others[mine]])
        listed = sorted((lists.grey_list & latest.grey_list | lists.call_for_action & latest.call_for_action) - seen)
        if not listed:
            continue
        country = listed[int(ctx.rng.integers(0, len(listed)))]
        amount = p["min_amount"] * (ctx.rng.uniform(1.2, 2.5) if kind == "laundering" else ctx.rng.uniform(0.05, 0.2))
        when = ctx.time.day(day) + 10 * HOUR + int(ctx.rng.integers(0, 6 * HOUR))
        keys = ctx.ledger.add(when, account, ctx.directory.new_companies(1, (country,)), ctx.cents(amount), "wire",
                              "online", "Family support")
        ctx.labels.add("new_high_risk_country", kind, account, keys, when, when)
        done[kind] += 1
    if done["laundering"] < n:
        ctx.skip("new_high_risk_country", f"the bank is too short: {p['min_history_days']} days of an account's "
                                          "history are needed before the payment")
