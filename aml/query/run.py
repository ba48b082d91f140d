"""Run one named query on either engine: the library call behind `aml query run`, the demo, the
scoring, the benchmark and the backtests."""
from __future__ import annotations

import os
from pathlib import Path

from aml.query import catalog
from aml.query.result import QueryResult

DATA_DIR_ENV = "AML_DATA_DIR"


def data_dir_candidates() -> list[Path]:
    """Where curated data is looked for without --data-dir, in order: the local runtime's curated
    zone (.local/curated), then the one `make demo` leaves (out/demo/work/curated)."""
    from aml.demo.config import DemoConfig
    from aml.local.services import LOCAL_DIR

    return [LOCAL_DIR / "curated", DemoConfig().out_dir / "work" / "curated"]


def default_data_dir() -> Path:
    """$AML_DATA_DIR, else the first candidate that exists (the first when none does, so the
    error names it and the others)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    candidates = data_dir_candidates()
    return next((c for c in candidates if c.is_dir()), candidates[0])


def execute(name: str, values: dict[str, str], engine: str = "local", data_dir: str | Path | None = None,
            workgroup: str | None = None, account_pid: str | None = None, *, env_name: str | None = None,
            database: str | None = None) -> QueryResult:
    """Validate and run one named query, narrowed to one account when account_pid is given
    (catalog.for_account); every caller shares this. On Athena, the workgroup is the one named,
    else env_name's (aml.query.athena), over the curated database named (default aml_curated)."""
    query = catalog.get(name)
    if account_pid is not None:
        query, values = catalog.for_account(query, values, account_pid)
    bound = catalog.bind(query, values)
    return engine_for(engine, data_dir, workgroup, env_name=env_name, database=database).run(query, bound)


def engine_for(engine: str = "local", data_dir: str | Path | None = None, workgroup: str | None = None, *,
               env_name: str | None = None, database: str | None = None):
    """The engine behind `execute`, for callers running queries of their own (aml.report)."""
    if engine == "athena":
        from aml.query.athena import AthenaEngine

        return AthenaEngine(workgroup, database, env_name)
    from aml.query.local import LocalEngine

    return LocalEngine(data_dir or default_data_dir())
