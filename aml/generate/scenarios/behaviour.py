"""Behaviour-change typologies: dormant reactivation and velocity spikes.

Dormancy is proven by the data itself: the account's previous transaction is booked before the
bank's first day, more than `dormant_days` before the reactivation. The accounts table is a
snapshot taken at the end of the generated period, so a reactivated account shows status
'active' with `updated_at` = the reactivation (the moment the core system lifted its dormant
flag); one account per near-miss is never reactivated and keeps status 'dormant'.

Velocity spikes hit background accounts that have at least `min_baseline_days` of normal
activity, on a day well away from their salary (so no large inflow sits next to the spike), with
a day total above both `min_amount` and `multiplier` x the highest reading of the trailing
daily baseline (total activity over the days observed).
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR

PAYDAY_DISTANCE = 4  # days kept between a spike and the account's salary


def _old_purchase(ctx: Context, account: int, when: int) -> np.ndarray:
    merchant = ctx.directory.new_companies(1)
    return ctx.ledger.add(when, account, merchant, ctx.cents(ctx.rng.uniform(20, 200)), "card", "pos",
                          "Card purchase")


def _open_long_ago(ctx: Context, account: int, last_seen: int) -> None:
    opened = last_seen - int(ctx.rng.integers(400, 2000)) * DAY
    ctx.directory.opened_at[account] = opened
    customer = ctx.directory.account_customer[account]
    ctx.directory.customers.onboarded_at[customer] = opened
    ctx.directory.customers.updated_at[customer] = opened


def dormant_reactivation(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("dormant_reactivation")
    window, dormant = p["window_days"] * DAY, p["dormant_days"] * DAY

    def reactivate(kind: str, pause: int) -> bool:
        t0 = ctx.place(window)
        if t0 is None:
            ctx.skip("dormant_reactivation", f"the bank is shorter than the {p['window_days']}-day window")
            return False
        last_seen = t0 - pause
        account = ctx.claim(1, last_seen)[0]
        _open_long_ago(ctx, account, last_seen)
        ctx.directory.updated_at[account] = t0
        _old_purchase(ctx, account, last_seen)
        inflow = ctx.cents(p["min_amount"] * ctx.rng.uniform(1.1, 2.0))
        keys = [ctx.ledger.add(t0, ctx.directory.new_companies(1), account, inflow, "wire", "online",
                               "Transfer")]
        count = p["min_count"]
        when = t0 + HOUR + (np.arange(count) + 1) * int(window * 0.8 / count)
        keys.append(ctx.ledger.add(when, account, ctx.directory.new_companies(count),
                                   ctx.cents(ctx.rng.uniform(20, 300, count)), "card", "pos", "Card purchase"))
        ctx.labels.add("dormant_reactivation", kind, account, np.concatenate(keys), t0, t0 + window)
        return True

    for _ in range(n):
        if not reactivate("laundering", dormant + int(ctx.rng.integers(30, 90)) * DAY):
            return
    for _ in range(near):
        reactivate("near_miss", dormant * 2 // 3)
        asleep = ctx.claim(1, ctx.time.start)[0]
        last_seen = ctx.time.start - dormant - int(ctx.rng.integers(10, 200)) * DAY + 11 * HOUR
        _open_long_ago(ctx, asleep, last_seen)
        ctx.directory.updated_at[asleep] = last_seen + dormant
        ctx.directory.status[asleep] = "dormant"
        _old_purchase(ctx, asleep, last_seen)


def velocity_spike(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("velocity_spike")
    first_day = p["min_baseline_days"] + 1
    if ctx.time.days <= first_day:
        ctx.skip("velocity_spike", f"the bank is shorter than {first_day + 1} days "
                                   f"(a spike needs {p['min_baseline_days']} baseline days)")
        return
    candidates = ctx.background.individuals[ctx.background.salary_day[ctx.background.individuals] > 0]
    candidates = candidates[ctx.rng.permutation(len(candidates))]
    if len(candidates) < n + near:
        ctx.skip("velocity_spike", "too few background accounts with a salary")
        return
    cols = ctx.ledger.columns()
    busy = np.concatenate([cols["orig"], cols["bene"]])
    ts = np.concatenate([cols["ts"], cols["ts"]])
    usd = np.concatenate([cols["usd"], cols["usd"]])

    def spike_day(account: int) -> int | None:
        """A day away from payday with min_baseline_days of the account's own history before it
        (the query and the rule count history from the account's first activity, not the bank's)."""
        pay = ctx.background.salary_day[account]
        seen = ts[busy == account]
        first_active = int((seen.min() - ctx.time.start) // DAY) if len(seen) else ctx.time.days
        earliest = max(first_day, first_active + p["min_baseline_days"] + 1)
        if earliest >= ctx.time.days:
            return None
        for day in ctx.rng.integers(earliest, ctx.time.days, 30).tolist():
            dom = (ctx.time.start_date + timedelta(days=day)).day
            if min(abs(dom - pay), 31 - abs(dom - pay)) >= PAYDAY_DISTANCE:
                return day
        return None

    def inject(kind: str, account: int, amount_for) -> bool:
        day = spike_day(account)
        if day is None:
            return False
        day_start = ctx.time.day(day)
        observed = min(day, p["baseline_days"])
        mine = (busy == account) & (ts >= day_start - observed * DAY) & (ts < day_start)
        baseline = usd[mine].sum() / observed
        when = day_start + 10 * HOUR + int(ctx.rng.integers(0, 6 * HOUR))
        keys = ctx.ledger.add(when, account, ctx.directory.new_companies(1), ctx.cents(amount_for(baseline)),
                              "wire", "online", "Transfer")
        ctx.labels.add("velocity_spike", kind, account, keys, day_start, day_start + p["window_days"] * DAY)
        return True

    pool = iter(candidates.tolist())  # an account without enough history of its own is passed over
    for kind, count, amount_for in (
            ("laundering", n, lambda base: max(p["min_amount"], p["multiplier"] * base) * ctx.rng.uniform(1.3, 1.8)),
            ("near_miss", near, lambda base: p["min_amount"] * ctx.rng.uniform(0.35, 0.45))):  # below min_amount
        made = 0
        while made < count and (account := next(pool, None)) is not None:
            made += inject(kind, account, amount_for)
