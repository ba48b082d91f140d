"""Cash typologies: large cash (CTR), structuring and smurfing.

Each instance spreads its cash so it matches only its own rule: structuring and smurfing keep
every day's cash below the CTR threshold, smurf deposits stay below the structuring band, and
large-cash deposits never fall inside that band.
"""
from __future__ import annotations

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR


def _day_start(ts: int) -> int:
    return ts - ts % DAY


def _deposit(ctx: Context, when, account: int, amounts, depositors=None) -> np.ndarray:
    origin = ctx.directory.cash if depositors is None else depositors
    return ctx.ledger.add(when, origin, account, amounts, "cash_deposit", "branch", "Cash deposit")


def large_cash(ctx: Context, n: int, near: int) -> None:
    p, band = ctx.params("large_cash"), ctx.params("structuring")
    threshold, window = p["threshold"], p["window_days"] * DAY
    for k in range(n):
        t0 = ctx.place(8 * HOUR)
        if t0 is None:
            return ctx.skip("large_cash", "the bank has no full business day")
        account = ctx.claim(1, t0)[0]
        low, high = threshold / 2 * 1.04, min(band["min_amount"], threshold) * 0.98
        variant = k % 3
        if variant == 2 and low < high:  # aggregated: two deposits, each below the threshold
            keys = _deposit(ctx, [t0, t0 + 5 * HOUR], account, ctx.cents(ctx.rng.uniform(low, high, 2)))
        elif variant == 1:
            keys = ctx.ledger.add(t0, account, ctx.directory.cash, ctx.cents(threshold * ctx.rng.uniform(1.05, 1.8)),
                                  "cash_withdrawal", "branch", "Cash withdrawal")
        else:
            keys = _deposit(ctx, t0, account, ctx.cents(threshold * ctx.rng.uniform(1.05, 2.5)))
        ctx.labels.add("large_cash", "laundering", account, keys, _day_start(t0), _day_start(t0) + window)
    for _ in range(near):  # just under the threshold, once
        t0 = ctx.place(HOUR)
        account = ctx.claim(1, t0)[0]
        keys = _deposit(ctx, t0, account, ctx.cents(threshold - ctx.rng.uniform(1, 60)))
        ctx.labels.add("large_cash", "near_miss", account, keys, _day_start(t0), _day_start(t0) + window)
    return None


def _band(ctx: Context, n: int) -> np.ndarray:
    p = ctx.params("structuring")
    return ctx.cents(ctx.rng.uniform(p["min_amount"] + 1, p["max_amount"] - 1, n))


def _spread_days(ctx: Context, count: int, window_days: int) -> np.ndarray:
    """Offsets (seconds) of `count` events within `window_days`, one a day while days last."""
    days = np.sort(ctx.rng.choice(window_days, count, replace=False)) if count <= window_days \
        else np.sort(ctx.rng.integers(0, window_days, count))
    return days * DAY + np.sort(ctx.rng.integers(0, 7 * HOUR, count))


def structuring(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("structuring")
    window_days = p["window_days"]
    for k in range(n):
        amounts = _band(ctx, p["min_count"] + k % 2)
        while amounts.sum() <= p["min_total"]:
            amounts = np.append(amounts, _band(ctx, 1))
        t0 = ctx.place(window_days * DAY)
        if t0 is None:
            return ctx.skip("structuring", f"the bank is shorter than the {window_days}-day window")
        account = ctx.claim(1, t0)[0]
        when = t0 + _spread_days(ctx, len(amounts), window_days)
        keys = _deposit(ctx, when, account, amounts)
        ctx.labels.add("structuring", "laundering", account, keys, t0, t0 + window_days * DAY)
    # near miss: the same deposits, each more than a window apart (three $9,000s over a month)
    gap = (window_days + 5) * DAY
    count = min(p["min_count"] + 1, (ctx.time.days * DAY - 12 * HOUR) // gap + 1)
    if count < 2:
        return None
    for _ in range(near):
        t0 = ctx.place((count - 1) * gap + 3 * HOUR)
        account = ctx.claim(1, t0)[0]
        when = t0 + np.arange(count) * gap + ctx.rng.integers(0, 3 * HOUR, count)
        keys = _deposit(ctx, when, account, _band(ctx, count))
        ctx.labels.add("structuring", "near_miss", account, keys, t0, int(when[-1]) + 1)
    return None


def smurfing(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("smurfing")
    window_days = p["window_days"]
    # below the structuring band and, two a day at most, below the CTR threshold per day
    high = min(ctx.params("structuring")["min_amount"], p["max_amount"],
               ctx.params("large_cash")["threshold"] / 2) * 0.95
    low = min(1500.0, high / 2)

    def inject(kind: str, depositors: int) -> bool:
        t0 = ctx.place(window_days * DAY)
        if t0 is None:
            ctx.skip("smurfing", f"the bank is shorter than the {window_days}-day window")
            return False
        account = ctx.claim(1, t0)[0]
        people = ctx.directory.new_people(depositors)
        when = t0 + _spread_days(ctx, depositors, window_days)
        keys = _deposit(ctx, when, account, ctx.cents(ctx.rng.uniform(low, high, depositors)), people)
        ctx.labels.add("smurfing", kind, account, keys, t0, t0 + window_days * DAY)
        return True

    for k in range(n):
        if not inject("laundering", p["min_depositors"] + k % 3):
            return
    if p["min_depositors"] >= 2:  # one depositor short
        for _ in range(near):
            inject("near_miss", p["min_depositors"] - 1)
