"""Partition pruning of the named queries on the local engine.

A generated bank (500 customers, 60 days) is curated to Parquet partitioned by `dt`; every query
runs once over all days and once over a single day, and the bytes DuckDB scanned are compared.
Athena bills by bytes scanned, so a 1-day window must read at most 5% of the full scan. Queries
that prove a history (dormancy, a velocity baseline) also read their look-back days by design;
their bound is (look-back + 1) days out of the total.
"""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from aml.query import catalog, curate, scoring
from aml.query.cli import execute
from aml_contract import pseudonym, rules

CUSTOMERS, DAYS, SEED = 500, 60, 42
MAX_RATIO = 0.05
BENCH_KEY = pseudonym.normalise_key("bench-pseudonymisation-key-0123456789")


def lookback_days(name: str) -> int:
    """Days before start_date a query also reads, to prove a history (dormancy, a baseline)."""
    params = rules.load()
    if name == "dormant_reactivation":
        return 2 * params.rule(name)["dormant_days"]
    if name == "velocity_spike":
        return params.rule(name)["baseline_days"] + params.rule(name)["window_days"]
    return 0


def run() -> dict:
    from aml.generate import BankConfig, generate

    config = BankConfig(customers=CUSTOMERS, days=DAYS, seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        bank = generate(config)
        data_dir = curate.write(curate.curate_bank(bank, BENCH_KEY), Path(tmp))
        first = config.start_date
        last = first + timedelta(days=DAYS - 1)
        day = last.isoformat()  # the latest day: the look-back queries read their full history
        every = {"start_date": first.isoformat(), "end_date": last.isoformat()}
        single = {"start_date": day, "end_date": day}
        figures = {}
        for name in catalog.queries():
            if name == "customer_risk_summary":
                figures[name] = {"skipped": "reads the alerts table, which the rules engine writes"}
                continue
            full = execute(name, every, data_dir=data_dir)
            one = execute(name, single, data_dir=data_dir)
            ratio = one.bytes_scanned / full.bytes_scanned if full.bytes_scanned else 0.0
            lookback = lookback_days(name)
            bound = MAX_RATIO + (min(lookback, DAYS - 1) + 1) / DAYS if lookback else MAX_RATIO
            figures[name] = {"bytes_all_days": full.bytes_scanned, "bytes_one_day": one.bytes_scanned,
                             "files_all_days": full.files_scanned, "files_one_day": one.files_scanned,
                             "ratio": round(ratio, 4), "bound": round(bound, 4), "within_bound": ratio <= bound,
                             "rows_all_days": full.rows, "seconds_all_days": round(full.elapsed_seconds, 2)}
        scores = scoring.score_all(bank.labels, BENCH_KEY, data_dir, first, last)
    print(scoring.table(scores))
    return {"scores": [s.as_dict() for s in scores],
            "customers": CUSTOMERS, "days": DAYS, "one_day": day, "queries": figures,
            "all_within_bound": all(f.get("within_bound", True) for f in figures.values())}
