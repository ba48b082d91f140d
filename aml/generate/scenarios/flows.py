"""Flow typologies: rapid movement (pass-through), fan-in, fan-out (each over every window of the
rule: hours, days, weeks) and cycles (round trips, kept or re-drawn amounts).

Amounts stay below the CTR threshold in cash-free transfers, counterparties are external so no
other of our accounts is touched, and a cycle's hops are spaced beyond the rapid-movement window
so its intermediate accounts do not also look like pass-throughs.
"""
from __future__ import annotations

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR
from aml_contract.rules import CountWindow


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


def _no_three_in(window: int, count: int, pair_gap: int = DAY) -> np.ndarray:
    """Offsets (seconds) of `count` events in pairs a day apart, each pair `window` + 7 h after the
    one before: no `window` (the shortest floored fan window, a week) ever holds three of them."""
    k = np.arange(count)
    return (k // 2) * (window + 7 * HOUR) + (k % 2) * pair_gap


def _fan(ctx: Context, typology: str, inbound: bool, window: CountWindow, count: int, kind: str,
         spread_within: int | None) -> bool:
    """`count` distinct counterparties paying (inbound) or paid by one fresh account of ours.

    A floored window's payments lie between 1.2 and 2.8 x min_payment: above any floor that
    applies (a segment percentile only lowers it), and under 3,000 USD so a shape spread over weeks
    stays below velocity spike's segment floor. An unfloored window's lie between 50 and 400 USD,
    below a floored window's floor even where a segment's p95 lowers it (this bank's US p95 is near
    950 USD), so an unfloored near miss fails the floored windows too. `spread_within` (the weeks
    shape): pairs a day apart, no `spread_within` seconds holding three, so the shape is not also
    a days-shape fan; a laundering instance the bank is too short for is compressed, a near miss
    is left out (compressed, it would hold three in a week)."""
    p = ctx.params(typology)
    span = window.window_hours * HOUR
    room = min(span, ctx.time.days * DAY - 12 * HOUR)
    if spread_within:
        offsets = _no_three_in(spread_within, count)
        if offsets[-1] + 2 * HOUR > room:
            if kind == "near_miss":
                return True
            offsets = _spread(ctx, count, room * 0.9)
    else:
        offsets = _spread(ctx, count, room * 0.7)
    t0 = ctx.place(float(offsets[-1]) + 2 * HOUR)
    if t0 is None:
        ctx.skip(typology, "the bank has no full business day")
        return False
    account = ctx.claim(1, t0)[0]
    others = ctx.directory.new_people(count)
    when = t0 + offsets + ctx.rng.integers(0, HOUR, count)
    low, high = (1.2 * p["min_payment"], 2.8 * p["min_payment"]) if window.floored else (50, 400)
    orig, bene = (others, account) if inbound else (account, others)
    keys = ctx.ledger.add(when, orig, bene, ctx.cents(ctx.rng.uniform(low, high, count)), "ach", "online",
                          "Transfer")
    ctx.labels.add(typology, kind, account, keys, t0, max(t0 + span, int(when[-1]) + 1))
    return True


def _fans(ctx: Context, typology: str, inbound: bool, n: int, near: int) -> None:
    """Laundering instances cycling through the rule's windows, at least one each, shaped as the
    AMLworld paper (Altman et al. 2023) and AMLSim draw fan-in/fan-out and as FinCEN's
    funnel-account advisory (FIN-2014-A005) describes it: 5-8 counterparties within hours (small
    amounts); 3-4 of larger amounts over days; 5-6 over weeks. Near misses: one counterparty short
    of each window's minimum. A floored window's near miss is one counterparty short too, not a
    payment under the floor: the floor that applies is min(min_payment, the segment's percentile),
    possibly lower than min_payment, so a payment under min_payment may still count."""
    windows = ctx.params(typology).count_windows()
    floored = [w.window_hours for w in windows if w.floored]

    def spread(w: CountWindow) -> int | None:  # the weeks shape: longer than the shortest floored window
        return min(floored) * HOUR if w.floored and w.window_hours > min(floored) else None

    for k in range(max(n, len(windows))):
        w = windows[k % len(windows)]
        extra = k // len(windows) % (2 if w.floored else 4)
        if not _fan(ctx, typology, inbound, w, w.min_counterparties + extra, "laundering", spread(w)):
            return
    for k in range(max(near, len(windows))):
        w = windows[k % len(windows)]
        if w.min_counterparties > 1:
            _fan(ctx, typology, inbound, w, w.min_counterparties - 1, "near_miss", spread(w))


def fan_in(ctx: Context, n: int, near: int) -> None:
    _fans(ctx, "fan_in", True, n, near)


def fan_out(ctx: Context, n: int, near: int) -> None:
    _fans(ctx, "fan_out", False, n, near)


def _redrawn(ctx: Context, first: float, tolerance: float) -> float:
    """A hop's amount re-drawn away from the first: outside +-tolerance of it (by 5 points at
    least), between 0.45x and 1.8x, so only a rule with redrawn_amounts matches the cycle."""
    low = ctx.rng.uniform(0.45, max(0.46, 1 - tolerance - 0.05))
    high = ctx.rng.uniform(1 + tolerance + 0.05, max(1 + tolerance + 0.06, 1.8))
    return ctx.cents(first * (low if ctx.rng.random() < 0.5 else high))[()]


def cycles(ctx: Context, n: int, near: int) -> None:
    """Round trips through our own accounts (FATF round-tripping red flag; AMLSim's and the
    AMLworld paper's cycle pattern), one of each hop count at least. Kept-amount cycles lose a small
    fee per hop (within amount_tolerance); with `redrawn_amounts` every other cycle re-draws the
    amount at each hop (AMLworld's cycles do), outside the tolerance. Near misses: the return leg
    brings back too little (only while amounts must be kept), the chain never closes (its last hop
    goes to a fresh account), or the hops are out of order (the return is booked before the hop
    before it, so no rotation of the loop runs forward in time). Hops are spaced beyond the
    rapid-movement window so no account of the loop is a pass-through, and the whole loop lies
    within velocity spike's minimum history so its origin has no baseline to spike against."""
    p = ctx.params("cycles")
    tolerance, window = p["amount_tolerance"], p["window_days"] * DAY
    redraw = bool(p.params.get("redrawn_amounts", False))
    hop_counts = list(range(p["min_hops"], p["max_hops"] + 1))
    pass_through = ctx.params("rapid_movement")["window_hours"] * HOUR
    history = ctx.params("velocity_spike")["min_baseline_days"] * DAY - 12 * HOUR
    # fees per hop small enough that even the longest cycle returns well within the tolerance
    fee = tolerance / (2 * p["max_hops"])

    def inject(kind: str, hops: int, shape: str) -> bool:
        spacing = min(pass_through + 12 * HOUR, int(window * 0.9 / hops))
        if hops > 1:
            spacing = min(spacing, max(pass_through + HOUR, history // (hops - 1)))
        t0 = ctx.place(spacing * (hops - 1) + HOUR)
        if t0 is None:
            ctx.skip("cycles", f"the bank is too short for a {hops}-hop cycle")
            return False
        accounts = ctx.claim(hops + (shape == "open"), t0)
        amounts = [ctx.cents(p["min_amount"] * ctx.rng.uniform(3, 20))[()]]
        for _ in range(hops - 1):
            amounts.append(_redrawn(ctx, amounts[0], tolerance) if shape == "redrawn"
                           else ctx.cents(amounts[-1] * ctx.rng.uniform(1 - fee, 1 - fee / 10))[()])
        if shape == "short_return":  # the last hop brings back too little
            amounts[-1] = ctx.cents(amounts[0] * (1 - tolerance - ctx.rng.uniform(0.1, 0.25)))[()]
        order = np.arange(hops)
        if shape == "out_of_order":  # the return before the hop that precedes it
            order[-2], order[-1] = order[-1], order[-2]
        when = t0 + order * spacing + ctx.rng.integers(0, HOUR, hops)
        senders = accounts[:hops]
        receivers = accounts[1:] if shape == "open" else np.roll(accounts, -1)
        keys = ctx.ledger.add(when, senders, receivers, np.array(amounts), "internal", "online", "Transfer")
        ctx.labels.add("cycles", kind, accounts, keys, t0, int(when.max()) + 1)
        return True

    for k in range(max(n, len(hop_counts))):
        redrawn = redraw and (k + k // len(hop_counts)) % 2 == 1
        if not inject("laundering", hop_counts[k % len(hop_counts)], "redrawn" if redrawn else "kept"):
            return
    near_shapes = ("open", "out_of_order") if redraw else ("short_return", "open", "out_of_order")
    for k in range(near):
        hops = max(p["min_hops"], min(3, p["max_hops"]))
        shape = near_shapes[k % len(near_shapes)]
        inject("near_miss", hops, "open" if shape == "out_of_order" and hops < 3 else shape)
