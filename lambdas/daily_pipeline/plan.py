"""The plan step: the run date, the queries' window, whether the raw zone holds files the Glue job
has not curated yet, and the queries to run: the scenario queries, the profiles query and the
report's queries over the report's window (aml_contract.daily_pipeline)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from aml_contract import glue_job, profiles, rules, schema
from aml_contract.daily_pipeline import DEFAULT_LOOKBACK_DAYS, REPORT_DAYS
from aml_contract.named_queries import NamedQuery, load_all
from aml_report import queries as report_queries


def run_date_of(event: dict) -> date:
    """`run_date` when given (on demand), else the UTC day before `scheduled_time` (the schedule
    fires after the day it processes has ended)."""
    if event.get("run_date"):
        return date.fromisoformat(event["run_date"])
    if event.get("scheduled_time"):
        return datetime.fromisoformat(event["scheduled_time"].replace("Z", "+00:00")).date() - timedelta(days=1)
    raise ValueError("the execution input needs run_date (YYYY-MM-DD) or scheduled_time (ISO 8601)")


def window(run_date: date, lookback_days: int) -> dict[str, str]:
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, not {lookback_days}")
    return {"start_date": (run_date - timedelta(days=lookback_days - 1)).isoformat(), "end_date": run_date.isoformat()}


def scenario_queries(params: rules.RuleParameters | None = None) -> list[NamedQuery]:
    """The named queries that are scenarios (their name is a rule id); listing queries are not."""
    params = params or rules.load()
    return [q for q in load_all(params=params) if q.name in params.rules]


def pipeline_queries(params: rules.RuleParameters | None = None) -> list[NamedQuery]:
    """What the ScenarioQueries Map runs: the scenario queries, then the profiles query (not a
    scenario: LoadProfiles loads its rows, BatchAlerts skips them)."""
    params = params or rules.load()
    every = {q.name: q for q in load_all(params=params)}
    return [q for q in every.values() if q.name in params.rules] + [every[profiles.QUERY_NAME]]


def new_raw_files(s3, raw_bucket: str, curated_bucket: str) -> dict:
    """Raw Parquet files (DMS output, per source table) not in the Glue job's processed-files
    manifest: {"new_files": n, "latest_modified": ISO or None}."""
    try:
        body = s3.get_object(Bucket=curated_bucket, Key=glue_job.PROCESSED_FILES)["Body"].read()
        processed = {t: set(files) for t, files in json.loads(body)["tables"].items()}
    except s3.exceptions.NoSuchKey:
        processed = {}
    new, latest = 0, None
    for table in schema.SOURCE_TABLES:
        prefix = schema.raw_table_prefix(table)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=raw_bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix):]
                if obj["Key"].endswith(".parquet") and name not in processed.get(table, set()):
                    new += 1
                    latest = max(latest or obj["LastModified"], obj["LastModified"])
    return {"new_files": new, "latest_modified": latest.isoformat() if latest else None}


def planned(query: NamedQuery, values: dict[str, str]) -> dict:
    """One item of the ScenarioQueries Map: the query's name, text and execution parameters."""
    return {"name": query.name, "query_string": query.sql, "execution_parameters": query.execution_parameters(values)}


def plan(event: dict, *, s3, raw_bucket: str, curated_bucket: str) -> dict:
    """The scenario and profiles queries over the lookback window, then the report's queries over the
    report's (the REPORT_DAYS ending on the run date), which the Report step draws its HTML from."""
    run_date = run_date_of(event)
    values = window(run_date, int(event.get("lookback_days") or DEFAULT_LOOKBACK_DAYS))
    report_values = window(run_date, REPORT_DAYS)
    return {
        "run_date": run_date.isoformat(), "run_id": event["run_id"], "window": values,
        "report_window": report_values, "raw": new_raw_files(s3, raw_bucket, curated_bucket),
        "queries": [*(planned(q, values) for q in pipeline_queries()),
                    *(planned(q, report_values) for q in report_queries.all_queries())],
    }
