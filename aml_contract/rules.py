"""Typed loader for rule_parameters.json: the one set of thresholds and windows read by the
real-time rules engine, the Athena named queries and the generator. Country lists and FX rates
are dated reference data (aml_contract.reference), not rule parameters."""
from __future__ import annotations

import json
from dataclasses import dataclass
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
class RuleParameters:
    version: str
    base_currency: str
    out_of_order_tolerance_hours: int
    rules: dict[str, Rule]

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


def parse(raw: dict[str, Any]) -> RuleParameters:
    rules = {}
    for rule_id, body in raw["rules"].items():
        body = dict(body)
        meta = {k: body.pop(k) for k in ("rule_version", "severity", "score", "description")}
        if meta["severity"] not in SEVERITIES:
            raise ValueError(f"rule {rule_id}: severity must be one of {SEVERITIES}")
        rules[rule_id] = Rule(rule_id, int(meta["rule_version"]), meta["severity"], int(meta["score"]),
                              meta["description"], body)
    return RuleParameters(raw["version"], raw["base_currency"], int(raw["out_of_order_tolerance_hours"]),
                          rules)


@lru_cache(maxsize=1)
def load(path: str | None = None) -> RuleParameters:
    return parse(json.loads(Path(path or PARAMETERS_FILE).read_text()))
