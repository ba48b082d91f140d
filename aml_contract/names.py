"""Resource names shared by the CDK stacks and the local runtime (which otherwise reads what
was deployed from the stacks' outputs)."""

PROJECT = "aml"
STREAM_NAME_SUFFIX = "transactions"
REALTIME_PARTITION_KEY = "originator_account_id"  # DMS task 2 partitions the stream by it
ATHENA_WORKGROUP_SUFFIX = "analysts"
PSEUDONYMIZATION_SECRET_SUFFIX = "pseudonymization-key"  # noqa: S105 (a name, not a secret)


def resource_name(env_name: str, suffix: str) -> str:
    """aml-<env>-<suffix>: every physical name the project chooses."""
    return f"{PROJECT}-{env_name}-{suffix}"

# ---- resources shared by the stacks, the Lambda and the local runtime ---------------------
# DynamoDB key schemas (the stacks create the tables, the Lambda and the local runtime use them).
RULE_STATE_TABLE_KEYS = {"partition": "pk", "sort": "sk", "ttl": "ttl"}  # pk = account, sk = rule/state kind
ALERTS_TABLE_KEYS = {"partition": "alert_id", "ttl": "ttl"}
IDEMPOTENCY_TABLE_KEYS = {"partition": "id", "ttl": "expiration"}  # Powertools idempotency layout
# The rules Lambda's custom metrics (Powertools: namespace, `service` dimension); a count named
# "schema_changes" is published as "SchemaChanges". The monitoring stack alarms on them.
RULES_METRICS_NAMESPACE = "AmlRealtimeRules"
RULES_SERVICE = "realtime-rules"
SCHEMA_CHANGES_METRIC = "SchemaChanges"  # DMS control records that change tables or columns
ALERTS_S3_PREFIX = "alerts"  # s3://<curated>/alerts/dt=YYYY-MM-DD/ (Firehose delivery)

# CloudFormation output keys: the local runtime finds what `cdk deploy` created by these.
# Key -> the LocalResources field it fills (see aml/local/resources.py).
STACK_OUTPUTS = {
    "RawBucketName": "raw_bucket",
    "CuratedBucketName": "curated_bucket",
    "AthenaResultsBucketName": "athena_results_bucket",
    "TransactionsStreamName": "stream_name",
    "RuleStateTableName": "rule_state_table",
    "AlertsTableName": "alerts_table",
    "IdempotencyTableName": "idempotency_table",
    "AlertsTopicArn": "alerts_topic_arn",
    "RulesDeadLetterQueueUrl": "dlq_url",
    "AlertsDeliveryStreamName": "alerts_delivery_stream",
    "PseudonymizationSecretName": "pseudonymization_secret_id",
    "AthenaWorkgroupName": "athena_workgroup",
    "GlueJobName": "glue_job_name",
}

# Environment variables of the rules Lambda (set by the streaming stack, by the local poller from
# LocalResources): LocalResources field -> variable name.
RULES_LAMBDA_ENV = {
    "rule_state_table": "RULE_STATE_TABLE",
    "alerts_table": "ALERTS_TABLE",
    "idempotency_table": "IDEMPOTENCY_TABLE",
    "alerts_topic_arn": "ALERTS_TOPIC_ARN",
    "dlq_url": "DLQ_URL",
    "alerts_delivery_stream": "ALERTS_DELIVERY_STREAM",
    "pseudonymization_secret_id": "PSEUDONYMIZATION_SECRET_ID",
}

# The rules Lambda's settings, set by the streaming stack from settings.streaming (the stack owns
# the function's configuration; the local poller reads it back from the deployed function).
ALERT_TTL_DAYS_ENV = "ALERT_TTL_DAYS"
# Powertools takes its service and metrics namespace from these variables (the code passes none).
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME": RULES_SERVICE,
                  "POWERTOOLS_METRICS_NAMESPACE": RULES_METRICS_NAMESPACE}
