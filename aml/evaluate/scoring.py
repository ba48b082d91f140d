"""Account-level scoring of detectors against labels (pure: sets in, numbers out).

- A detector flags a set of our accounts. Its recall is the share of laundering accounts it
  flags, its precision the share of its flagged accounts that are laundering accounts, and its
  share flagged the share of all our accounts it flags.
- Per typology t: recall_t = flagged laundering accounts of t / laundering accounts of t;
  precision_t = flagged laundering accounts of t / flagged accounts (so the precisions of the
  typologies add up to the detector's precision when every laundering account has one typology).
- Families: `batch` (scenario queries), `stream` (the rules Lambda's alerts), `baseline` (the naive
  queries) count as detection; `listing` queries (high-value transactions, PEP activity, the risk
  summary) are scored for information only and never enter a union.
- The union of a family group flags every account any of its detectors flags. At an alert budget
  only the top of the risk ranking is kept (aml_contract.risk, the one ranking the queue, the
  report and customer_risk_summary use): the first floor(budget x active accounts) accounts by
  risk score (the weights of the distinct scenarios hit: a batch query and the Lambda rule of the
  same scenario count once), then detectors hit (the alerts an analyst would see), then account
  id. Active accounts: ours with a booked transaction in the window. The naive baseline's queries
  weigh 1 each. `ties_left_out` says how many accounts scored the same as the last one kept but
  fell past the cut.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from aml_contract import risk
from aml_contract.rules import RuleParameters

COUNTED = ("batch", "stream")
FAMILIES = ("batch", "stream", "listing", "baseline")


@dataclass(frozen=True)
class Detector:
    name: str
    family: str  # one of FAMILIES
    scenario: str  # what a union counts once (batch `structuring` and stream `structuring` share it)
    accounts: frozenset[str]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def metrics(flagged: set[str], positives: set[str], universe_size: int) -> dict:
    tp = len(flagged & positives)
    return {"flagged": len(flagged), "share_flagged": _ratio(len(flagged), universe_size), "true_positives": tp,
            "recall": _ratio(tp, len(positives)), "precision": _ratio(tp, len(flagged))}


def per_typology(flagged: set[str], by_typology: dict[str, set[str]]) -> dict[str, dict]:
    return {t: {"accounts": len(members), "detected": len(flagged & members),
                "recall": _ratio(len(flagged & members), len(members)),
                "precision": _ratio(len(flagged & members), len(flagged))}
            for t, members in sorted(by_typology.items())}


def weigher(family: str, params: RuleParameters) -> Callable[[str], int]:
    """A scenario's weight: the rule's (score x severity multiplier); a naive baseline query 1."""
    if family == "baseline":
        return lambda _scenario: 1
    return risk.weights(params).__getitem__  # every scenario query and Lambda rule is a rule


def ranking(detectors: list[Detector], weigh: Callable[[str], int]) -> list[risk.Ranked]:
    """Every flagged account in queue order (aml_contract.risk.rank); `alerts` is detectors hit."""
    scenarios: dict[str, set[str]] = defaultdict(set)
    hits: dict[str, int] = defaultdict(int)
    for d in detectors:
        for account in d.accounts:
            scenarios[account].add(d.scenario)
            hits[account] += 1
    return risk.rank(scenarios, alerts=hits, weigh=weigh)


def at_budget(detectors: list[Detector], active_accounts: int, budget: float,
              weigh: Callable[[str], int]) -> tuple[set[str], dict]:
    """The accounts the budget (share of active accounts) keeps from the union, and how the cut fell."""
    ranked = ranking(detectors, weigh)
    limit = risk.queue_size(active_accounts, budget)
    kept = ranked[:limit]
    info = {"budget_accounts": limit, "kept": len(kept), "candidates": len(ranked)}
    if kept and len(ranked) > len(kept):
        last = (kept[-1].risk_score, kept[-1].alerts)
        info["cut_at_risk_score"] = last[0]
        info["ties_left_out"] = sum(1 for r in ranked[len(kept):] if (r.risk_score, r.alerts) == last)
    return {r.account for r in kept}, info


def evaluate(detectors: list[Detector], labels: pd.DataFrame, universe: set[str], budget: float,
             params: RuleParameters, active_accounts: int | None = None) -> dict:
    """Every figure of evaluation.json's `detection` section. `active_accounts` (default: every
    account of the universe) is what the budget is a share of."""
    labels = labels[labels["account_id"].isin(universe)]
    positives = set(labels["account_id"])
    by_typology = {t: set(g["account_id"]) for t, g in labels.groupby("typology")}
    n = len(universe)
    detectors = [Detector(d.name, d.family, d.scenario, frozenset(d.accounts & universe)) for d in detectors]

    active = n if active_accounts is None else active_accounts
    out: dict = {"accounts": n, "active_accounts": active, "laundering_accounts": len(positives), "prevalence": _ratio(len(positives), n),
                 "typologies": {t: len(m) for t, m in sorted(by_typology.items())}, "budget": budget,
                 "detectors": {}, "unions": {}}
    for d in detectors:
        out["detectors"][d.name] = {"family": d.family, "scenario": d.scenario,
                                    "counted": d.family in COUNTED or d.family == "baseline",
                                    **metrics(set(d.accounts), positives, n),
                                    "per_typology": per_typology(set(d.accounts), by_typology)}
    groups = {"ours": [d for d in detectors if d.family in COUNTED],
              "ours_batch": [d for d in detectors if d.family == "batch"],
              "ours_stream": [d for d in detectors if d.family == "stream"],
              "baseline": [d for d in detectors if d.family == "baseline"]}
    for name, members in groups.items():
        union = set().union(*(d.accounts for d in members)) if members else set()
        kept, cut = at_budget(members, active, budget, weigher(name, params))
        out["unions"][name] = {
            "detectors": [d.name for d in members],
            "all": {**metrics(union, positives, n), "per_typology": per_typology(union, by_typology)},
            "at_budget": {**metrics(kept, positives, n), **cut, "per_typology": per_typology(kept, by_typology)},
        }
    return out
