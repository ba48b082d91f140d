"""Lambda entry points of the daily pipeline's function steps (aml_contract.daily_pipeline.HANDLERS).
Wiring only: the work is in plan, batch_alerts, profiles, reconcile and report. Each reads its resources from the
environment the stack sets (aml_contract.daily_pipeline.FUNCTION_ENV)."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from aml_contract import names, profiles, rules
from aml_contract.daily_pipeline import (
    DATA_KEY_ENV,
    FUNCTION_ENV,
    INPUT_FIELD,
    PHASE_FIELD,
    PSEUDONYMIZATION_SECRET_ENV,
    RUN_ID_FIELD,
    STATE_FIELD,
)
from aml_contract.pseudonym import key_from_secret_string
from lambdas.daily_pipeline import batch_alerts as batch
from lambdas.daily_pipeline import plan as planning
from lambdas.daily_pipeline import profiles as profile_loader
from lambdas.daily_pipeline import query_results
from lambdas.daily_pipeline import reconcile as reconciliation

logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME (the stack sets it)
BOTO_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})


def _env(field: str) -> str:
    return os.environ[FUNCTION_ENV[field]]


@cache
def _client(service: str):
    return boto3.client(service, config=BOTO_CONFIG)


@logger.inject_lambda_context
def plan(event: dict, context=None) -> dict:
    """event: {"run_id": <execution name>, "input": <execution input>}."""
    request = {**event.get(INPUT_FIELD, {}), RUN_ID_FIELD: event[RUN_ID_FIELD]}
    result = planning.plan(request, s3=_client("s3"), raw_bucket=_env("raw_bucket"),
                           curated_bucket=_env("curated_bucket"))
    logger.info("planned", extra={"run_date": result["run_date"], "raw": result["raw"]})
    return result


@logger.inject_lambda_context
def batch_alerts(event: dict, context=None) -> dict:
    """event: the execution state ($.plan and $.queries). Only the scenario queries' results are
    hits; the profiles query's are LoadProfiles'."""
    params = rules.load()
    plan_ = event["plan"]
    run = batch.Run(plan_["run_id"], date.fromisoformat(plan_["run_date"]), plan_["window"])
    queries = {q.name: q for q in planning.scenario_queries(params)}
    outcome, hits = batch.Outcome(), []
    for result in event["queries"]:
        if result["name"] not in queries:
            continue
        rows = query_results.read(_client("s3"), result["output_location"])
        hits += batch.hits_of(queries[result["name"]], rows, outcome)
    writer = batch.BatchAlertWriter(
        _client("dynamodb"), _client("sns"), _client("firehose"), table=_env("alerts_table"),
        topic_arn=_env("alerts_topic_arn"), delivery_stream=_env("alerts_delivery_stream"),
        ttl_days=int(os.environ[names.ALERT_TTL_DAYS_ENV]), params=params)
    result = writer.write(hits, run, outcome).as_dict()
    logger.info("batch alerts", extra={k: v for k, v in result.items() if k != "per_rule"})
    return result


PROFILE_THREADS = 8  # concurrent BatchGetItem / BatchWriteItem calls (independent chunks)


@logger.inject_lambda_context
def load_profiles(event: dict, context=None) -> dict:
    """event: the execution state ($.plan and $.queries): the profiles query's result, as of the run date."""
    found = [r for r in event["queries"] if r["name"] == profiles.QUERY_NAME]
    if len(found) != 1:
        raise ValueError(f"the state holds {len(found)} results of {profiles.QUERY_NAME}, not 1: was it planned?")
    result = found[0]
    rows = query_results.read(_client("s3"), result["output_location"])
    with ThreadPoolExecutor(PROFILE_THREADS) as pool:
        outcome = profile_loader.load(_client("dynamodb"), _env("profiles_table"), rows,
                                      date.fromisoformat(event["plan"]["run_date"]), rules.load().profiles,
                                      map_=pool.map)
    result = outcome.as_dict()
    logger.info("profiles loaded", extra=result)
    return result


@logger.inject_lambda_context
def report(event: dict, context=None) -> dict:
    """event: the execution state. Imported here: plotly (the HTML report's) loads in this function only."""
    from lambdas.daily_pipeline import report as reporting

    result = reporting.write(event, s3=_client("s3"), bucket=_env("curated_bucket"),
                             kms_key_id=os.environ.get(DATA_KEY_ENV))
    logger.info("report", extra={k: v for k, v in result.items() if k != "summary"})
    return result


def _iam_token(settings: reconciliation.SourceSettings) -> str:
    """The read-only login's password: an IAM authentication token, signed here (no API call)."""
    return _client("rds").generate_db_auth_token(DBHostname=settings.host, Port=settings.port,
                                                 DBUsername=settings.user)


@logger.inject_lambda_context
def reconcile(event: dict, context=None) -> dict:
    """event: {"phase": "digests" | "keys", "state": <the execution state>} (reconcile.py)."""
    phase, state = event[PHASE_FIELD], event[STATE_FIELD]
    if phase not in ("digests", "keys"):
        raise ValueError(f"unknown reconciliation phase {phase!r}")
    key = key_from_secret_string(_client("secretsmanager").get_secret_value(
        SecretId=os.environ[PSEUDONYMIZATION_SECRET_ENV])["SecretString"])
    with reconciliation.connect(reconciliation.SourceSettings.from_env(), _iam_token) as conn:
        source = reconciliation.Source(conn, key)
        if phase == "digests":
            result = reconciliation.digests(state, source=source, s3=_client("s3"))
            logger.info("key digests", extra={t: {k: v for k, v in f.items() if k != "buckets"}
                                               for t, f in result["tables"].items()})
            return result
        report_ = reconciliation.keys(state, source=source, s3=_client("s3"))
    reconciliation.publish(report_, _client("cloudwatch"))
    result = {**report_.as_dict(), "summary": report_.summary()}
    logger.info("key reconciliation", extra={"clean": result["clean"], "key_mismatches": result["key_mismatches"]})
    return result
