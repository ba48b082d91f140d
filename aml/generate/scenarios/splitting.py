"""Non-cash structuring: payments split to stay under the funds-transfer recordkeeping threshold.

31 CFR 1010.410(e)-(f) makes banks keep records of funds transfers of $3,000 or more, and 31 USC
5324 forbids structuring a transaction to evade a BSA recordkeeping requirement as well as the CTR
(FFIEC BSA/AML Examination Manual, Appendix G "Structuring"); Appendix F's red flags name amounts
kept under $3,000 ("usually in amounts of less than $3,000") and repetitive funds transfers.
The subject is the sending account; the payments go to one or two payees,
so the account is no fan-out.
"""
from __future__ import annotations

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.scenarios.cash import _spread_days
from aml.generate.timebase import DAY, HOUR

_CHANNELS = {"wire": "online", "ach": "online", "check": "branch"}


def structuring_non_cash(ctx: Context, n: int, near: int) -> None:
    """Laundering: min_count to min_count + 2 payments in [min_amount, max_amount) (above
    min_amount by 2% of the band at least, a dollar under max_amount at most) within window_days,
    by wire, ACH or check, summing above min_total. Near misses: the same count at or above
    max_amount (up to 10% above); one payment short; the payments each more than the window apart."""
    p = ctx.params("structuring_non_cash")
    window_days, least = p["window_days"], p["min_count"]
    types = [t for t in _CHANNELS if t in p["transaction_types"]] or ["wire"]
    low, high = p["min_amount"] + 0.02 * (p["max_amount"] - p["min_amount"]), p["max_amount"] - 1

    def inject(kind: str, amounts: np.ndarray, gap_days: int | None) -> bool:
        count = len(amounts)
        span = (count - 1) * gap_days * DAY + 3 * HOUR if gap_days else window_days * DAY
        t0 = ctx.place(span)
        if t0 is None:
            ctx.skip("structuring_non_cash", f"the bank is shorter than the {span / DAY:.1f}-day shape")
            return False
        account = ctx.claim(1, t0)[0]
        if gap_days:
            when = t0 + np.arange(count) * gap_days * DAY + ctx.rng.integers(0, 3 * HOUR, count)
        else:
            when = t0 + _spread_days(ctx, count, window_days)
        payees = ctx.directory.new_companies(1 + int(ctx.rng.random() < 0.5))
        kind_of_payment = types[int(ctx.rng.integers(0, len(types)))]
        keys = ctx.ledger.add(when, account, payees[ctx.rng.integers(0, len(payees), count)], amounts,
                              kind_of_payment, _CHANNELS[kind_of_payment], "Payment")
        ctx.labels.add("structuring_non_cash", kind, account, keys, t0, max(t0 + window_days * DAY,
                                                                             int(when[-1]) + 1))
        return True

    def band(count: int) -> np.ndarray:
        return ctx.cents(ctx.rng.uniform(low, high, count))

    for k in range(n):
        amounts = band(least + k % 3)
        while amounts.sum() <= p["min_total"]:
            amounts = np.append(amounts, band(1))
        if not inject("laundering", amounts, None):
            return
    gap = window_days + 1
    for k in range(near):
        variant = k % 3
        if variant == 0:  # at or above the threshold they would have to dodge
            inject("near_miss", ctx.cents(p["max_amount"] * ctx.rng.uniform(1.0, 1.1, least + 1)), None)
        elif variant == 1 and least > 1:  # one payment short
            inject("near_miss", band(least - 1), None)
        elif (least * gap + 1) * DAY < ctx.time.days * DAY:  # spread: no window holds two
            inject("near_miss", band(least + 1), gap)
