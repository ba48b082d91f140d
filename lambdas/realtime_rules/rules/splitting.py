"""Below-threshold splitting: several payments each just below a reporting or recordkeeping
threshold within a short window, summing above it. Cash deposits under the $10,000 CTR
(structuring, 31 CFR 1010.311; cash.py) and non-cash payments sent under the $3,000
funds-transfer recordkeeping threshold (structuring_non_cash, 31 CFR 1010.410(e)-(f); FinCEN
and FATF red flag "transactions structured to stay below a threshold") share the definition."""
from __future__ import annotations

from collections.abc import Callable

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, seconds, usd, windows_containing
from lambdas.realtime_rules.window import AccountState, Event


def split_below_threshold(rule_id: str, kind: Callable[[Event], bool], tx: Transaction, state: AccountState,
                          params: RuleParameters) -> list[AlertDraft]:
    """The earliest-ending window of `window_days` containing `tx` with at least `min_count`
    payments of `kind`, each in [min_amount, max_amount) USD, summing above `min_total`; anchored
    on its first payment (a sliding rule: rules/__init__). Only a payment that is itself in the
    band looks: the window is found when its last payment arrives."""
    rule = params.rule(rule_id)
    low, high = rule.least_cents("min_amount"), rule.least_cents("max_amount")  # [min, max) in whole cents

    def qualifies(e: Event) -> bool:
        return kind(e) and e.cents is not None and low <= e.cents < high

    mine = state.events.get(tx.transaction_id)
    if mine is None or not qualifies(mine):
        return []
    payments = [e for e in state.sorted_events() if qualifies(e)]
    for start, end, window in windows_containing(tx.ts, payments, seconds(rule)):
        total = sum(e.cents for e in window)
        if len(window) >= rule["min_count"] and total > rule.exact("min_total") * 100:
            return [AlertDraft(
                rule_id, state.account_id, window[0].transaction_id,
                tuple(e.transaction_id for e in window), tx.ts, start, end,
                {"count": len(window), "total_usd": usd(total),
                 "band_usd": [rule["min_amount"], rule["max_amount"]], "min_total_usd": rule["min_total"]})]
    return []


def structuring_non_cash(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Payments SENT by the account, of the rule's `transaction_types` (transfers, not cash: the
    CTR covers currency, the recordkeeping rule funds transfers), each just below the threshold."""
    types = frozenset(params.rule("structuring_non_cash")["transaction_types"])

    def sent(e: Event) -> bool:
        return e.direction == "out" and e.transaction_type in types
    return split_below_threshold("structuring_non_cash", sent, tx, state, params)
