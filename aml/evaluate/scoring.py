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
  (a share of all accounts) only the top of a ranking is kept: accounts by number of scenarios hit
  (a batch query and the Lambda rule of the same scenario count once), then by detectors hit, then
  by account id (deterministic). `ties_left_out` says how many accounts scored the same as the last
  one kept but fell past the cut.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

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


def ranking(detectors: list[Detector]) -> list[tuple[str, int, int]]:
    """(account, scenarios hit, detectors hit), highest first, ties by account id."""
    scenarios: dict[str, set[str]] = defaultdict(set)
    hits: dict[str, int] = defaultdict(int)
    for d in detectors:
        for account in d.accounts:
            scenarios[account].add(d.scenario)
            hits[account] += 1
    return sorted(((a, len(s), hits[a]) for a, s in scenarios.items()), key=lambda r: (-r[1], -r[2], r[0]))


def at_budget(detectors: list[Detector], universe_size: int, budget: float) -> tuple[set[str], dict]:
    """The accounts a budget (share of all accounts) keeps from the union, and how the cut fell."""
    ranked = ranking(detectors)
    limit = math.floor(budget * universe_size + 1e-9)
    kept = ranked[:limit]
    info = {"budget_accounts": limit, "kept": len(kept), "candidates": len(ranked)}
    if kept and len(ranked) > len(kept):
        last = kept[-1][1:]
        info["cut_at_scenarios_hit"] = last[0]
        info["ties_left_out"] = sum(1 for r in ranked[len(kept):] if r[1:] == last)
    return {r[0] for r in kept}, info


def evaluate(detectors: list[Detector], labels: pd.DataFrame, universe: set[str], budget: float) -> dict:
    """Every figure of evaluation.json's `detection` section."""
    labels = labels[labels["account_id"].isin(universe)]
    positives = set(labels["account_id"])
    by_typology = {t: set(g["account_id"]) for t, g in labels.groupby("typology")}
    n = len(universe)
    detectors = [Detector(d.name, d.family, d.scenario, frozenset(d.accounts & universe)) for d in detectors]

    out: dict = {"accounts": n, "laundering_accounts": len(positives), "prevalence": _ratio(len(positives), n),
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
        kept, cut = at_budget(members, n, budget)
        out["unions"][name] = {
            "detectors": [d.name for d in members],
            "all": {**metrics(union, positives, n), "per_typology": per_typology(union, by_typology)},
            "at_budget": {**metrics(kept, positives, n), **cut, "per_typology": per_typology(kept, by_typology)},
        }
    return out
