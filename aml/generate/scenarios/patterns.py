"""Pattern typologies: repeated round amounts and payments with high-risk jurisdictions."""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR
from aml.reference.build import in_memory


def round_amounts(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("round_amounts")
    modulus, window = p["modulus"], p["window_days"] * DAY
    first = int(np.ceil(p["min_amount"] / modulus))

    def inject(kind: str, count: int) -> bool:
        span = min(window * 0.8, ctx.time.days * DAY - 12 * HOUR)
        t0 = ctx.place(span)
        if t0 is None or count < 1:
            ctx.skip("round_amounts", "the bank has no full business day")
            return False
        account = ctx.claim(1, t0)[0]
        when = t0 + np.sort(ctx.rng.integers(0, max(1, int(span)), count))
        amounts = modulus * ctx.rng.integers(first, first + 6, count).astype(np.float64)
        target = ctx.directory.new_companies(1)
        keys = ctx.ledger.add(when, account, target, amounts, "wire", "online", "Consulting fee")
        ctx.labels.add("round_amounts", kind, account, keys, t0, t0 + window)
        return True

    for k in range(n):
        if not inject("laundering", p["min_count"] + k % 3):
            return
    for _ in range(near if p["min_count"] > 1 else 0):  # one round amount short
        inject("near_miss", p["min_count"] - 1)


def high_risk_jurisdiction(ctx: Context, n: int, near: int) -> None:
    """Alternates call-for-action (any amount) and grey-list (above the lower threshold) instances,
    in both directions. Countries are taken from the FATF lists in force on the payment date and
    still listed in the latest lists, so an engine using either agrees."""
    grey_min = ctx.params("high_risk_jurisdiction")["grey_list_min_amount"]
    reference = in_memory()
    latest = reference.latest_fatf_lists()

    def countries(when: int, grey: bool) -> list[str]:
        lists = reference.fatf_lists(ctx.time.start_date + timedelta(days=(when - ctx.time.start) // DAY))
        listed = lists.grey_list & latest.grey_list if grey else lists.call_for_action & latest.call_for_action
        return sorted(listed)

    def inject(kind: str, k: int, grey: bool, amount: float) -> None:
        t0 = ctx.place(HOUR)
        account = ctx.claim(1, t0)[0]
        pool = countries(t0, grey)
        if not pool:
            ctx.skip("high_risk_jurisdiction", "the FATF lists in force are empty")
            return
        other = ctx.directory.new_companies(1, (pool[int(ctx.rng.integers(0, len(pool)))],))
        orig, bene = (account, other) if k % 4 < 2 else (other, account)
        keys = ctx.ledger.add(t0, orig, bene, ctx.cents(amount), "wire", "online", "Trade settlement")
        ctx.labels.add("high_risk_jurisdiction", kind, account, keys, t0, t0 + HOUR)

    for k in range(max(n, 2)):
        grey = k % 2 == 1
        amount = grey_min * ctx.rng.uniform(1.1, 2.0) if grey else ctx.rng.uniform(300, 4000)
        inject("laundering", k, grey, amount)
    for k in range(near):  # grey list, under the grey-list threshold
        inject("near_miss", k, True, grey_min * ctx.rng.uniform(0.5, 0.9))
