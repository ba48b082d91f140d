"""Resource names shared by the CDK stacks and the local runtime (which otherwise reads what
was deployed from the stacks' outputs)."""
from __future__ import annotations

import re
from typing import NamedTuple

PROJECT = "aml"
STREAM_NAME_SUFFIX = "transactions"
REALTIME_PARTITION_KEY = "originator_account_id"  # DMS task 2 partitions the stream by it
ATHENA_WORKGROUP_SUFFIX = "analysts"
PSEUDONYMIZATION_SECRET_SUFFIX = "pseudonymization-key"  # noqa: S105 (a name, not a secret)


# An environment name is part of every physical name (S3 bucket names allow no capitals).
ENV_NAME = re.compile(r"[a-z0-9]{1,16}")
ENV_NAME_RULE = "1-16 lowercase letters and digits"


def check_env_name(env_name: str) -> str:
    """The name, or ValueError when it breaks ENV_NAME_RULE."""
    if not ENV_NAME.fullmatch(env_name):
        raise ValueError(f"invalid environment name {env_name!r} (use {ENV_NAME_RULE})")
    return env_name


def resource_name(env_name: str, suffix: str) -> str:
    """aml-<env>-<suffix>: every physical name the project chooses."""
    return f"{PROJECT}-{env_name}-{suffix}"

# ---- resources shared by the stacks, the Lambda and the local runtime ---------------------
# DynamoDB key schemas (the stacks create the tables, the Lambda and the local runtime use them).
RULE_STATE_TABLE_KEYS = {"partition": "pk", "sort": "sk", "ttl": "ttl"}  # pk = account, sk = rule/state kind
ALERTS_TABLE_KEYS = {"partition": "alert_id", "ttl": "ttl"}
PROFILES_TABLE_KEYS = {"partition": "account_pid", "ttl": "ttl"}  # aml_contract.profiles
# The alerts of one subject and scenario, for the one alert identity across paths
# (aml_contract.alert_identity): a global secondary index, every attribute projected.
ALERTS_SUBJECT_INDEX = {"name": "by-subject-rule", "partition": "subject_account_pid", "sort": "rule_id"}
ALERT_SOURCES = ("realtime", "batch")  # the curated alerts' `source` values
IDEMPOTENCY_TABLE_KEYS = {"partition": "id", "ttl": "expiration"}  # Powertools idempotency layout
# The rules Lambda's custom metrics (Powertools: namespace, `service` dimension); a count named
# "schema_changes" is published as "SchemaChanges". The monitoring stack alarms on them.
RULES_METRICS_NAMESPACE = "AmlRealtimeRules"
RULES_SERVICE = "realtime-rules"
SCHEMA_CHANGES_METRIC = "SchemaChanges"  # DMS control records that change tables or columns
# Records too far behind their account's watermark (the rule parameters' out_of_order_tolerance_hours)
# for the windowed rules: counted, logged and alarmed, never dropped without a trace.
LATE_BEYOND_HORIZON_METRIC = "LateBeyondHorizon"
# Reference data (aml_contract.reference): a reload that failed (the loaded copy is kept), and a
# dataset past its review date (one metric per dataset, e.g. ReferenceStaleFxRates).
REFERENCE_REFRESH_FAILED_METRIC = "ReferenceRefreshFailed"
REFERENCE_STALE_METRIC_PREFIX = "ReferenceStale"


def reference_stale_metric(dataset: str) -> str:
    """fx_rates -> ReferenceStaleFxRates."""
    return REFERENCE_STALE_METRIC_PREFIX + "".join(w.capitalize() for w in dataset.split("_"))
ALERTS_S3_PREFIX = "alerts"  # s3://<curated>/alerts/dt=YYYY-MM-DD/ (Firehose delivery)
ATHENA_RESULTS_PREFIX = "results"  # s3://<results>/results/: the analysts' workgroup output location


# ---- every physical name the stacks choose, and the output that publishes it -------------------
class Resource(NamedTuple):
    suffix: str | None  # physical name aml-<env>-<suffix> (buckets add -<account>-<region>); None: not ours to name
    output_key: str | None  # the CloudFormation output carrying it (None: not published)
    local: bool = True  # the local runtime uses it: a LocalResources field of the same name


# field -> (suffix, output key). The stacks name resources and key their outputs from this table;
# the local runtime finds what `cdk deploy` created by the output keys, or creates each resource
# by name from the suffixes (aml/local/resources.py).
RESOURCES: dict[str, Resource] = {
    # network
    "vpc": Resource("vpc", "VpcId", local=False),
    # data lake
    "raw_bucket": Resource("raw", "RawBucketName"),
    "curated_bucket": Resource("curated", "CuratedBucketName"),
    "athena_results_bucket": Resource("results", "AthenaResultsBucketName"),
    "access_logs_bucket": Resource("access-logs", "AccessLogsBucketName", local=False),
    "pseudonymization_secret_id": Resource(PSEUDONYMIZATION_SECRET_SUFFIX, "PseudonymizationSecretName"),
    "data_key": Resource(None, "DataKeyArn", local=False),  # a key: its alias names it
    "curated_database": Resource(None, "CuratedDatabaseName", local=False),  # settings.curated_database
    # database
    "database_cluster": Resource("core-banking", "ClusterArn", local=False),
    "database_admin_secret": Resource("core-banking-admin", "AdminSecretArn", local=False),
    "database_secret_rotation": Resource("core-banking-rotation", None, local=False),
    # replication (the local replicator plays the stream task, under its name)
    "dms_instance": Resource("dms", None, local=False),  # and its subnet group
    "dms_source_endpoint": Resource("core-banking", None, local=False),
    "dms_raw_zone_endpoint": Resource("raw-zone", None, local=False),
    "dms_stream_endpoint": Resource("transactions-stream", None, local=False),
    "raw_zone_task": Resource("core-to-raw", "RawZoneTaskArn", local=False),
    "stream_task": Resource("transactions-to-stream", "StreamTaskArn", local=False),
    # streaming
    "stream_name": Resource(STREAM_NAME_SUFFIX, "TransactionsStreamName"),
    "rule_state_table": Resource("rule-state", "RuleStateTableName"),
    "alerts_table": Resource("alerts", "AlertsTableName"),
    "idempotency_table": Resource("idempotency", "IdempotencyTableName"),
    "profiles_table": Resource("profiles", "ProfilesTableName"),  # written by the daily pipeline
    "alerts_topic_arn": Resource("alerts", "AlertsTopicArn"),
    "dlq_url": Resource("rules-dlq", "RulesDeadLetterQueueUrl"),
    "alerts_delivery_stream": Resource("alerts-delivery", "AlertsDeliveryStreamName"),
    "rules_function": Resource("realtime-rules", "RulesFunctionName", local=False),
    # etl
    "glue_job_name": Resource("curate-transactions", "GlueJobName"),
    "glue_security_configuration": Resource("etl", None, local=False),
    # daily pipeline (aml_contract.daily_pipeline)
    "daily_pipeline": Resource("daily-pipeline", "DailyPipelineArn", local=False),
    "daily_pipeline_schedule": Resource("daily-pipeline-schedule", None, local=False),
    "pipeline_plan_function": Resource("pipeline-plan", None, local=False),
    "pipeline_batch_alerts_function": Resource("pipeline-batch-alerts", None, local=False),
    "pipeline_report_function": Resource("pipeline-report", None, local=False),
    "pipeline_profiles_function": Resource("pipeline-profiles", None, local=False),
    "pipeline_reconcile_function": Resource("pipeline-reconcile", None, local=False),
    # analytics
    "athena_workgroup": Resource(ATHENA_WORKGROUP_SUFFIX, "AthenaWorkgroupName"),
    "analyst_policy": Resource("analyst", "AnalystPolicyArn", local=False),
    # monitoring (each alarm and event rule is named aml-<env>-<its id>)
    "alarm_topic": Resource("alarms", "AlarmTopicArn", local=False),
    "dashboard": Resource("platform", None, local=False),
}
# The buckets, by the zone (suffix) that names them.
BUCKETS = ("raw_bucket", "curated_bucket", "athena_results_bucket", "access_logs_bucket")
# The DynamoDB tables and their key schemas.
TABLE_KEYS = {"rule_state_table": RULE_STATE_TABLE_KEYS, "alerts_table": ALERTS_TABLE_KEYS,
              "idempotency_table": IDEMPOTENCY_TABLE_KEYS, "profiles_table": PROFILES_TABLE_KEYS}
TABLE_INDEXES = {"alerts_table": (ALERTS_SUBJECT_INDEX,)}


def _key_schema(keys: dict[str, str]) -> list[dict]:
    return [{"AttributeName": keys["partition"], "KeyType": "HASH"},
            *([{"AttributeName": keys["sort"], "KeyType": "RANGE"}] if "sort" in keys else [])]


def table_definition(field: str) -> dict:
    """CreateTable's KeySchema, AttributeDefinitions and GlobalSecondaryIndexes (every attribute
    projected) of a TABLE_KEYS table: what the stacks' ContractTable declares, for the local
    runtime and the tests that create it on the emulator."""
    keys, indexes = TABLE_KEYS[field], TABLE_INDEXES.get(field, ())
    attributes = {n: {"AttributeName": n, "AttributeType": "S"}
                  for k in (keys, *indexes) for n in (k["partition"], k.get("sort")) if n}
    gsis = [{"IndexName": i["name"], "KeySchema": _key_schema(i), "Projection": {"ProjectionType": "ALL"}}
            for i in indexes]
    return {"KeySchema": _key_schema(keys), "AttributeDefinitions": list(attributes.values()),
            **({"GlobalSecondaryIndexes": gsis} if gsis else {})}


def name_of(env_name: str, field: str) -> str:
    """The physical name of a RESOURCES entry: aml-<env>-<suffix>."""
    suffix = RESOURCES[field].suffix
    if suffix is None:
        raise KeyError(f"{field} has no project-chosen name")
    return resource_name(env_name, suffix)


def bucket_name(env_name: str, field: str, account: str, region: str) -> str:
    """A bucket's physical name, aml-<env>-<zone>-<account>-<region>: globally unique, and known
    without a lookup to anyone who knows the account and region (the stacks pass CDK's tokens)."""
    if field not in BUCKETS:
        raise KeyError(f"{field} is not a bucket")
    return f"{name_of(env_name, field)}-{account}-{region}"


def output_key(field: str) -> str:
    key = RESOURCES[field].output_key
    if key is None:
        raise KeyError(f"{field} is not published as a stack output")
    return key


# CloudFormation output keys the local runtime reads: key -> the LocalResources field it fills
# (see aml/local/resources.py).
STACK_OUTPUTS = {r.output_key: field for field, r in RESOURCES.items() if r.local}

# Environment variables of the rules Lambda (set by the streaming stack, by the local poller from
# LocalResources): LocalResources field -> variable name.
RULES_LAMBDA_ENV = {
    "rule_state_table": "RULE_STATE_TABLE",
    "alerts_table": "ALERTS_TABLE",
    "idempotency_table": "IDEMPOTENCY_TABLE",
    "profiles_table": "PROFILES_TABLE",  # read only (aml_contract.profiles)
    "alerts_topic_arn": "ALERTS_TOPIC_ARN",
    "dlq_url": "DLQ_URL",
    "alerts_delivery_stream": "ALERTS_DELIVERY_STREAM",
    "pseudonymization_secret_id": "PSEUDONYMIZATION_SECRET_ID",
    # the bucket holding the dated reference data (aml_contract.reference: reference/<dataset>/)
    "curated_bucket": "REFERENCE_BUCKET",
}

# The rules Lambda's settings, set by the streaming stack from settings.streaming (the stack owns
# the function's configuration; the local poller reads it back from the deployed function).
ALERT_TTL_DAYS_ENV = "ALERT_TTL_DAYS"
# Powertools takes its service and metrics namespace from these variables (the code passes none).
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME": RULES_SERVICE,
                  "POWERTOOLS_METRICS_NAMESPACE": RULES_METRICS_NAMESPACE}
