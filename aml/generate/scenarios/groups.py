"""Group typologies: layered fan-in and fan-out, scatter-gather, gather-scatter and bipartite flows.

Shapes follow the AMLworld paper's laundering patterns (Altman et al. 2023, "Realistic Synthetic
Financial Transactions for Anti-Money Laundering Models", NeurIPS Datasets & Benchmarks: fan-in,
fan-out, scatter-gather, gather-scatter, bipartite, stack) and IBM AMLSim's typologies of the same
names; FATF's red flags for layering (funds split over many accounts and recombined) say why.

Every instance lies within its rule's `window_days`, every payment between 1.2x and 3x its rule's
`min_amount` (so above any floor that applies: a segment percentile only lowers it), every count at
or above its minimum. Near misses fail a count, a ratio or the sources/destinations split, never
an amount floor (the floor that applies may be lower than `min_amount`).

Other rules are kept out where the shape allows it:
- an account of ours that receives and then pays on waits longer than rapid movement's window
  after its last inflow (`_pass`), so it is no pass-through;
- an account of ours never has three payers, or three payees, of floored size within the shortest
  floored fan-in/fan-out window (a week): they come in pairs a week apart (`_no_three_in`);
- every shape spans less than velocity spike's minimum history (14 days), so no account of it has
  a baseline to spike against.
Inherent overlap: a gather-scatter hub collects from three or more sources and pays three or more
destinations within 14 days, so one of the two sides holds three within a week: it gathers within
a day (a fan-in, fan_in's week window) and scatters over the following ten days.
Subjects (labels.py): the collecting account (layered fan-in), the paying account (layered
fan-out), the source and the sink (scatter-gather), the hub (gather-scatter), the originators and
beneficiaries of ours (bipartite).
"""
from __future__ import annotations

import numpy as np

from aml.generate.scenarios import Context
from aml.generate.timebase import DAY, HOUR


def _week(ctx: Context) -> int:
    """The shortest floored fan-in/fan-out window (seconds): three payers or payees of floored size
    within it would make a fan."""
    hours = [w.window_hours for rule in ("fan_in", "fan_out") if rule in ctx.rules.rules
             for w in ctx.params(rule).count_windows() if w.floored]
    return min(hours, default=168) * HOUR


def _pass(ctx: Context) -> int:
    """How long an account of ours waits after its last inflow before paying on: past rapid
    movement's window."""
    return ctx.params("rapid_movement")["window_hours"] * HOUR + 6 * HOUR


def _no_three_in(ctx: Context, count: int, pair_gap: int = 6 * HOUR) -> np.ndarray:
    """Offsets (seconds) of `count` payments in pairs `pair_gap` apart, each pair a week and 7 hours
    after the one before: no week holds three."""
    k = np.arange(count)
    return (k // 2) * (_week(ctx) + 7 * HOUR) + (k % 2) * pair_gap


def _start(ctx: Context, typology: str, span: float) -> int | None:
    window = ctx.params(typology)["window_days"] * DAY
    if span > window * 0.95:
        ctx.skip(typology, f"its shape ({span / DAY:.1f} days) does not fit the {window // DAY}-day window "
                           "with the other rules' spacing")
        return None
    t0 = ctx.place(span + HOUR)
    if t0 is None:
        ctx.skip(typology, f"the bank is shorter than the {span / DAY:.1f}-day shape")
    return t0


def _amounts(ctx: Context, typology: str, count: int, low: float = 1.3, high: float = 2.8) -> np.ndarray:
    return ctx.cents(ctx.params(typology)["min_amount"] * ctx.rng.uniform(low, high, count))


def _pay(ctx: Context, when, orig, bene, amounts, memo: str = "Transfer") -> np.ndarray:
    kind = "wire" if ctx.rng.random() < 0.5 else "ach"
    return ctx.ledger.add(when, orig, bene, amounts, kind, "online", memo)


def _jitter(ctx: Context, count: int) -> np.ndarray:
    return ctx.rng.integers(0, HOUR, count)


# ---- layered fan-in / fan-out -------------------------------------------------------------------

def _layered(ctx: Context, typology: str, inbound: bool, intermediaries: int, leaves: int, kind: str) -> bool:
    """Fan-in over two hops (inbound: `leaves` external sources pay each intermediary of ours,
    which pays the collecting account), or its mirror in time (outbound: the paying account pays
    each intermediary, which pays `leaves` external destinations). AMLworld's stack and fan
    patterns chained; AMLSim's fan_in/fan_out over two levels.

    Inbound schedule: intermediary i's sources in pairs a week apart (`_no_three_in`), its pay-on
    `_pass` after its last source; intermediaries in pairs a week apart too, so the collecting
    account never has three payers in a week. Outbound reverses time and the payments' direction,
    which keeps both properties (each intermediary pays on `_pass` after its one inflow)."""
    leaf_at = _no_three_in(ctx, leaves)
    base = _no_three_in(ctx, intermediaries)
    hub_at = base + leaf_at[-1] + _pass(ctx)
    span = float(hub_at.max() + HOUR)
    t0 = _start(ctx, typology, span)
    if t0 is None:
        return False
    subject = ctx.claim(1, t0)[0]
    middle = ctx.claim(intermediaries, t0)
    keys = []
    for i, account in enumerate(middle.tolist()):
        legs = _amounts(ctx, typology, leaves)
        others = ctx.directory.new_people(leaves)
        hub_leg = ctx.cents(legs.sum() * (ctx.rng.uniform(0.9, 0.97) if inbound else 1 / ctx.rng.uniform(0.9, 0.97)))
        leg_when, hub_when = base[i] + leaf_at + _jitter(ctx, leaves), hub_at[i]
        if not inbound:  # the mirror in time
            leg_when, hub_when = span - leg_when, span - hub_at[i]
        if inbound:
            keys.append(_pay(ctx, t0 + leg_when, others, account, legs))
            keys.append(_pay(ctx, t0 + hub_when, account, subject, hub_leg))
        else:
            keys.append(_pay(ctx, t0 + hub_when, subject, account, hub_leg))
            keys.append(_pay(ctx, t0 + leg_when, account, others, legs))
    ctx.labels.add(typology, kind, subject, np.concatenate(keys), t0, t0 + int(span) + 1)
    return True


def _layered_instances(ctx: Context, typology: str, inbound: bool, n: int, near: int) -> None:
    p = ctx.params(typology)
    fewest = p["min_intermediaries"]
    leaves = p["min_sources"] if inbound else p["min_destinations"]
    # one count above its minimum each time (both above at once would not fit 14 days with the spacing)
    shapes = [(fewest + 1, leaves), (fewest, leaves + 1)]
    for k in range(n):
        if not _layered(ctx, typology, inbound, *shapes[k % 2], "laundering"):
            return
    near_shapes = [(fewest - 1, leaves + 1), (fewest + 1, leaves - 1)]  # one intermediary short; one leaf short
    for k in range(near):
        intermediaries, count = near_shapes[k % 2]
        if intermediaries >= 1 and count >= 1:
            _layered(ctx, typology, inbound, intermediaries, count, "near_miss")


def fan_in_layered(ctx: Context, n: int, near: int) -> None:
    """Intermediaries of ours that each collected from several external sources pay one
    collecting account (the subject). Near misses: one intermediary short; one source short."""
    _layered_instances(ctx, "fan_in_layered", True, n, near)


def fan_out_layered(ctx: Context, n: int, near: int) -> None:
    """One paying account (the subject) pays intermediaries of ours that each pay several
    external destinations. Near misses: one intermediary short; one destination short."""
    _layered_instances(ctx, "fan_out_layered", False, n, near)


# ---- scatter-gather -----------------------------------------------------------------------------

def scatter_gather(ctx: Context, n: int, near: int) -> None:
    """One account of ours (the source) pays several external intermediaries, each of which
    passes the money on, within a day, to one same account of ours (the sink): AMLworld's and
    AMLSim's scatter-gather. The source's payments come in pairs a week apart, and the sink's
    receipts with them, so neither is a fan. Near misses: one intermediary short; the
    intermediaries pass on well under `min_gathered_ratio` of what they received."""
    p = ctx.params("scatter_gather")
    fewest, ratio = p["min_intermediaries"], p["min_gathered_ratio"]

    def inject(kind: str, intermediaries: int, kept: tuple[float, float], scale: tuple[float, float]) -> bool:
        sent_at = _no_three_in(ctx, intermediaries, pair_gap=DAY)
        delay = 12 * HOUR + ctx.rng.integers(0, 3 * HOUR, intermediaries)
        t0 = _start(ctx, "scatter_gather", float(sent_at[-1] + delay.max() + HOUR))
        if t0 is None:
            return False
        source, sink = ctx.claim(2, t0)
        middle = ctx.directory.new_people(intermediaries)
        scattered = _amounts(ctx, "scatter_gather", intermediaries, *scale)
        gathered = ctx.cents(scattered * ctx.rng.uniform(*kept, intermediaries))
        keys = [_pay(ctx, t0 + sent_at, source, middle, scattered),
                _pay(ctx, t0 + sent_at + delay, middle, sink, gathered)]
        ctx.labels.add("scatter_gather", kind, [source, sink], np.concatenate(keys), t0,
                       t0 + p["window_days"] * DAY)
        return True

    for k in range(n):
        if not inject("laundering", fewest + k % 2, (max(ratio + 0.2, 0.85), 0.97), (1.3, 2.8)):
            return
    for k in range(near):
        if k % 2 == 0 and fewest > 1:  # one intermediary short
            inject("near_miss", fewest - 1, (0.85, 0.97), (1.3, 2.8))
        else:  # gathered far below the ratio; the gathered legs still 1.3x min_amount or more
            low = max(0.05, ratio - 0.3)
            inject("near_miss", fewest + 1, (low, low + 0.1), (1.3 / low, 1.8 / low))


# ---- gather-scatter -----------------------------------------------------------------------------

def gather_scatter(ctx: Context, n: int, near: int) -> None:
    """A hub of ours (a business account: AMLworld's gather-scatter runs through a company)
    collects from several external sources, then pays most of it on to several other external
    destinations: AMLworld's and AMLSim's gather-scatter. Laundering: the sources within a day
    (inherently a fan-in, see the module docstring), the destinations from `_pass` after the last
    source, in pairs a week apart. Near misses: the destinations are the sources (refunds); the
    hub pays on well under `min_outflow_ratio`; one source short. Near misses interleave (pay a
    pair of destinations after each pair of sources) so they are no fan-in either."""
    p = ctx.params("gather_scatter")
    ratio = p["min_outflow_ratio"]

    def inject(kind: str, sources: int, destinations: int, out_ratio: float, refunds: bool) -> bool:
        interleaved = kind == "near_miss"
        if interleaved:
            in_at = _no_three_in(ctx, sources)
            out_at = in_at[min(1, sources - 1)] + _pass(ctx) + _no_three_in(ctx, destinations, pair_gap=HOUR)
        else:
            in_at = np.sort(ctx.rng.integers(0, 20 * HOUR, sources))
            out_at = in_at[-1] + _pass(ctx) + _no_three_in(ctx, destinations, pair_gap=8 * HOUR)
        t0 = _start(ctx, "gather_scatter", float(out_at[-1] + HOUR))
        if t0 is None:
            return False
        hub = ctx.claim(1, t0, business=True)[0]
        payers = ctx.directory.new_companies(sources)
        payees = payers[:destinations] if refunds else ctx.directory.new_companies(destinations)
        out = _amounts(ctx, "gather_scatter", destinations, 1.5, 2.8)
        share = ctx.rng.uniform(0.9, 1.1, sources)
        inflow = ctx.cents(out.sum() / out_ratio * share / share.sum())
        keys = [_pay(ctx, t0 + in_at + _jitter(ctx, sources), payers, hub, inflow, "Invoice payment"),
                _pay(ctx, t0 + out_at + _jitter(ctx, destinations), hub, payees, out, "Supplier payment")]
        ctx.labels.add("gather_scatter", kind, hub, np.concatenate(keys), t0, t0 + p["window_days"] * DAY)
        return True

    srcs, dsts = p["min_sources"], p["min_destinations"]
    for k in range(n):
        if not inject("laundering", srcs + k % 2, dsts + k // 2 % 2, ctx.rng.uniform(max(ratio + 0.2, 0.75), 0.95),
                      False):
            return
    for k in range(near):
        variant = k % 3
        if variant == 0:  # destinations among the sources: every payment goes back where it came from
            inject("near_miss", srcs, srcs, ctx.rng.uniform(0.85, 0.95), True)
        elif variant == 1:  # most of the money stays
            inject("near_miss", srcs, dsts, max(0.05, ratio - ctx.rng.uniform(0.25, 0.35)), False)
        elif srcs > 1:  # one source short
            inject("near_miss", srcs - 1, dsts, ctx.rng.uniform(0.75, 0.95), False)


# ---- bipartite ----------------------------------------------------------------------------------

def bipartite(ctx: Context, n: int, near: int) -> None:
    """A group of originators of ours each paying several of one group of beneficiaries (external,
    or of ours every other instance): AMLworld's and AMLSim's bipartite pattern. Link (i, j) is
    booked in slot (i + j) mod k of k slots in pairs a week apart, so no account pays or is paid
    by three of the group within a week (no fan). Laundering: 4x3, 3x4 and 4x4 groups, complete
    or (4x4) less one matching (3 links each); near misses: one originator short (complete), or
    every account one link short of `min_links_per_account`."""
    p = ctx.params("bipartite")
    m_o, m_b, links = p["min_originators"], p["min_beneficiaries"], p["min_links_per_account"]

    def inject(kind: str, n_o: int, n_b: int, edges: list[tuple[int, int]], ours_b: bool) -> bool:
        slots = _no_three_in(ctx, max(n_o, n_b), pair_gap=DAY)
        t0 = _start(ctx, "bipartite", float(slots[-1] + 2 * HOUR))
        if t0 is None:
            return False
        originators = ctx.claim(n_o, t0)
        beneficiaries = ctx.claim(n_b, t0) if ours_b else ctx.directory.new_companies(n_b)
        i, j = np.array(edges).T
        when = t0 + slots[(i + j) % len(slots)] + _jitter(ctx, len(i))
        keys = _pay(ctx, when, originators[i], beneficiaries[j], _amounts(ctx, "bipartite", len(i)))
        subjects = np.concatenate([originators, beneficiaries]) if ours_b else originators
        ctx.labels.add("bipartite", kind, subjects, keys, t0, t0 + p["window_days"] * DAY)
        return True

    def complete(n_o: int, n_b: int) -> list[tuple[int, int]]:
        return [(a, b) for a in range(n_o) for b in range(n_b)]

    shapes = [(m_o + 1, m_b, complete(m_o + 1, m_b)), (m_o, m_b + 1, complete(m_o, m_b + 1)),
              (m_o + 1, m_b + 1, [(a, b) for a, b in complete(m_o + 1, m_b + 1) if a != b])]
    for k in range(n):
        n_o, n_b, edges = shapes[k % len(shapes)]
        if not inject("laundering", n_o, n_b, edges, k % 2 == 1):
            return
    size = max(m_o, m_b) + 1
    short = [(a, (a + t) % size) for a in range(size) for t in range(max(0, links - 1))]
    for k in range(near):
        if k % 2 == 0 and m_o > 1:  # one originator short, fully linked
            inject("near_miss", m_o - 1, m_b + 1, complete(m_o - 1, m_b + 1), False)
        elif short:  # every account one link short
            inject("near_miss", size, size, short, k % 4 == 3)
