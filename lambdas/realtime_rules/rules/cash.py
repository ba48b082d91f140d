"""Cash rules: large cash (CTR), structuring, smurfing."""
from __future__ import annotations

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, direction, iso, seconds, usd, windows_containing
from lambdas.realtime_rules.rules.splitting import split_below_threshold
from lambdas.realtime_rules.window import DAY, AccountState, Event

_CASH_SIDE = {"cash_deposit": "in", "cash_withdrawal": "out"}


def large_cash(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Cash in (or out) of one account above the threshold, aggregated per UTC day window."""
    state_side = direction(tx, state)
    if _CASH_SIDE.get(tx.transaction_type) != state_side:
        return []
    rule = params.rule("large_cash")
    length = rule["window_days"] * DAY
    start = tx.ts // length * length  # whole UTC days from midnight (the epoch starts at one)
    end = start + length
    same = [e for e in state.sorted_events()
            if start <= e.ts < end and e.direction == state_side and e.transaction_type == tx.transaction_type
            and e.cents is not None]
    total = sum(e.cents for e in same)
    if total <= rule.exact("threshold") * 100:
        return []
    return [AlertDraft(
        "large_cash", state.account_id, f"{iso(start)[:10]}:{tx.transaction_type}",
        tuple(e.transaction_id for e in same), tx.ts, start, end,
        {"transaction_type": tx.transaction_type, "total_usd": usd(total), "count": len(same),
         "threshold_usd": rule["threshold"], "window": f"UTC day {iso(start)[:10]}"})]


def structuring(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Several cash deposits each just below the threshold within the window, summing above it."""
    return split_below_threshold("structuring", _cash_deposit, tx, state, params)


def _cash_deposit(e: Event) -> bool:
    return e.transaction_type == "cash_deposit" and e.direction == "in"


def smurfing(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Distinct depositors each paying in cash below the threshold into one account."""
    rule = params.rule("smurfing")

    def qualifies(e) -> bool:
        return (e.transaction_type == "cash_deposit" and e.direction == "in" and e.cents is not None
                and e.cents < rule.least_cents("max_amount"))

    mine = state.events.get(tx.transaction_id)
    if mine is None or not qualifies(mine):
        return []
    deposits = [e for e in state.sorted_events() if qualifies(e)]
    for start, end, window in windows_containing(tx.ts, deposits, seconds(rule)):
        depositors = {e.counterparty for e in window}
        if len(depositors) >= rule["min_depositors"]:
            return [AlertDraft(
                "smurfing", state.account_id, window[0].transaction_id,
                tuple(e.transaction_id for e in window), tx.ts, start, end,
                {"distinct_depositors": len(depositors), "count": len(window),
                 "total_usd": usd(sum(e.cents for e in window)), "max_amount_usd": rule["max_amount"]})]
    return []
