"""High-risk jurisdiction: the counterparty's country is on a FATF list of the publication in force
on the transaction's UTC booking date (ReferenceData.fatf_lists; before our oldest publication the
oldest applies, and the alert says so: `list_back_extended`). The grey list's amount floor is that
of the account whose rule it is: the segment of its own side of the transaction (base.amount_floor)."""
from __future__ import annotations

from aml_contract.rules import RuleParameters
from aml_contract.segments import side_country
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.rules.base import (
    AlertDraft,
    amount_floor,
    counterparty_country,
    direction,
    fatf_listing,
)
from lambdas.realtime_rules.window import AccountState, cents


def high_risk_jurisdiction(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """Call-for-action countries at any amount (an unknown one too); grey-list countries from a
    lower threshold, so only when the USD amount is known."""
    rule = params.rule("high_risk_jurisdiction")
    side = direction(tx, state)
    country = counterparty_country(tx, side)
    lists, listed = fatf_listing(tx, country)
    if listed is None:
        return []
    floor = amount_floor(tx, rule, "grey_list_min_amount",
                         [side_country(side, tx.originator_country, tx.beneficiary_country)])
    below = tx.amount_base is None or not floor.reached_by(cents(tx.amount_base))
    if listed == "grey_list" and below:
        return []
    return [AlertDraft(
        "high_risk_jurisdiction", state.account_id, tx.transaction_id, (tx.transaction_id,), tx.ts, tx.ts, tx.ts,
        {"counterparty_country": country, "list": listed, "list_effective": lists.effective.isoformat(),
         "list_back_extended": lists.back_extended,
         "amount_usd": None if tx.amount_base is None else float(tx.amount_base), **floor.details()})]
