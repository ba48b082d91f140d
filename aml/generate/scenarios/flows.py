"""Flow typologies: rapid movement (pass-through), fan-in, fan-out and cycles (round trips).

Amounts stay below the CTR threshold in cash-free transfers, counterparties are external so no
other of our accounts is touched, and a cycle's hops are spaced beyond the rapid-movement window
so its intermediate accounts do not also look like pass-throughs.
"""
from __future__ import annotations

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR


def _spread(ctx: Context, count: int, span: float) -> np.ndarray:
    return np.sort(ctx.rng.integers(0, max(1, int(span)), count))


def rapid_movement(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("rapid_movement")
    window = p["window_hours"] * HOUR
    ratio = p["min_outflow_ratio"]

    def inject(kind: str, out_ratio: float) -> bool:
        t0 = ctx.place(window)
        if t0 is None:
            ctx.skip("rapid_movement", f"the bank is shorter than the {p['window_hours']}-hour window")
            return False
        account = ctx.claim(1, t0)[0]
        inflow = ctx.cents(p["min_inflow"] * ctx.rng.uniform(1.2, 4.0))[()]
        source = ctx.directory.new_companies(1)
        parts = int(ctx.rng.integers(1, 3))
        shares = ctx.rng.dirichlet(np.ones(parts)) if parts > 1 else np.ones(1)
        outflows = np.floor(inflow * out_ratio * shares * 100) / 100
        outflows = np.where(np.isclose(outflows % 1, 0), outflows - 0.37, outflows)
        keys = [ctx.ledger.add(t0, source, account, inflow, "wire", "online", "Invoice payment")]
        when = t0 + 2 * HOUR + _spread(ctx, parts, window * 0.5)
        targets = ctx.directory.new_companies(parts, ctx.directory.low_risk)
        keys.append(ctx.ledger.add(when, account, targets, outflows, "wire", "online", "Supplier payment"))
        ctx.labels.add("rapid_movement", kind, account, np.concatenate(keys), t0, t0 + window)
        return True

    for _ in range(n):
        if not inject("laundering", ctx.rng.uniform(ratio + 0.05, min(0.99, ratio + 0.15))):
            return
    for _ in range(near):  # most of the money stays
        inject("near_miss", max(0.05, ratio - ctx.rng.uniform(0.2, 0.3)))


def _many(ctx: Context, typology: str, inbound: bool, count: int, kind: str) -> bool:
    p = ctx.params(typology)
    window = p["window_hours"] * HOUR
    t0 = ctx.place(window)
    if t0 is None:
        ctx.skip(typology, f"the bank is shorter than the {p['window_hours']}-hour window")
        return False
    account = ctx.claim(1, t0)[0]
    others = ctx.directory.new_people(count)
    when = t0 + _spread(ctx, count, window * 0.7)
    amounts = ctx.cents(ctx.rng.uniform(150, 950, count))
    orig, bene = (others, account) if inbound else (account, others)
    keys = ctx.ledger.add(when, orig, bene, amounts, "ach", "online", "Transfer")
    ctx.labels.add(typology, kind, account, keys, t0, t0 + window)
    return True


def fan_in(ctx: Context, n: int, near: int) -> None:
    least = ctx.params("fan_in")["min_counterparties"]
    for k in range(n):
        if not _many(ctx, "fan_in", True, least + k % 4, "laundering"):
            return
    for _ in range(near if least > 1 else 0):  # one payer short
        _many(ctx, "fan_in", True, least - 1, "near_miss")


def fan_out(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("fan_out")
    least, window = p["min_counterparties"], p["window_hours"] * HOUR
    for k in range(n):
        if not _many(ctx, "fan_out", False, least + k % 4, "laundering"):
            return
    if least < 3:
        return
    # near miss: a payroll account paying many payees, staggered so no window holds `least`
    spacing = window // (least - 2) + HOUR
    payees = least + 3
    for _ in range(near):
        t0 = ctx.place(spacing * (payees - 1))
        if t0 is None:
            return
        account = ctx.claim(1, t0, business=True)[0]
        when = t0 + np.arange(payees) * spacing
        keys = ctx.ledger.add(when, account, ctx.directory.new_people(payees),
                              ctx.cents(ctx.rng.uniform(1500, 4500, payees)), "ach", "online", "Payroll")
        ctx.labels.add("fan_out", "near_miss", account, keys, t0, int(when[-1]) + 1)


def cycles(ctx: Context, n: int, near: int) -> None:
    p = ctx.params("cycles")
    tolerance, window = p["amount_tolerance"], p["window_days"] * DAY
    hop_counts = list(range(p["min_hops"], p["max_hops"] + 1))
    pass_through = ctx.params("rapid_movement")["window_hours"] * HOUR
    # fees per hop small enough that even the longest cycle returns well within the tolerance
    fee = tolerance / (2 * p["max_hops"])

    def inject(kind: str, hops: int, returned: float | None) -> bool:
        spacing = min(pass_through + 12 * HOUR, int(window * 0.9 / hops))
        t0 = ctx.place(spacing * (hops - 1) + HOUR)
        if t0 is None:
            ctx.skip("cycles", f"the bank is too short for a {hops}-hop cycle")
            return False
        accounts = ctx.claim(hops, t0)
        amounts = [ctx.cents(p["min_amount"] * ctx.rng.uniform(3, 20))[()]]
        for _ in range(hops - 1):
            amounts.append(ctx.cents(amounts[-1] * ctx.rng.uniform(1 - fee, 1 - fee / 10))[()])
        if returned is not None:  # the last hop brings back too little
            amounts[-1] = ctx.cents(amounts[0] * returned)[()]
        when = t0 + np.arange(hops) * spacing + ctx.rng.integers(0, HOUR, hops)
        keys = ctx.ledger.add(when, accounts, np.roll(accounts, -1), np.array(amounts), "internal", "online",
                              "Transfer")
        ctx.labels.add("cycles", kind, accounts, keys, t0, int(when[-1]) + 1)
        return True

    for k in range(max(n, len(hop_counts))):
        if not inject("laundering", hop_counts[k % len(hop_counts)], None):
            return
    for _ in range(near):
        inject("near_miss", min(3, p["max_hops"]), 1 - tolerance - ctx.rng.uniform(0.1, 0.25))
