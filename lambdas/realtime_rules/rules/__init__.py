"""AML rules as pure functions `(transaction, account state, parameters) -> [AlertDraft]`.

Each rule sees the transaction from one account's side (the subject): the state already contains
the transaction, so evaluating a redelivered record gives the same drafts. Windows run on event
time; a windowed rule checks every window of its length that contains the transaction, so a
record arriving late (within the out-of-order tolerance) completes a pattern as if in order.
Cycles (multi-account round trips) need the whole graph: they are an Athena query, not a rule here.
"""
from __future__ import annotations

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, Rule
from lambdas.realtime_rules.rules.behaviour import dormant_reactivation, round_amounts, velocity_spike
from lambdas.realtime_rules.rules.cash import large_cash, smurfing, structuring
from lambdas.realtime_rules.rules.flows import fan_in, fan_out, rapid_movement
from lambdas.realtime_rules.rules.jurisdiction import high_risk_jurisdiction
from lambdas.realtime_rules.window import AccountState

# Rules that read only the transaction: they still run for records too late for the windows.
STATELESS: dict[str, Rule] = {"high_risk_jurisdiction": high_risk_jurisdiction}
WINDOWED: dict[str, Rule] = {
    "large_cash": large_cash, "structuring": structuring, "smurfing": smurfing,
    "rapid_movement": rapid_movement, "fan_in": fan_in, "fan_out": fan_out,
    "round_amounts": round_amounts, "velocity_spike": velocity_spike,
    "dormant_reactivation": dormant_reactivation,
}
ALL_RULES: dict[str, Rule] = {**STATELESS, **WINDOWED}


def evaluate(tx: Transaction, state: AccountState, params: RuleParameters, *, late: bool = False) -> list[AlertDraft]:
    rules = STATELESS if late else ALL_RULES
    return [draft for rule in rules.values() for draft in rule(tx, state, params)]


__all__ = ["ALL_RULES", "AlertDraft", "STATELESS", "WINDOWED", "evaluate"]
