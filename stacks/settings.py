"""One typed settings object, read once from the `aml` key of cdk.json context.

Every default is written once, here, with what it means; cdk.json's `aml` object holds only the
values that differ from these, and README's settings reference is generated from this module
(`reference()`; a test keeps it current). Any value can be overridden on the command line:
`-c aml:env_name=prod` for top-level keys, `-c aml:streaming.alert_ttl_days=90` for the keys of a
section. Unknown keys fail loudly so a typo never silently falls back to a default.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aml_contract import daily_pipeline, names
from aml_contract.schema import CURATED_DATABASE, PROJECTION_START_DATE

if TYPE_CHECKING:  # a CDK import costs seconds: the local runtime reads settings without it
    from constructs import Node

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
OVERRIDE_PREFIX = "aml:"
ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")  # us-east-1, eu-central-2, us-gov-west-1, ap-southeast-7


def setting(default: Any, doc: str) -> Any:
    """A settings field: its default, written only here, and what it means (README's reference)."""
    return field(default=default, metadata={"doc": doc})


def group(cls: type, doc: str) -> Any:
    return field(default_factory=cls, metadata={"doc": doc})


@dataclass(frozen=True)
class NetworkSettings:
    max_azs: int = setting(2, "Availability zones of the VPC (at least 2: the DMS and RDS subnet groups span two)")


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str = setting("16.13", "Aurora PostgreSQL engine version")
    port: int = setting(5433, "Cluster port; deliberately not the PostgreSQL default 5432 (refused)")
    min_acu: float = setting(0.5, "Serverless v2 minimum capacity; 0 enables auto-pause (cheapest idle), "
                                  "at the price of a cold start")
    max_acu: float = setting(4, "Serverless v2 maximum capacity")
    reader_count: int = setting(0, "Reader instances; add readers for a highly available writer")
    backup_retention_days: int = setting(7, "Automated backup retention (point-in-time restore window)")
    database_name: str = setting("core_banking", "Database holding the `core` schema")


@dataclass(frozen=True)
class ReplicationSettings:
    instance_class: str = setting("dms.t3.medium", "DMS replication instance class")
    allocated_storage_gb: int = setting(50, "DMS replication instance storage")
    account_roles_exist: bool = setting(
        False, "`dms-vpc-role` and `dms-cloudwatch-logs-role` are account-wide singletons: set true when the "
               "account already has them (another DMS workload), so this app does not create them")


@dataclass(frozen=True)
class EtlSettings:
    worker_type: str = setting("G.1X", "Glue worker type of the curation job")
    workers: int = setting(2, "Glue workers of the curation job")
    timeout_minutes: int = setting(60, "Curation job timeout")
    projection_start_date: str = setting(
        PROJECTION_START_DATE, "First `dt` of the curated tables' partition projection; the Glue job "
                               "quarantines rows booked before it")


@dataclass(frozen=True)
class StreamingSettings:
    shard_count: int = setting(1, "Kinesis shards of the transactions stream")
    retention_hours: int = setting(24, "Kinesis retention")
    batch_size: int = setting(500, "Event source mapping: records per Lambda invocation")
    batching_window_seconds: int = setting(5, "Event source mapping: longest wait to fill a batch")
    max_retries: int = setting(3, "Event source mapping: retries of a failing batch (bisected) before the DLQ")
    max_record_age_seconds: int = setting(3600, "Event source mapping: records older than this go to the DLQ")
    parallelization_factor: int = setting(1, "Event source mapping: concurrent batches per shard")
    reserved_concurrency: int = setting(10, "Rules Lambda reserved concurrency")
    memory_mb: int = setting(512, "Rules Lambda memory")
    timeout_seconds: int = setting(60, "Rules Lambda timeout")
    powertools_layer_version: int = setting(27, "Version of the AWS-published Powertools for Python layer")
    alert_ttl_days: int = setting(400, "How long the alerts table keeps an alert (DynamoDB TTL); the Lambda "
                                       "reads it as `ALERT_TTL_DAYS`")
    firehose_buffer_seconds: int = setting(60, "Alerts Firehose buffering interval (Parquet conversion "
                                                "needs the 64 MiB size buffer)")


@dataclass(frozen=True)
class AnalyticsSettings:
    bytes_scanned_cutoff_per_query: int = setting(10 * 1024**3, "Athena workgroup per-query scan limit (bytes)")
    results_expiration_days: int = setting(30, "Athena query results expire after this many days")


@dataclass(frozen=True)
class PipelineSettings:
    schedule_cron: str = setting("cron(0 2 * * ? *)", "When the daily pipeline starts (EventBridge Scheduler, UTC); it "
                                                      "runs the curation job, the scenario queries, the batch alerts and the "
                                                      "account profiles' load")
    lookback_days: int = setting(daily_pipeline.DEFAULT_LOOKBACK_DAYS, "Days the scheduled run's scenario queries read "
                                                                       "(up to its run date, the day before the schedule fires)")
    retry_attempts: int = setting(3, "Retries of a failed pipeline step (Lambda, Glue, Athena, SNS) before it is reported")
    retry_interval_seconds: int = setting(30, "Wait before a failed pipeline step's first retry")
    retry_backoff_rate: float = setting(2.0, "Each further retry waits this many times longer")
    query_concurrency: int = setting(4, "Scenario queries Athena runs at once (the Map's MaxConcurrency)")
    function_memory_mb: int = setting(1024, "Memory of the pipeline's Lambda functions (plan, batch alerts, report)")
    function_timeout_seconds: int = setting(900, "Timeout of the pipeline's Lambda functions")


@dataclass(frozen=True)
class AlarmSettings:
    iterator_age_ms: int = setting(60_000, "Alarm when the stream's or the rules Lambda's iterator age (ms, maximum over 5 minutes) reaches it")
    lambda_errors: int = setting(1, "Alarm when the rules Lambda's errors in 5 minutes reach it")
    lambda_throttles: int = setting(1, "Alarm when the rules Lambda's throttles in 5 minutes reach it")
    dlq_messages: int = setting(1, "Alarm when the rules dead-letter queue holds this many messages")


_GROUPS = {
    "network": NetworkSettings, "database": DatabaseSettings, "replication": ReplicationSettings,
    "etl": EtlSettings, "streaming": StreamingSettings, "analytics": AnalyticsSettings,
    "pipeline": PipelineSettings, "alarms": AlarmSettings,
}


@dataclass(frozen=True)
class Settings:
    env_name: str = setting("dev", "Environment name: stacks are `aml-<env>-<concern>`, resources "
                                   "`aml-<env>-<name>` (1-16 lowercase letters and digits)")
    account: str | None = setting(None, "Target account (null: the CLI's credentials decide at deploy time)")
    region: str | None = setting(None, "Target region (null: the CLI's configuration decides at deploy time)")
    removal_policy_destroy: bool = setting(False, "DESTROY data stores on `cdk destroy` (dev/test only); "
                                                  "otherwise they are retained")
    local: bool = setting(False, "Deploying into the local emulator: see `stacks/local_mode.py`")
    curated_database: str = setting(CURATED_DATABASE, "Glue database of the curated zone")
    log_retention_days: int = setting(365, "CloudWatch Logs retention of every log group")
    alarm_email: str | None = setting(None, "Subscribed to the alerts and alarm topics when set")
    network: NetworkSettings = group(NetworkSettings, "VPC")
    database: DatabaseSettings = group(DatabaseSettings, "Aurora PostgreSQL core-banking cluster")
    replication: ReplicationSettings = group(ReplicationSettings, "DMS")
    etl: EtlSettings = group(EtlSettings, "Glue curation job and the curated catalog")
    streaming: StreamingSettings = group(StreamingSettings, "Kinesis stream, rules Lambda, alerts delivery")
    analytics: AnalyticsSettings = group(AnalyticsSettings, "Athena workgroup and results")
    pipeline: PipelineSettings = group(PipelineSettings, "Daily pipeline (Step Functions): schedule, retries, "
                                                         "query concurrency, its Lambda functions")
    alarms: AlarmSettings = group(AlarmSettings, "Monitoring thresholds")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        """Settings from the `aml` context object. Unknown keys and values of the wrong type fail
        with one error naming the key, so a typo never silently falls back to a default."""
        settings = cls(**_typed_fields(cls, raw, ""))
        settings.validate()
        return settings

    @classmethod
    def from_node(cls, node: Node) -> Settings:
        """The `aml` context object, with command-line overrides: `-c aml:<key>=VALUE` for top-level
        keys and `-c aml:<section>.<key>=VALUE` for the keys of a section (e.g.
        aml:replication.account_roles_exist=true). An override of an unknown key fails."""
        raw = json.loads(json.dumps(node.try_get_context("aml") or {}))  # a copy, sections included
        for key, value in sorted(node.get_all_context().items()):
            if not key.startswith(OVERRIDE_PREFIX):
                continue
            path = key[len(OVERRIDE_PREFIX):].split(".")
            if len(path) == 1:
                raw[path[0]] = value
            elif len(path) == 2 and path[0] in _GROUPS:
                section = raw.setdefault(path[0], {})
                if not isinstance(section, dict):
                    raise ValueError(f"aml.{path[0]} must be an object of settings")
                section[path[1]] = value
            else:
                raise ValueError(f"unknown aml context key {key[len(OVERRIDE_PREFIX):]!r} (from -c {key}=...)")
        return cls.from_dict(raw)

    @classmethod
    def from_cdk_json(cls, path: Path = CDK_JSON) -> Settings:
        """The settings `cdk deploy` reads from cdk.json without command-line overrides (for the
        local runtime, which runs the code the stacks configure with the same values)."""
        return cls.from_dict(json.loads(path.read_text())["context"].get("aml") or {})

    def validate(self) -> None:
        if self.account is not None and not ACCOUNT_ID.fullmatch(self.account):
            raise ValueError(f"account must be a 12-digit AWS account id, got {self.account!r}")
        if self.region is not None and not REGION.fullmatch(self.region):
            raise ValueError(f"region must be an AWS region code such as eu-west-1, got {self.region!r}")
        names.check_env_name(self.env_name)
        if self.database.port == 5432:
            raise ValueError("database.port must not be the PostgreSQL default 5432")
        if self.network.max_azs < 2:
            raise ValueError("network.max_azs must be >= 2 (DMS and RDS subnet groups span two AZs)")


def _typed_fields(cls: type, raw: Any, prefix: str) -> dict[str, Any]:
    """`raw`'s values checked against the fields of `cls`, sections recursively."""
    if not isinstance(raw, dict):
        raise ValueError(f"aml.{prefix.rstrip('.')} must be an object of settings, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        where = f"aml.{prefix.rstrip('.')} " if prefix else "aml "
        raise ValueError(f"unknown {where}context keys: {unknown} (known: {sorted(fields)})")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in raw.items():
        if key in _GROUPS and cls is Settings:
            values[key] = _GROUPS[key](**_typed_fields(_GROUPS[key], value, f"{key}."))
        else:
            values[key] = _typed(f"{prefix}{key}", value, hints[key])
    return values


_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _typed(name: str, value: Any, hint: Any) -> Any:
    """One value as its field's type. Command-line overrides arrive as text ("true", "90",
    "123456789012"); cdk.json values arrive as JSON. A value that is not of the type fails."""
    optional = type(None) in typing.get_args(hint)
    kind = next((t for t in typing.get_args(hint) if t is not type(None)), hint) if optional else hint
    if value is None or (optional and value == "null"):
        if optional:
            return None
        raise ValueError(f"aml.{name} must be set ({_KIND_NAMES[kind]})")
    if kind is bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip().replace("_", "")):
            return int(value.strip().replace("_", ""))
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # not a number: the error below names the key
                return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # an account id written unquoted
            return str(value)
    raise ValueError(f"aml.{name} must be {_KIND_NAMES[kind]}, got {value!r}")


def reference() -> str:
    """README's settings reference: every key, its default and what it means, from the fields above."""
    lines = ["| key (`-c aml:<key>`) | default | meaning |", "|---|---|---|"]

    def rows(cls: type, prefix: str) -> None:
        defaults = cls()
        for f in dataclasses.fields(cls):
            if f.name in _GROUPS and cls is Settings:
                lines.append(f"| **`{f.name}.*`** | | {f.metadata['doc']} |")
                rows(_GROUPS[f.name], f"{f.name}.")
                continue
            default = json.dumps(getattr(defaults, f.name))
            lines.append(f"| `{prefix}{f.name}` | `{default}` | {f.metadata['doc']} |")

    rows(Settings, "")
    return "\n".join(lines) + "\n"
