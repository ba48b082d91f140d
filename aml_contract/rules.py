"""Typed loader for rule_parameters.json: the one set of thresholds, windows and country lists
read by the real-time rules engine, the Athena named queries and the generator."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMETERS_FILE = Path(__file__).with_name("rule_parameters.json")
SEVERITIES = ("low", "medium", "high")


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
        value = self[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"rule {self.rule_id} parameter {name!r} is not a number")
        return Fraction(repr(value))


@dataclass(frozen=True)
class FatfLists:
    effective: date
    source: str
    call_for_action: frozenset[str]
    grey_list: frozenset[str]


@dataclass(frozen=True)
class RuleParameters:
    version: str
    base_currency: str
    out_of_order_tolerance_hours: int
    rules: dict[str, Rule]
    fatf_history: tuple[FatfLists, ...]  # oldest first

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def fatf_lists(self, on: date | None = None) -> FatfLists:
        """The lists in force on a date (the latest by default)."""
        if on is None:
            return self.fatf_history[-1]
        in_force = [f for f in self.fatf_history if f.effective <= on]
        return in_force[-1] if in_force else self.fatf_history[0]


def parse(raw: dict[str, Any]) -> RuleParameters:
    rules = {}
    for rule_id, body in raw["rules"].items():
        body = dict(body)
        meta = {k: body.pop(k) for k in ("rule_version", "severity", "score", "description")}
        if meta["severity"] not in SEVERITIES:
            raise ValueError(f"rule {rule_id}: severity must be one of {SEVERITIES}")
        rules[rule_id] = Rule(rule_id, int(meta["rule_version"]), meta["severity"], int(meta["score"]),
                              meta["description"], body)
    history = tuple(sorted(
        (FatfLists(date.fromisoformat(f["effective"]), f["source"], frozenset(f["call_for_action"]),
                   frozenset(f["grey_list"])) for f in raw["fatf_lists"]),
        key=lambda f: f.effective))
    if not history:
        raise ValueError("rule parameters need at least one dated FATF list")
    return RuleParameters(raw["version"], raw["base_currency"], int(raw["out_of_order_tolerance_hours"]),
                          rules, history)


@lru_cache(maxsize=1)
def load(path: str | None = None) -> RuleParameters:
    return parse(json.loads(Path(path or PARAMETERS_FILE).read_text()))
