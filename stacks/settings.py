"""One typed settings object, read once from the `aml` key of cdk.json context.

Any value can be overridden on the command line, e.g. `cdk deploy -c aml:env_name=prod` for
top-level keys, or by editing cdk.json for nested groups. Unknown keys fail loudly so a typo
never silently falls back to a default.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from constructs import Node

from aml_contract.schema import CURATED_DATABASE, PROJECTION_START_DATE


@dataclass(frozen=True)
class NetworkSettings:
    max_azs: int = 2


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str = "16.13"
    port: int = 5433  # deliberately not 5432
    min_acu: float = 0.5  # 0 enables auto-pause (cheapest idle), at the price of a cold start
    max_acu: float = 4
    reader_count: int = 0  # add readers for a highly available writer
    backup_retention_days: int = 7
    database_name: str = "core_banking"


@dataclass(frozen=True)
class ReplicationSettings:
    instance_class: str = "dms.t3.medium"
    allocated_storage_gb: int = 50
    # dms-vpc-role and dms-cloudwatch-logs-role are account-wide singletons: set true when the
    # account already has them (another DMS workload), so this app does not try to create them.
    account_roles_exist: bool = False


@dataclass(frozen=True)
class EtlSettings:
    worker_type: str = "G.1X"
    workers: int = 2
    timeout_minutes: int = 60
    schedule_cron: str = "cron(15 * * * ? *)"
    projection_start_date: str = PROJECTION_START_DATE  # the Glue job quarantines booked_at before it


@dataclass(frozen=True)
class StreamingSettings:
    shard_count: int = 1
    retention_hours: int = 24
    batch_size: int = 500
    batching_window_seconds: int = 5
    max_retries: int = 3
    max_record_age_seconds: int = 3600
    parallelization_factor: int = 1
    reserved_concurrency: int = 10
    memory_mb: int = 512
    timeout_seconds: int = 60
    powertools_layer_version: int = 27
    alert_ttl_days: int = 400
    firehose_buffer_seconds: int = 60


@dataclass(frozen=True)
class AnalyticsSettings:
    bytes_scanned_cutoff_per_query: int = 10 * 1024**3
    results_expiration_days: int = 30


@dataclass(frozen=True)
class AlarmSettings:
    iterator_age_ms: int = 60_000
    lambda_errors: int = 1
    lambda_throttles: int = 1
    dlq_messages: int = 1


_GROUPS = {
    "network": NetworkSettings, "database": DatabaseSettings, "replication": ReplicationSettings,
    "etl": EtlSettings, "streaming": StreamingSettings, "analytics": AnalyticsSettings,
    "alarms": AlarmSettings,
}


@dataclass(frozen=True)
class Settings:
    env_name: str = "dev"
    account: str | None = None
    region: str | None = None
    removal_policy_destroy: bool = False  # DESTROY data stores on `cdk destroy` (dev/test only)
    local: bool = False  # deploying into the local emulator: see stacks/local_mode.py
    curated_database: str = CURATED_DATABASE
    log_retention_days: int = 365
    alarm_email: str | None = None
    network: NetworkSettings = field(default_factory=NetworkSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    replication: ReplicationSettings = field(default_factory=ReplicationSettings)
    etl: EtlSettings = field(default_factory=EtlSettings)
    streaming: StreamingSettings = field(default_factory=StreamingSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown aml context keys: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _GROUPS:
                group = _GROUPS[key]
                bad = set(value) - {f.name for f in dataclasses.fields(group)}
                if bad:
                    raise ValueError(f"unknown aml.{key} context keys: {sorted(bad)}")
                values[key] = group(**value)
            else:
                values[key] = value
        settings = cls(**values)
        settings.validate()
        return settings

    @classmethod
    def from_node(cls, node: Node) -> Settings:
        """The `aml` context object, with `aml:<key>` command-line overrides for top-level keys
        and `aml:<section>.<key>` for the keys of a section (e.g. aml:replication.account_roles_exist)."""
        raw = dict(node.try_get_context("aml") or {})
        for f in dataclasses.fields(cls):
            override = node.try_get_context(f"aml:{f.name}")
            if override is not None:
                raw[f.name] = _coerce(override)
            elif isinstance(raw.get(f.name), dict):
                section = dict(raw[f.name])
                for key in section:
                    nested = node.try_get_context(f"aml:{f.name}.{key}")
                    if nested is not None:
                        section[key] = _coerce(nested)
                raw[f.name] = section
        return cls.from_dict(raw)

    def validate(self) -> None:
        if not self.env_name.isalnum() or not self.env_name.islower() or len(self.env_name) > 16:
            raise ValueError(f"env_name must be 1-16 lowercase letters/digits, got {self.env_name!r}")
        if self.database.port == 5432:
            raise ValueError("database.port must not be the PostgreSQL default 5432")
        if self.network.max_azs < 2:
            raise ValueError("network.max_azs must be >= 2 (DMS and RDS subnet groups span two AZs)")


def _coerce(value: Any) -> Any:
    """`-c aml:local=true` arrives as the string "true": parse JSON scalars."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
