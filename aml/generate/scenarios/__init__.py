"""Injected typologies: one module per family, one function per rule id of rule_parameters.json.

Every injector reads its thresholds and windows from `aml_contract.rules.load()` (so a changed
threshold changes the injection), makes each laundering instance satisfy its rule with a margin,
and adds near-miss look-alikes that fail the rule by a clear margin. A typology the bank is too
short for is skipped with a logged warning and recorded in `LabelBook.skipped`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aml.errors import AmlError
from aml.generate.background import Background
from aml.generate.config import BankConfig
from aml.generate.labels import LabelBook
from aml.generate.ledger import Ledger
from aml.generate.parties import Directory
from aml.generate.timebase import DAY, HOUR, Timebase
from aml_contract.rules import RuleParameters

log = logging.getLogger(__name__)


@dataclass
class Context:
    config: BankConfig
    time: Timebase
    rules: RuleParameters
    rng: np.random.Generator
    ledger: Ledger
    directory: Directory
    labels: LabelBook
    background: Background
    reserved: list[int]  # reserved individual customers, claimed in order
    reserved_business: list[int]

    def params(self, rule_id: str):
        return self.rules.rule(rule_id)

    def claim(self, n: int, at: int, business: bool = False) -> np.ndarray:
        """n fresh accounts of reserved customers, onboarded a few days to weeks before `at`."""
        pool = self.reserved_business if business else self.reserved
        if len(pool) < n:
            raise AmlError("not enough reserved customers for the injected scenarios",
                           "raise --customers or lower --rate")
        codes = np.array([pool.pop(0) for _ in range(n)], dtype=np.int64)
        cust, d = self.directory.customers, self.directory
        onboarded = at - self.rng.integers(5, 40, n) * DAY - self.rng.integers(0, DAY, n)
        cust.onboarded_at[codes] = onboarded
        cust.updated_at[codes] = onboarded
        d.opened_at[codes] = onboarded + self.rng.integers(0, 3, n) * HOUR
        d.updated_at[codes] = d.opened_at[codes]
        return codes

    def place(self, span: float) -> int | None:
        """A start time (a morning) such that [start, start + span] fits in the bank's period."""
        max_day = (self.time.end - span - 11 * HOUR - self.time.start) // DAY
        if max_day < 0:
            return None
        return int(self.time.day(int(self.rng.integers(0, int(max_day) + 1))) + 9 * HOUR
                   + self.rng.integers(0, 2 * HOUR))

    def skip(self, typology: str, reason: str) -> None:
        log.warning("typology %s not injected: %s", typology, reason)
        self.labels.skipped[typology] = reason

    def cents(self, values) -> np.ndarray:
        """Amounts to the cent, never a whole unit (background-like, never a round amount)."""
        out = np.round(np.asarray(values, dtype=np.float64), 2)
        return np.where(np.isclose(out % 1, 0), out + 0.37, out)


Injector = Callable[[Context, int, int], None]


def injectors() -> dict[str, Injector]:
    """rule id -> injector(ctx, laundering instances, near-miss instances)."""
    from aml.generate.scenarios import behaviour, cash, flows, groups, patterns, profiled, splitting

    return {
        "large_cash": cash.large_cash,
        "structuring": cash.structuring,
        "smurfing": cash.smurfing,
        "structuring_non_cash": splitting.structuring_non_cash,
        "fan_in_layered": groups.fan_in_layered,
        "fan_out_layered": groups.fan_out_layered,
        "scatter_gather": groups.scatter_gather,
        "gather_scatter": groups.gather_scatter,
        "bipartite": groups.bipartite,
        "rapid_movement": flows.rapid_movement,
        "fan_in": flows.fan_in,
        "fan_out": flows.fan_out,
        "round_amounts": patterns.round_amounts,
        "cycles": flows.cycles,
        "dormant_reactivation": behaviour.dormant_reactivation,
        "high_risk_jurisdiction": patterns.high_risk_jurisdiction,
        "velocity_spike": behaviour.velocity_spike,
        # last: they read the ledger the others have written (an account's history)
        "amount_outlier": profiled.amount_outlier,
        "new_high_risk_country": profiled.new_high_risk_country,
    }


def reserved_needs(rules: RuleParameters, instances: int, near: int) -> tuple[int, int]:
    """(individual, business) customers to reserve: an upper bound of the accounts the injectors
    claim, from each rule's counts (one account per instance unless said otherwise)."""
    n, m = instances, near
    individual = {rule_id: n + m for rule_id in rules.rules}
    business = 0
    individual["velocity_spike"] = 0  # background subjects
    individual["new_high_risk_country"] = 0
    individual["amount_outlier"] = m  # background subjects; a new customer per near miss
    individual["high_risk_jurisdiction"] = max(n, 2) + m
    individual["dormant_reactivation"] = n + 2 * m  # one untouched dormant account per near miss
    for rule_id in ("fan_in", "fan_out"):
        if rule_id in rules.rules:
            windows = len(rules.rule(rule_id).count_windows())
            individual[rule_id] = max(n, windows) + max(m, windows)
    if "cycles" in rules.rules:
        cycles = rules.rule("cycles")
        hop_counts = range(cycles["min_hops"], cycles["max_hops"] + 1)
        individual["cycles"] = sum(hop_counts[k % len(hop_counts)] for k in range(max(n, len(hop_counts)))) \
            + m * (max(3, cycles["min_hops"]) + 1)
    for rule_id in ("fan_in_layered", "fan_out_layered"):
        if rule_id in rules.rules:  # the subject and up to min_intermediaries + 1 intermediaries
            individual[rule_id] = (n + m) * (rules.rule(rule_id)["min_intermediaries"] + 2)
    if "scatter_gather" in rules.rules:
        individual["scatter_gather"] = 2 * (n + m)
    if "gather_scatter" in rules.rules:  # business hubs
        individual["gather_scatter"], business = 0, n + m
    if "bipartite" in rules.rules:  # up to one more than the minimum a side; beneficiaries ours at most every other time
        b = rules.rule("bipartite")
        side = max(b["min_originators"], b["min_beneficiaries"]) + 1
        individual["bipartite"] = (n + m) * side + ((n + 1) // 2 + (m + 1) // 2) * side
    return sum(individual.values()), business + 1
