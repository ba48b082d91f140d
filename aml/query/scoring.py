"""Scores the scenario queries against a generated bank's labels: recall of injected instances,
precision of flagged accounts, and whether near-miss look-alikes stay unflagged.

Labels are read here only, after the queries ran: detection never sees them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from aml.query import catalog
from aml.query.result import QueryResult
from aml.query.run import execute
from aml_contract.pseudonym import pseudonymise


@dataclass(frozen=True)
class Score:
    scenario: str
    window: str
    instances: int  # injected laundering instances inside the window
    detected: int  # of which at least one subject account was flagged
    near_misses: int
    near_misses_flagged: int
    flagged_accounts: int
    true_accounts: int  # flagged accounts that are subjects of any injected laundering instance
    rows: int

    @property
    def recall(self) -> float | None:
        return self.detected / self.instances if self.instances else None

    @property
    def precision(self) -> float | None:
        return self.true_accounts / self.flagged_accounts if self.flagged_accounts else None

    def as_dict(self) -> dict:
        return {**asdict(self), "recall": self.recall, "precision": self.precision}


def _day(value) -> date:
    return pd.Timestamp(value).tz_localize(None).date() if pd.Timestamp(value).tzinfo else pd.Timestamp(value).date()


def score(name: str, labels: pd.DataFrame, key: bytes, data_dir: str | Path, first: date, last: date,
          result: QueryResult | None = None) -> Score:
    """Score scenario `name` over [first, last] against the labels starting in it. `result`: the
    query's result over exactly that window when the caller ran it already (else it is run here)."""
    start = first
    if result is None:
        result = execute(name, {"start_date": start.isoformat(), "end_date": last.isoformat()}, data_dir=data_dir)
    flagged = set(result.frame["subject_account_pid"].dropna())

    def subjects(row) -> set[str]:
        return {pseudonymise(a, key) for a in row.subject_account_ids}

    inside = labels[labels["window_start"].map(_day) >= start]
    laundering = labels[labels["kind"] == "laundering"]
    all_subjects = set().union(*(subjects(r) for r in laundering.itertuples())) if len(laundering) else set()
    mine = inside[inside["typology"] == name]
    injected = [subjects(r) for r in mine[mine["kind"] == "laundering"].itertuples()]
    look_alikes = [subjects(r) - all_subjects for r in mine[mine["kind"] == "near_miss"].itertuples()]
    return Score(name, f"{start}..{last}", len(injected), sum(bool(s & flagged) for s in injected),
                 len(look_alikes), sum(bool(s & flagged) for s in look_alikes), len(flagged),
                 len(flagged & all_subjects), result.rows)


def score_all(labels: pd.DataFrame, key: bytes, data_dir: str | Path, first: date, last: date,
              results: Mapping[str, QueryResult] | None = None) -> list[Score]:
    """Every scenario with injected instances in the labels (the generator's typologies are rule ids).
    `results`: queries already run over [first, last], by name; each is then not run again."""
    typologies = set(labels["typology"])
    results = results or {}
    return [score(name, labels, key, data_dir, first, last, results.get(name))
            for name in catalog.queries() if name in typologies]


def table(scores: list[Score]) -> str:
    """Markdown table for the README."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.0%}"

    lines = ["| scenario | recall | precision | near-misses flagged | rows flagged |", "|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.scenario} | {pct(s.recall)} ({s.detected}/{s.instances}) | {pct(s.precision)} "
                     f"({s.true_accounts}/{s.flagged_accounts}) | {s.near_misses_flagged}/{s.near_misses} | {s.rows} |")
    return "\n".join(lines)
