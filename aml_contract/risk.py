"""One risk score per account and one alert budget: how scenario hits become an ordered queue.

**Score.** Each scenario carries a weight: its ``score`` times its severity's multiplier
(``risk_score.severity_multipliers`` in rule_parameters.json), as Tazama weighs each rule outcome
within a typology. An account's risk score over a period is the sum of the weights of the
*distinct* scenarios it hit: a second structuring episode does not outweigh a different kind of
evidence, and a batch query and the rules Lambda raising the same scenario count once. Integers,
so every engine adds them exactly.

**Order.** Risk score, then the number of alerts, then the account (deterministic), highest first.
``customer_risk_summary.sql`` orders the same way; the report and ``aml evaluate`` rank with
``rank``.

**Budget.** ``risk_score.alert_budget`` is the share of the period's active accounts (ours, with
at least one booked transaction) that reach the queue: ``floor(budget x active)`` accounts, cut in
the order above (so ties at the cut are broken by alert count, then account, never by chance).

Standard library only.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from aml_contract.rules import RuleParameters


def weight(rule_id: str, params: RuleParameters) -> int:
    rule = params.rule(rule_id)
    return rule.score * params.risk_score.severity_multipliers[rule.severity]


def weights(params: RuleParameters) -> dict[str, int]:
    """scenario (rule id) -> weight, for every rule."""
    return {rule_id: weight(rule_id, params) for rule_id in sorted(params.rules)}


def account_score(scenarios: Iterable[str], params: RuleParameters) -> int:
    return sum(weight(s, params) for s in set(scenarios))


@dataclass(frozen=True)
class Ranked:
    account: str
    risk_score: int
    scenarios: tuple[str, ...]  # sorted
    alerts: int


def rank(hits: Mapping[str, Iterable[str]], params: RuleParameters | None = None, *,
         alerts: Mapping[str, int] | None = None, weigh: Callable[[str], int] | None = None) -> list[Ranked]:
    """Accounts (account -> scenarios hit) in queue order. `alerts` counts each account's alerts
    (default: its scenarios); `weigh` replaces the rule weights (e.g. 1 per naive baseline query)."""
    if weigh is None:
        if params is None:
            raise ValueError("rank needs the rule parameters or a weigh function")
        table = weights(params)
        weigh = table.__getitem__
    ranked = []
    for account, scenarios in hits.items():
        distinct = tuple(sorted(set(scenarios)))
        ranked.append(Ranked(account, sum(weigh(s) for s in distinct), distinct,
                             (alerts or {}).get(account, len(distinct))))
    return sorted(ranked, key=lambda r: (-r.risk_score, -r.alerts, r.account))


def queue_size(active_accounts: int, budget: Fraction | float) -> int:
    """How many accounts the budget lets into the queue: floor(budget x active), exactly (0.01 is
    1/100, as the SQL literal reads)."""
    share = budget if isinstance(budget, Fraction) else Fraction(repr(budget))
    if not 0 < share <= 1:
        raise ValueError(f"an alert budget is a share in (0, 1], got {budget}")
    return math.floor(share * active_accounts)


def queue(ranked: list[Ranked], active_accounts: int, budget: Fraction | float) -> list[Ranked]:
    """The ranked accounts the budget keeps."""
    return ranked[:queue_size(active_accounts, budget)]
