"""Flow rules: rapid movement (pass-through), fan-in, fan-out."""
from __future__ import annotations

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import (
    AlertDraft,
    amount_floor,
    direction,
    seconds,
    usd,
    windows_containing,
)
from lambdas.realtime_rules.window import AccountState, known_cents


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


def _fan(rule_id: str, side: str, tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Counterparty transfers are the `counterparty_types` of the rule parameters (the Athena
    fan_in/fan_out queries read the same list): card purchases go to merchants and cash has no
    counterparty account, so neither counts."""
    rule = params.rule(rule_id)
    types = frozenset(rule["counterparty_types"])
    if direction(tx, state) != side or tx.transaction_type not in types:
        return []
    flows = [e for e in state.sorted_events() if e.direction == side and e.transaction_type in types]
    for start, end, window in windows_containing(tx.ts, flows, seconds(rule)):
        counterparties = sorted({e.counterparty for e in window})
        if len(counterparties) >= rule["min_counterparties"]:
            return [AlertDraft(
                rule_id, state.account_id, window[0].transaction_id,
                tuple(e.transaction_id for e in window), tx.ts, start, end,
                {"distinct_counterparties": len(counterparties), "count": len(window),
                 "total_usd": usd(sum(known_cents(window))), "window_hours": rule["window_hours"]})]
    return []


def fan_in(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Many distinct counterparties pay into the account within the window."""
    return _fan("fan_in", "in", tx, state, params)


def fan_out(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """The account pays many distinct counterparties within the window."""
    return _fan("fan_out", "out", tx, state, params)
