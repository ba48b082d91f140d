"""AML rules as pure functions `(transaction, account state, parameters) -> [AlertDraft]`.

Each rule sees the transaction from one account's side (the subject): the state already contains
the transaction, so evaluating a redelivered record gives the same drafts. Windows run on event
time; a windowed rule checks every window of its length that contains the transaction, so a
record arriving late (within the late-record horizon, window.py) completes a pattern as if in
order.

Batch-only scenarios. A rule here sees one account's own transactions (its state item), so the
scenarios over a multi-account graph have no rule here: cycles (round trips), fan_in_layered and
fan_out_layered (two hops), scatter_gather, gather_scatter and bipartite (groups of accounts) are
Athena queries only. So are the fan_in/fan_out windows marked `realtime: false` (longer than the
state keeps: window.Horizons). `ALL_RULES` is therefore a subset of the parameter file's rules:
nothing may assume every rule id there has a rule here. Conversely the profile rules
(rules/profiled.py: amount_outlier, new_high_risk_country) have no named query: they compare a
transaction with the account's profile (aml_contract.profiles), which the daily pipeline computes.

The alert id (alerts.alert_id) is a hash of rule, subject and anchor; the anchor is chosen from the
event set, never from arrival order:
- calendar rules (large_cash, velocity_spike) anchor on their UTC-day window (and cash type):
  any record of that window, in any order, maps to the same alert;
- the stateless rule anchors on its transaction;
- sliding-window rules (SLIDING) anchor on the first event (by event time, then transaction id)
  of the earliest-ending qualifying window that contains the transaction (fan_in/fan_out, with
  several window lengths: of the union of the qualifying windows ending first, so still one
  draft per transaction and rule, its details naming the window(s) that qualified); `evaluate` then
  resolves that to the episode it belongs to (AccountState.episode_anchor): a finding whose
  evidence overlaps in event time an alert already raised for the same rule and subject keeps
  that alert's anchor. Delivered in order, the first qualifying window is found first, so the id
  is a function of the events alone; a late record can only re-anchor a window onto an episode
  already raised, which it then joins: no second alert for the same activity.
"""
from __future__ import annotations

from dataclasses import replace

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, Rule
from lambdas.realtime_rules.rules.behaviour import dormant_reactivation, round_amounts, velocity_spike
from lambdas.realtime_rules.rules.cash import large_cash, smurfing, structuring
from lambdas.realtime_rules.rules.flows import fan_in, fan_out, rapid_movement
from lambdas.realtime_rules.rules.jurisdiction import high_risk_jurisdiction
from lambdas.realtime_rules.rules.profiled import amount_outlier, new_high_risk_country
from lambdas.realtime_rules.rules.splitting import structuring_non_cash
from lambdas.realtime_rules.window import AccountState

# Rules that read only the transaction (and the account's profile, which the late record's own
# day decides on): they still run for records beyond the late-record horizon.
STATELESS: dict[str, Rule] = {"high_risk_jurisdiction": high_risk_jurisdiction, "amount_outlier": amount_outlier,
                              "new_high_risk_country": new_high_risk_country}
WINDOWED: dict[str, Rule] = {
    "large_cash": large_cash, "structuring": structuring, "structuring_non_cash": structuring_non_cash,
    "smurfing": smurfing,
    "rapid_movement": rapid_movement, "fan_in": fan_in, "fan_out": fan_out,
    "round_amounts": round_amounts, "velocity_spike": velocity_spike,
    "dormant_reactivation": dormant_reactivation,
}
ALL_RULES: dict[str, Rule] = {**STATELESS, **WINDOWED}
# Rules that raise nothing without the account's profile (aml_contract.profiles).
NEEDS_PROFILE = frozenset({"amount_outlier", "new_high_risk_country"})
# Windows that slide with the events (anchored on an event): their findings are grouped into episodes.
SLIDING = frozenset({"structuring", "structuring_non_cash", "smurfing", "rapid_movement", "fan_in", "fan_out", "round_amounts",
                     "dormant_reactivation"})


def evaluate(tx: Transaction, state: AccountState, params: RuleParameters, *,
             beyond_horizon: bool = False) -> list[AlertDraft]:
    """Every rule's drafts for `tx` (only the stateless ones for a record beyond the horizon), each
    sliding-window draft under its episode's anchor (recorded in `state` when new)."""
    rules = STATELESS if beyond_horizon else ALL_RULES
    return [_in_episode(draft, state) if draft.rule_id in SLIDING else draft
            for rule in rules.values() for draft in rule(tx, state, params)]


def _in_episode(draft: AlertDraft, state: AccountState) -> AlertDraft:
    times = [state.events[t].ts for t in draft.transaction_ids if t in state.events]
    first, last = (min(times), max(times)) if times else (draft.window_start, draft.window_end)
    anchor = state.episode_anchor(draft.rule_id, draft.anchor, first, last)
    return draft if anchor == draft.anchor else replace(draft, anchor=anchor)


__all__ = ["ALL_RULES", "NEEDS_PROFILE", "SLIDING", "STATELESS", "WINDOWED", "AlertDraft", "evaluate"]
