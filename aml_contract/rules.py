"""Typed loader for rule_parameters.json: the one set of thresholds and windows read by the
real-time rules engine, the Athena named queries and the generator. Country lists and FX rates
are dated reference data (aml_contract.reference), not rule parameters."""
from __future__ import annotations

import json
import math
import pkgutil
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from aml_contract.profiles import ProfileParameters, parse_parameters

PARAMETERS_FILE = Path(__file__).with_name("rule_parameters.json")
SEVERITIES = ("low", "medium", "high")


@lru_cache(maxsize=1024)
def _fraction(text: str) -> Fraction:
    """Parsed once per text (Fraction's string parsing is slow, and the rules Lambda asks for the
    same few thresholds for every transaction); a Fraction is immutable, so it is shared."""
    return Fraction(text)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    rule_version: int
    severity: str
    score: int
    description: str
    params: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            raise KeyError(f"rule {self.rule_id} has no parameter {name!r}") from None

    def exact(self, name: str) -> Fraction:
        """A numeric parameter as the exact decimal the file writes (0.8 is 4/5, not the nearest
        double), which is also how Trino and DuckDB read its rendered SQL literal (DECIMAL): every
        threshold comparison uses it, so no engine's rounding decides a boundary."""
        found = self._exact.get(name)
        if found is None:
            value = self[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"rule {self.rule_id} parameter {name!r} is not a number")
            found = self._exact[name] = _fraction(repr(value))
        return found

    def least_cents(self, name: str) -> int:
        """The least whole number of cents at or above the USD parameter `name`, exactly: whole cents
        c reach the parameter (c >= 100 x exact(name)) exactly when c >= least_cents(name), and stay
        below it exactly when c < least_cents(name). An integer comparison for every event a rule
        reads, where a Fraction one costs about a microsecond each."""
        found = self._least_cents.get(name)
        if found is None:
            found = self._least_cents[name] = math.ceil(self.exact(name) * 100)
        return found

    # Derived once per Rule (the rules Lambda asks for them for every transaction and side). A Rule
    # is frozen and its parameters are never changed in place; cached_property writes the
    # instance's __dict__, which a frozen dataclass allows, and is not a field (no effect on ==).
    @cached_property
    def _exact(self) -> dict[str, Fraction]:
        return {}

    @cached_property
    def _least_cents(self) -> dict[str, int]:
        return {}

    @cached_property
    def _count_windows(self) -> tuple[CountWindow, ...]:
        return tuple(sorted((CountWindow(**w) for w in self["windows"]), key=lambda w: w.window_hours))

    def count_windows(self, realtime_only: bool = False) -> tuple[CountWindow, ...]:
        """The rule's `windows` (fan_in, fan_out), shortest first; `realtime_only` keeps those the
        rules Lambda evaluates (the others need more history than its state holds)."""
        found = self._count_windows
        return tuple(w for w in found if w.realtime) if realtime_only else found

    def percentile(self, name: str) -> int | None:
        """The segment percentile that may lower the absolute floor `name`, if the rule sets one
        (aml_contract.segments)."""
        return self.params.get(name + PERCENTILE_SUFFIX)


@dataclass(frozen=True)
class CountWindow:
    """One window of a counterparty-count rule (fan_in, fan_out): at least `min_counterparties`
    distinct counterparties within `window_hours` of event time. `floored`: only counterparties
    with a payment of at least the rule's `min_payment` (lowered by `min_payment_percentile` to the
    segment's percentile where lower) count; otherwise any payment counts. `realtime`: the rules
    Lambda evaluates it too (its state holds the window); the batch query evaluates every window."""

    window_hours: int
    min_counterparties: int
    floored: bool
    realtime: bool

    def __post_init__(self) -> None:
        for name in ("window_hours", "min_counterparties"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"window {name} must be a positive integer, got {value!r}")
        for name in ("floored", "realtime"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"window {name} must be true or false")


@dataclass(frozen=True)
class RiskScore:
    """How scenario hits combine into one score per account, and how many accounts reach the queue
    (aml_contract.risk applies it)."""

    severity_multipliers: dict[str, int]
    alert_budget: Fraction  # share of the period's active accounts that reach the queue, in (0, 1]


@dataclass(frozen=True)
class Segments:
    """Amount floors relative to the bank (aml_contract.segments applies them)."""

    statistics_days: int  # the trailing days of curated transactions the percentiles describe
    min_transactions: int  # fewer amounts in a segment: it takes the whole bank's percentiles
    percentiles: tuple[int, ...]  # the levels published; a rule's <name>_percentile is one of them


@dataclass(frozen=True)
class RuleParameters:
    version: str
    base_currency: str
    out_of_order_tolerance_hours: int
    rules: dict[str, Rule]
    risk_score: RiskScore
    segments: Segments
    profiles: ProfileParameters  # aml_contract.profiles

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


PERCENTILE_SUFFIX = "_percentile"


def _risk_score(raw: dict[str, Any]) -> RiskScore:
    multipliers = raw["severity_multipliers"]
    if sorted(multipliers) != sorted(SEVERITIES) or any(
            isinstance(m, bool) or not isinstance(m, int) or m < 0 for m in multipliers.values()):
        raise ValueError(f"risk_score.severity_multipliers: a non-negative integer for each of {SEVERITIES}")
    budget = raw["alert_budget"]
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 1:
        raise ValueError(f"risk_score.alert_budget must be a share in (0, 1], got {budget!r}")
    return RiskScore(dict(multipliers), Fraction(repr(budget)))


def _segments(raw: dict[str, Any]) -> Segments:
    levels = tuple(raw["percentiles"])
    if not levels or any(isinstance(p, bool) or not isinstance(p, int) or not 0 < p <= 100 for p in levels):
        raise ValueError("segments.percentiles: integers in (0, 100]")
    return Segments(int(raw["statistics_days"]), int(raw["min_transactions"]), tuple(sorted(set(levels))))


def parse(raw: dict[str, Any]) -> RuleParameters:
    segments = _segments(raw["segments"])
    rules = {}
    for rule_id, body in raw["rules"].items():
        body = dict(body)
        meta = {k: body.pop(k) for k in ("rule_version", "severity", "score", "description")}
        if meta["severity"] not in SEVERITIES:
            raise ValueError(f"rule {rule_id}: severity must be one of {SEVERITIES}")
        for name, level in body.items():
            if name.endswith(PERCENTILE_SUFFIX):
                floor = name.removesuffix(PERCENTILE_SUFFIX)
                if floor not in body or level not in segments.percentiles:
                    raise ValueError(f"rule {rule_id}: {name} needs an absolute {floor} beside it and one of the "
                                     f"published segments.percentiles {segments.percentiles}, got {level!r}")
        rule = Rule(rule_id, int(meta["rule_version"]), meta["severity"], int(meta["score"]),
                    meta["description"], body)
        if "windows" in body:
            try:
                windows = rule.count_windows()
            except (TypeError, ValueError) as err:
                raise ValueError(f"rule {rule_id}: windows: {err}") from None
            if any(w.floored for w in windows) and "min_payment" not in body:
                raise ValueError(f"rule {rule_id}: a floored window needs min_payment")
        rules[rule_id] = Rule(rule_id, int(meta["rule_version"]), meta["severity"], int(meta["score"]),
                              meta["description"], body)
    return RuleParameters(raw["version"], raw["base_currency"], int(raw["out_of_order_tolerance_hours"]),
                          rules, _risk_score(raw["risk_score"]), segments, parse_parameters(raw["profiles"]))


@lru_cache(maxsize=1)
def load(path: str | None = None) -> RuleParameters:
    """The parameters from `path`, else the file shipped beside this module, read as package data
    (pkgutil): that also works from the zip Glue imports aml_contract from (--extra-py-files),
    where a path read does not."""
    if path is not None:
        return parse(json.loads(Path(path).read_text()))
    return parse(json.loads(pkgutil.get_data(__package__, PARAMETERS_FILE.name)))
