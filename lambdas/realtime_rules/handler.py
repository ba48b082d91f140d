"""Lambda entry point: lambdas.realtime_rules.handler.lambda_handler (Kinesis event source mapping
with ReportBatchItemFailures). Powertools wiring only; the work is in engine.Engine.

Idempotency is per batch (key: the records' event ids): an identical redelivery of a batch that
fully succeeded is answered from the idempotency table without any work. A batch with failures is
never stored (PartialBatch makes Powertools forget it), so its retry is processed again.

The engine decides every record's outcome at batch level (state and alerts are grouped by account)
and returns Lambda's partial batch response itself: Powertools' BatchProcessor, a per-record
handler, would only re-read those verdicts.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Protocol

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.client import BaseClient
from botocore.config import Config

from aml_contract import names, rules
from aml_contract.pseudonym import key_from_secret_string
from lambdas.realtime_rules.alerts import AlertSink
from lambdas.realtime_rules.dead_letters import DeadLetters
from lambdas.realtime_rules.engine import Engine, metric_name
from lambdas.realtime_rules.profile_store import ProfileStore
from lambdas.realtime_rules.reference_cache import ReferenceCache, load_reference
from lambdas.realtime_rules.state_store import CONCURRENCY as STATE_CONCURRENCY
from lambdas.realtime_rules.state_store import StateStore
from lambdas.realtime_rules.window import Horizons

# Service name and metrics namespace come from the environment (names.POWERTOOLS_ENV, set by the
# streaming stack), read when this module is loaded.
logger = Logger()
metrics = Metrics()
tracer = Tracer()
# Fail fast inside one invocation: the event source mapping is the retry mechanism. The pool fits
# the state reads and the profile reads, which run side by side (engine.py), each fanned out.
BOTO_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10,
                     max_pool_connections=2 * STATE_CONCURRENCY)
CLIENTS = ("dynamodb", "sns", "firehose", "sqs", "secretsmanager", "s3")
# Every variable the function needs: the resources it uses, the alert TTL, Powertools' settings.
REQUIRED_ENV = (*names.RULES_LAMBDA_ENV.values(), names.ALERT_TTL_DAYS_ENV, *names.POWERTOOLS_ENV)


class PartialBatch(Exception):
    """Carries a response with failures out of the idempotent function, so it is not stored."""

    def __init__(self, response: dict):
        super().__init__(f"{len(response['batchItemFailures'])} records failed")
        self.response = response


@dataclass(frozen=True)
class Settings:
    """The function's configuration, read from its environment (names.RULES_LAMBDA_ENV and
    names.ALERT_TTL_DAYS_ENV): field names are RULES_LAMBDA_ENV's keys."""

    rule_state_table: str
    alerts_table: str
    idempotency_table: str
    profiles_table: str
    alerts_topic_arn: str
    dlq_url: str
    alerts_delivery_stream: str
    pseudonymization_secret_id: str
    curated_bucket: str  # the reference data's bucket (aml_contract.reference layout)
    alert_ttl_days: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        missing = [v for v in REQUIRED_ENV if not environ.get(v)]
        if missing:
            raise RuntimeError(f"environment variables not set: {', '.join(missing)}")
        ttl = environ[names.ALERT_TTL_DAYS_ENV]
        if not (ttl.isascii() and ttl.isdigit()) or int(ttl) < 1:
            raise RuntimeError(f"{names.ALERT_TTL_DAYS_ENV} must be a whole number of days (1 or more), not {ttl!r}")
        return cls(**{field: environ[var] for field, var in names.RULES_LAMBDA_ENV.items()},
                   alert_ttl_days=int(ttl))


class BatchFunction(Protocol):
    """The idempotent batch function: the Lambda response of a fully processed batch (raises
    PartialBatch for one with failures). `batch` is what the idempotency key is taken from
    (`batch_ids`); `event` the whole event."""

    def __call__(self, *, batch: dict, event: dict) -> dict: ...


def batch_ids(event: dict) -> dict:
    """The part of the event its idempotency key is read from (`Records[*].eventID`), in the
    event's own shape, so the key is the one the whole event gives. Powertools deep-copies the
    data argument on every call: a copy of 1,000 records' data cost about 5% of a batch."""
    return {"Records": [{"eventID": r["eventID"]} for r in event["Records"]]}


@dataclass(frozen=True)
class Runtime:
    """What a container builds once: the engine, its idempotent batch function, and the AWS
    clients every call of both goes through (by service name; tests and the benchmark observe them)."""

    engine: Engine
    idempotency: IdempotencyConfig
    process_once: BatchFunction
    clients: Mapping[str, BaseClient]


def runtime() -> Runtime:
    """Built once per container (and again only if the environment configures other settings)."""
    return _build(Settings.from_environment())


def forget_runtime() -> None:
    """Drop the runtime built in this process: the next invocation builds a new one, as a new
    container does (nothing of the previous one kept in memory)."""
    _build.cache_clear()
    gc.unfreeze()  # what _build froze may be collected again


def _freeze_what_lives_on() -> None:
    """Move every object alive after the build (modules, botocore's service models, the clients,
    Powertools) out of the cyclic collector's reach: they live as long as the container, and every
    full collection during a batch walked all of them again (about 0.15 s each, the slowest batches'
    extra time in `make bench`). Reference counting still frees them. No collection first: the build
    leaves little cyclic garbage, and a full collection would cost the cold start what it saves.
    https://docs.python.org/3.11/library/gc.html#gc.freeze"""
    gc.freeze()


@lru_cache(maxsize=4)
def _build(settings: Settings) -> Runtime:
    session = boto3.session.Session()
    clients = MappingProxyType({s: session.client(s, config=BOTO_CONFIG) for s in CLIENTS})
    params = rules.load()
    reference = ReferenceCache(lambda: load_reference(clients["s3"], settings.curated_bucket),
                               on_stale=_report_stale, on_refresh_failed=_report_refresh_failed)
    key = cache(lambda: key_from_secret_string(
        clients["secretsmanager"].get_secret_value(SecretId=settings.pseudonymization_secret_id)["SecretString"]))
    engine = Engine(
        StateStore(clients["dynamodb"], settings.rule_state_table, Horizons.from_params(params)),
        ProfileStore(clients["dynamodb"], settings.profiles_table, key),
        AlertSink(clients["dynamodb"], clients["sns"], clients["firehose"], table=settings.alerts_table,
                  topic_arn=settings.alerts_topic_arn, delivery_stream=settings.alerts_delivery_stream,
                  ttl_days=settings.alert_ttl_days, params=params, pseudonym_key=key),
        DeadLetters(clients["sqs"], settings.dlq_url), params, key, reference.get)
    idempotency = IdempotencyConfig(event_key_jmespath="Records[*].eventID", expires_after_seconds=24 * 3600)
    persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=clients["dynamodb"])

    @idempotent_function(data_keyword_argument="batch", config=idempotency, persistence_store=persistence)
    def process_once(batch: dict, event: dict) -> dict:  # noqa: ARG001 (batch: the idempotency key's source)
        response = _process(engine, event)
        if response["batchItemFailures"]:
            raise PartialBatch(response)
        return response

    _freeze_what_lives_on()
    return Runtime(engine, idempotency, process_once, clients)


def _report_stale(dataset: str, description: str) -> None:
    """Stale reference data is reported, never a reason to refuse records (reference_cache.py)."""
    metrics.add_metric(name=names.reference_stale_metric(dataset), unit=MetricUnit.Count, value=1)
    logger.warning("reference dataset past its review date: records are still evaluated with it; "
                   "publish a newer version (aml reference publish)", extra={"dataset": description})


def _report_refresh_failed(err: Exception) -> None:
    metrics.add_metric(name=names.REFERENCE_REFRESH_FAILED_METRIC, unit=MetricUnit.Count, value=1)
    logger.warning("reference data could not be read again: the copy loaded before is kept",
                   extra={"reason": str(err)})


@tracer.capture_method
def _process(engine: Engine, event: dict) -> dict:
    outcome = engine.process([KinesisStreamRecord(r) for r in event["Records"]])
    for name, value in sorted(outcome.counts.items()):
        metrics.add_metric(name=metric_name(name), unit=MetricUnit.Count, value=value)
    for alert in outcome.new_alerts:
        logger.info("alert raised", extra={"alert_id": alert["alert_id"], "rule_id": alert["rule_id"],
                                           "severity": alert["severity"]})
    for change in outcome.schema_changes:
        logger.warning("the source's schema changed under the contract (DMS control record); "
                       "the SchemaChanges alarm fires", extra={"change": change})
    for late in outcome.beyond_horizon:
        logger.warning("record beyond the late-record horizon: left out of the windowed rules (the "
                       "daily batch queries still see it); the LateRecordsBeyondHorizon alarm fires",
                       extra={"sequence_number": late.sequence_number, "transaction_id": late.transaction_id,
                              "booked_at": late.booked_at, "behind_seconds": late.behind_seconds})
    for aid, reason in outcome.unrecorded.items():
        logger.error("alert delivered but its delivery flag was not stored; a redelivery of its record "
                     "would deliver it again", extra={"alert_id": aid, "reason": reason})
    for sequence_number, reason in outcome.failed.items():
        logger.warning("record not processed; Lambda will redeliver it",
                       extra={"sequence_number": sequence_number, "reason": reason})
    logger.info("batch processed", extra={"counts": dict(outcome.counts)})
    return outcome.response()


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    rt = runtime()
    rt.idempotency.register_lambda_context(context)
    try:
        return rt.process_once(batch=batch_ids(event), event=event)
    except PartialBatch as partial:
        return partial.response
