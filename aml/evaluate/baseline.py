"""The naive baseline: four queries kept beside the evaluation (`baseline/*.sql`, the named-query
format, Trino SQL) and run by the same local engine as the scenario queries. They live outside
`athena_queries/` on purpose: they are a yardstick for backtests, not scenarios to deploy."""
from __future__ import annotations

from pathlib import Path

from aml.query import catalog
from aml.query.local import LocalEngine
from aml.query.result import QueryResult
from aml_contract.named_queries import NamedQuery, load_all

BASELINE_DIR = Path(__file__).resolve().parent / "baseline"


def queries() -> dict[str, NamedQuery]:
    return {q.name: q for q in load_all(BASELINE_DIR)}


def run_all(window: dict[str, str], data_dir: str | Path) -> dict[str, QueryResult]:
    engine = LocalEngine(data_dir)
    return {name: engine.run(query, catalog.bind(query, window)) for name, query in queries().items()}
