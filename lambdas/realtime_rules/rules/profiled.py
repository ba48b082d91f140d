"""Rules only a profile makes possible (aml_contract.profiles): they compare a transaction with the
account's history as the daily pipeline computed it, which no window of the stream holds. Without
a profile that serves the transaction (Profile.serves) they raise nothing: the absence of history
proves nothing."""
from __future__ import annotations

from fractions import Fraction

from aml_contract import schema
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


def amount_outlier(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """A transaction (either direction) of known USD amount that reaches the `min_amount` floor of
    its account side's segment, exceeds the largest amount of the profile's baseline, and reaches
    the profile's mean plus `stddev_multiplier` population standard deviations, the profile
    holding at least `min_history` amounts. Compared in exact fractions (the stored doubles taken
    as their exact binary values): no rounding decides a boundary."""
    rule = params.rule("amount_outlier")
    profile = state.profile_for(tx.ts, params)
    if tx.amount_base is None or profile is None or profile.amount_count < rule["min_history"] \
            or profile.amount_mean_usd is None or profile.amount_max_cents is None:
        return []
    amount = cents(tx.amount_base)
    if amount <= profile.amount_max_cents:  # the cheap test first: most amounts are within the baseline
        return []
    side = direction(tx, state)
    floor = amount_floor(tx, rule, "min_amount", [side_country(side, tx.originator_country, tx.beneficiary_country)])
    bound = (Fraction(profile.amount_mean_usd) + rule.exact("stddev_multiplier")
             * Fraction(profile.amount_stddev_usd or 0)) * 100
    if not floor.reached_by(amount) or amount < bound:
        return []
    return [AlertDraft(
        "amount_outlier", state.account_id, tx.transaction_id, (tx.transaction_id,), tx.ts, tx.ts, tx.ts,
        {"amount_usd": amount / 100, "direction": side, "profile_as_of": profile.as_of.isoformat(),
         "profile_mean_usd": profile.amount_mean_usd, "profile_stddev_usd": profile.amount_stddev_usd,
         "profile_max_usd": profile.amount_max_cents / 100, "profile_amounts": profile.amount_count,
         "stddev_multiplier": rule["stddev_multiplier"], **floor.details()})]


def new_high_risk_country(tx: Transaction, state: AccountState, params: RuleParameters) -> list[AlertDraft]:
    """A counterparty country on a FATF list in force on the booking day (call for action or grey
    list: ReferenceData.fatf_lists) that the account's profile never saw among its counterparty
    countries, the profile covering at least `min_history_days`, for a non-cash transaction (cash has
    no counterparty country, and the profile keeps none for it) of known USD amount from the
    `min_amount` floor of the account side's segment. The profile keeps at most max_countries
    countries: an account that used as many proves nothing and raises nothing.

    Anchored on the country: one alert per account and country while the alert is kept, however
    many payments follow before the next profile knows the country."""
    rule = params.rule("new_high_risk_country")
    side = direction(tx, state)
    if schema.CASH_ACCOUNT_ID in (tx.originator_account_id, tx.beneficiary_account_id):
        return []  # cash has no counterparty country (the profile keeps none for it either)
    country = counterparty_country(tx, side)
    profile = state.profile_for(tx.ts, params)
    if country is None or tx.amount_base is None or profile is None \
            or profile.covered_days < rule["min_history_days"] or country in profile.counterparty_countries \
            or len(profile.counterparty_countries) >= params.profiles.max_countries:
        return []
    lists, listed = fatf_listing(tx, country)
    if listed is None:
        return []
    floor = amount_floor(tx, rule, "min_amount", [side_country(side, tx.originator_country, tx.beneficiary_country)])
    if not floor.reached_by(cents(tx.amount_base)):
        return []
    return [AlertDraft(
        "new_high_risk_country", state.account_id, country, (tx.transaction_id,), tx.ts, tx.ts, tx.ts,
        {"counterparty_country": country, "list": listed, "list_effective": lists.effective.isoformat(),
         "direction": side, "amount_usd": float(tx.amount_base), "profile_as_of": profile.as_of.isoformat(),
         "profile_countries": list(profile.counterparty_countries), "profile_days": profile.covered_days,
         **floor.details()})]
