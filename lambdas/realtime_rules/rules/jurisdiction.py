"""High-risk jurisdiction: the counterparty's country is on a FATF list in force on the event date."""
from __future__ import annotations

from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import AlertDraft, direction
from lambdas.realtime_rules.window import AccountState, cents


def high_risk_jurisdiction(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Call-for-action countries at any amount; grey-list countries from a lower threshold."""
    rule = params.rule("high_risk_jurisdiction")
    country = tx.beneficiary_country if direction(tx, state) == "out" else tx.originator_country
    if country is None:
        return []
    lists = params.fatf_lists(on=tx.booked_at.date())
    if country in lists.call_for_action:
        listed = "call_for_action"
    elif country in lists.grey_list and cents(tx.amount_base) >= rule.exact("grey_list_min_amount") * 100:
        listed = "grey_list"
    else:
        return []
    return [AlertDraft(
        "high_risk_jurisdiction", state.account_id, tx.transaction_id, (tx.transaction_id,), tx.ts, tx.ts, tx.ts,
        {"counterparty_country": country, "list": listed, "list_effective": lists.effective.isoformat(),
         "amount_usd": float(tx.amount_base), "grey_list_min_amount_usd": rule["grey_list_min_amount"]})]
