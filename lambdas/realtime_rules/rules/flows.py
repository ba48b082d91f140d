"""Flow rules: rapid movement (pass-through), fan-in, fan-out."""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any

from aml_contract.rules import CountWindow, RuleParameters
from aml_contract.rules import Rule as ContractRule
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import (
    AlertDraft,
    Floor,
    amount_floor,
    direction,
    seconds,
    usd,
    windows_containing,
)
from lambdas.realtime_rules.window import HOUR, AccountState, Event, known_cents


def rapid_movement(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Outflows after the first inflow reach a share of the inflows within the window, the inflows
    summing to the `min_inflow` floor (the lowest among the inflows summed: base.amount_floor)."""
    rule = params.rule("rapid_movement")
    priced = [e for e in state.sorted_events() if e.cents is not None]  # a flow without an amount moves nothing measurable
    for start, end, window in windows_containing(tx.ts, priced, seconds(rule)):
        inflows = [e for e in window if e.direction == "in"]
        if not inflows:
            continue
        inflow = sum(e.cents for e in inflows)
        floor = amount_floor(tx, rule, "min_inflow", (e.country for e in inflows))
        if not floor.reached_by(inflow):
            continue
        outflows = [e for e in window if e.direction == "out" and e.ts >= inflows[0].ts]
        outflow = sum(e.cents for e in outflows)
        if outflows and outflow >= rule.exact("min_outflow_ratio") * inflow:  # exact: 0.8 is 4/5
            return [AlertDraft(
                "rapid_movement", state.account_id, inflows[0].transaction_id,
                tuple(e.transaction_id for e in inflows + outflows), tx.ts, start, end,
                {"inflow_usd": usd(inflow), "outflow_usd": usd(outflow), "ratio": round(outflow / inflow, 4),
                 "min_outflow_ratio": rule["min_outflow_ratio"], "window_hours": rule["window_hours"],
                 **floor.details()})]
    return []


class _PaymentFloors:
    """The `min_payment` floor of each payment's own segment (base.amount_floor), looked up once
    per country per evaluation and held as whole cents (a floor of x cents is reached by whole
    cents c exactly when c >= ceil(x): the comparison stays exact and cheap over a week of
    payments)."""

    def __init__(self, tx: Transaction, rule: ContractRule):
        self._tx, self._rule = tx, rule
        self._cents: dict[str | None, int] = {}

    def reached_by(self, event: Event) -> bool:
        """A payment of known amount at or above its floor: one that counts in a floored window."""
        if event.cents is None:
            return False
        least = self._cents.get(event.country)
        if least is None:
            floor = amount_floor(self._tx, self._rule, "min_payment", [event.country])
            least = self._cents[event.country] = math.ceil(floor.usd * 100)
        return event.cents >= least

    def lowest(self, events: list[Event]) -> Floor:
        """The lowest floor among `events`' segments: the one the details name."""
        return amount_floor(self._tx, self._rule, "min_payment", {e.country for e in events})


def _first_qualifying(tx: Transaction, mine: Event, flows: list[Event], window: CountWindow,
                      floors: _PaymentFloors):
    """The earliest-ending window of this length that contains `tx` and reaches the count, as
    (start, end, counted payments, details), or None. `flows` sorted by time. A floored window
    counts only the payments at or above their floor, and is looked at only when `tx` is one of
    them: a window of floored payments qualifies first when its last payment arrives, so nothing
    is missed."""
    length = window.window_hours * HOUR
    # Only the payments within a window's length of the transaction can share a window with it.
    near = flows[bisect_left(flows, tx.ts - length, key=_ts):bisect_right(flows, tx.ts + length, key=_ts)]
    if window.floored:
        if not floors.reached_by(mine):
            return None
        near = [e for e in near if floors.reached_by(e)]
    if len({e.counterparty for e in near}) < window.min_counterparties:
        return None  # no window of them can reach the count: spare the per-window scan
    for start, end, counted in windows_containing(tx.ts, near, length):
        counterparties = {e.counterparty for e in counted}
        if len(counterparties) >= window.min_counterparties:
            details: dict[str, Any] = {
                "window_hours": window.window_hours, "min_counterparties": window.min_counterparties,
                "counterparties": len(counterparties), "count": len(counted),
                "total_usd": usd(sum(known_cents(counted))), "floored": window.floored}
            if window.floored:  # the lowest floor a counted payment had to reach, and where it came from
                details.update(floors.lowest(counted).details())
            return start, end, counted, details
    return None


def _ts(event: Event) -> int:
    return event.ts


def _fan(rule_id: str, side: str, tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Counterparty transfers are the `counterparty_types` of the rule parameters (the Athena
    fan_in/fan_out queries read the same list): card purchases go to merchants and cash has no
    counterparty account, so neither counts.

    Every realtime window of the rule (Rule.count_windows) is checked; one draft per transaction
    whichever window(s) qualified, so one alert per episode (rules/__init__): the earliest-ending
    qualifying window of any length, with every window of another length that qualifies ending at
    the same time. Its evidence is the union of their counted payments, anchored on the first of
    them; `details["windows"]` says which qualified (length, count, floor)."""
    rule = params.rule(rule_id)
    types = frozenset(rule["counterparty_types"])
    if direction(tx, state) != side or tx.transaction_type not in types:
        return []
    mine = state.events.get(tx.transaction_id)
    if mine is None:  # not applied (beyond the horizon): no window of this state holds it
        return []
    flows = [e for e in state.sorted_events() if e.direction == side and e.transaction_type in types]
    floors = _PaymentFloors(tx, rule)
    found = [f for w in rule.count_windows(realtime_only=True) if (f := _first_qualifying(tx, mine, flows, w, floors))]
    if not found:
        return []
    end = min(f[1] for f in found)
    found = [f for f in found if f[1] == end]
    evidence = sorted({e.transaction_id: e for f in found for e in f[2]}.values(),
                      key=lambda e: (e.ts, e.transaction_id))
    return [AlertDraft(
        rule_id, state.account_id, evidence[0].transaction_id, tuple(e.transaction_id for e in evidence),
        tx.ts, min(f[0] for f in found), end,
        {"windows": [f[3] for f in found], "window_hours": [f[3]["window_hours"] for f in found],
         "distinct_counterparties": len({e.counterparty for e in evidence}), "count": len(evidence),
         "total_usd": usd(sum(known_cents(evidence)))})]


def fan_in(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Many distinct counterparties pay into the account within a window (or, floored, fewer
    paying at least the `min_payment` floor over a longer one)."""
    return _fan("fan_in", "in", tx, state, params)


def fan_out(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """The account pays many distinct counterparties within a window (or, floored, fewer receiving
    at least the `min_payment` floor over a longer one)."""
    return _fan("fan_out", "out", tx, state, params)
