"""The report's queries: its own two (athena_queries/report/, in the named queries' format, not
registered in Athena) and the named query customer_risk_summary, each run over the report's period
(start_date, end_date). `aml report` runs them on DuckDB or Athena; the daily pipeline's Plan lists
them for the state machine's Athena Map and the Report step reads their result CSVs."""
from __future__ import annotations

from aml_contract import named_queries

RISK_QUERY = "customer_risk_summary"
ALERTS_PER_DAY, ZONE_ROWS = "report_alerts_per_day", "report_zone_rows"
NAMES = (ALERTS_PER_DAY, ZONE_ROWS, RISK_QUERY)


def get(name: str) -> named_queries.NamedQuery:
    """One of NAMES, parsed (thresholds rendered) from athena_queries/report/ or athena_queries/."""
    if name not in NAMES:
        raise KeyError(f"{name!r} is not a report query ({', '.join(NAMES)})")
    folder = named_queries.QUERIES_DIR if name == RISK_QUERY else named_queries.REPORT_QUERIES_DIR
    return named_queries.parse(folder / f"{name}.sql")


def all_queries() -> list[named_queries.NamedQuery]:
    return [get(name) for name in NAMES]
