"""Streaming: the KMS-encrypted Kinesis stream DMS task 2 feeds, the rules Lambda and its event
source mapping, the DynamoDB tables (contract key schemas), the SNS alerts topic, the SQS DLQ and
the alerts Firehose (JSON -> Parquet through the Glue `alerts` table, partitioned by `dt`)."""
from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, Size, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from aml_contract import names
from aml_contract.names import resource_name
from aml_contract.schema import PARTITION_COLUMN
from stacks import assets, lambda_runtime
from stacks.constructs import DataKey, EncryptedLogGroup, grant_secret_read, removal_policy
from stacks.data_lake import DataLakeStack
from stacks.etl import EtlStack
from stacks.network import NetworkStack
from stacks.settings import Settings


class StreamingStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, network: NetworkStack,
                 lake: DataLakeStack, etl: EtlStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        cfg, env = settings.streaming, settings.env_name
        self.add_stack_dependency(lake)
        self.add_stack_dependency(etl)
        self.key = DataKey(self, "StreamingKey", settings=settings, purpose="streaming",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.stream = kinesis.Stream(
            self, "Transactions", stream_name=resource_name(env, names.STREAM_NAME_SUFFIX),
            shard_count=cfg.shard_count, retention_period=Duration.hours(cfg.retention_hours),
            encryption=kinesis.StreamEncryption.KMS, encryption_key=self.key,
            removal_policy=removal_policy(settings))
        self.dlq = sqs.Queue(
            self, "RulesDlq", queue_name=resource_name(env, "rules-dlq"),
            encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.key,
            data_key_reuse=Duration.hours(1), enforce_ssl=True, retention_period=Duration.days(14),
            removal_policy=removal_policy(settings))
        self.rule_state = self._table("RuleState", resource_name(env, "rule-state"),
                                      names.RULE_STATE_TABLE_KEYS, settings)
        self.alerts_table = self._table("Alerts", resource_name(env, "alerts"), names.ALERTS_TABLE_KEYS, settings)
        self.idempotency = self._table("Idempotency", resource_name(env, "idempotency"),
                                       names.IDEMPOTENCY_TABLE_KEYS, settings)
        self.topic = sns.Topic(self, "AlertsTopic", topic_name=resource_name(env, "alerts"),
                               display_name="AML alerts", master_key=self.key, enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.delivery_name = resource_name(env, "alerts-delivery")
        self.delivery_arn = f"arn:{Aws.PARTITION}:firehose:{Aws.REGION}:{Aws.ACCOUNT_ID}:deliverystream/{self.delivery_name}"
        self.delivery = self._alerts_delivery(settings, lake, etl)
        self.function = self._rules_function(settings, network, lake)

        outputs = {
            "TransactionsStreamName": self.stream.stream_name,
            "RuleStateTableName": self.rule_state.table_name,
            "AlertsTableName": self.alerts_table.table_name,
            "IdempotencyTableName": self.idempotency.table_name,
            "AlertsTopicArn": self.topic.topic_arn,
            "RulesDeadLetterQueueUrl": self.dlq.queue_url,
            "AlertsDeliveryStreamName": self.delivery_name,
            "RulesFunctionName": self.function.function_name,
        }
        for key, value in outputs.items():
            CfnOutput(self, key, value=value)

    def _table(self, id: str, name: str, keys: dict[str, str], settings: Settings) -> dynamodb.Table:
        sort = keys.get("sort")
        return dynamodb.Table(
            self, id, table_name=name,
            partition_key=dynamodb.Attribute(name=keys["partition"], type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING) if sort else None,
            time_to_live_attribute=keys["ttl"], billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=not settings.removal_policy_destroy,
            removal_policy=removal_policy(settings))

    def _alerts_delivery(self, settings: Settings, lake: DataLakeStack, etl: EtlStack) -> firehose.DeliveryStream:
        prefix = names.ALERTS_S3_PREFIX
        logs = EncryptedLogGroup(self, "AlertsDeliveryLogs", settings=settings, key=self.key)
        destination = firehose.S3Bucket(
            lake.bucket(self, "curated"), encryption_key=lake.key,
            data_output_prefix=f"{prefix}/{PARTITION_COLUMN}=!{{partitionKeyFromQuery:{PARTITION_COLUMN}}}/",
            error_output_prefix=f"{prefix}-errors/!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
            # Parquet conversion and dynamic partitioning both require at least 64 MiB buffers.
            buffering_size=Size.mebibytes(64), buffering_interval=Duration.seconds(
                settings.streaming.firehose_buffer_seconds),
            dynamic_partitioning=firehose.DynamicPartitioningProps(enabled=True),
            processors=[firehose.MetadataExtractionProcessor.jq16(
                {PARTITION_COLUMN: f".{PARTITION_COLUMN}"})],
            logging_config=firehose.EnableLogging(logs),
        )
        delivery = firehose.DeliveryStream(
            self, "AlertsDelivery", delivery_stream_name=self.delivery_name,
            destination=destination, encryption=firehose.StreamEncryption.customer_managed_key(self.key))
        self._convert_to_parquet(delivery, etl)
        return delivery

    def _convert_to_parquet(self, delivery: firehose.DeliveryStream, etl: EtlStack) -> None:
        """JSON -> Parquet against the Glue `alerts` table, named literally (not by a cross-stack
        Ref as the L2's SchemaConfiguration.from_cfn_table would), with read access to that table only."""
        role = delivery.node.find_child("S3 Destination Role")
        catalog, table = etl.catalog, "alerts"
        iam.Policy(self, "AlertsSchemaAccess", roles=[role], statements=[iam.PolicyStatement(
            actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources=[f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:catalog",
                       catalog.database_arn, catalog.table_arn(table)])])
        delivery.node.default_child.add_property_override(
            "ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration", {
                "Enabled": True,
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
                "SchemaConfiguration": {"CatalogId": Aws.ACCOUNT_ID, "DatabaseName": catalog.database_name,
                                        "TableName": table, "Region": Aws.REGION, "VersionId": "LATEST",
                                        "RoleARN": role.role_arn}})

    def _rules_function(self, settings: Settings, network: NetworkStack, lake: DataLakeStack) -> lambda_.Function:
        cfg, env = settings.streaming, settings.env_name
        name = resource_name(env, "realtime-rules")
        logs = EncryptedLogGroup(self, "RulesLogs", settings=settings, key=self.key, log_group_name=f"/aws/lambda/{name}")
        role = iam.Role(self, "RulesRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Rules Lambda: reads the stream, writes state, alerts and dead letters")
        logs.grant_write(role)
        security_group = ec2.SecurityGroup(self, "RulesSg", vpc=network.vpc, allow_all_outbound=False,
                                           description="Rules Lambda: HTTPS to the VPC endpoints only")
        # The subnets have no internet route: HTTPS egress reaches only the interface endpoints and
        # the S3 / DynamoDB gateway endpoints (whose public ranges are looked up only at deploy time).
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs via VPC endpoints")
        environment = {
            var: value for var, value in {
                names.RULES_LAMBDA_ENV["rule_state_table"]: self.rule_state.table_name,
                names.RULES_LAMBDA_ENV["alerts_table"]: self.alerts_table.table_name,
                names.RULES_LAMBDA_ENV["idempotency_table"]: self.idempotency.table_name,
                names.RULES_LAMBDA_ENV["alerts_topic_arn"]: self.topic.topic_arn,
                names.RULES_LAMBDA_ENV["dlq_url"]: self.dlq.queue_url,
                names.RULES_LAMBDA_ENV["alerts_delivery_stream"]: self.delivery_name,
                names.RULES_LAMBDA_ENV["pseudonymization_secret_id"]: lake.pseudonymization_secret_name,
            }.items()
        }
        environment.update({"POWERTOOLS_SERVICE_NAME": "aml-realtime-rules",
                            "POWERTOOLS_METRICS_NAMESPACE": "AML", "ALERT_TTL_DAYS": str(cfg.alert_ttl_days)})
        function = lambda_.Function(
            self, "RulesFunction", function_name=name, description="AML real-time rules engine",
            runtime=lambda_runtime.RUNTIME, architecture=lambda_runtime.ARCHITECTURE,
            handler="lambdas.realtime_rules.handler.lambda_handler", code=assets.rules_lambda_code(),
            layers=[lambda_.LayerVersion.from_layer_version_arn(
                self, "Powertools", lambda_runtime.powertools_layer_arn(cfg.powertools_layer_version))],
            memory_size=cfg.memory_mb, timeout=Duration.seconds(cfg.timeout_seconds),
            reserved_concurrent_executions=cfg.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE, role=role, log_group=logs,
            environment=environment, environment_encryption=self.key,
            dead_letter_queue=self.dlq,  # async invocations only; the stream's failures use on_failure
            vpc=network.vpc, vpc_subnets=network.private_subnets, security_groups=[security_group])
        function.add_event_source(sources.KinesisEventSource(
            self.stream, starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=cfg.batch_size, max_batching_window=Duration.seconds(cfg.batching_window_seconds),
            bisect_batch_on_error=True, retry_attempts=cfg.max_retries,
            max_record_age=Duration.seconds(cfg.max_record_age_seconds),
            parallelization_factor=cfg.parallelization_factor, report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.dlq)))
        self.rule_state.grant_read_write_data(role)
        self.idempotency.grant_read_write_data(role)
        self.alerts_table.grant_read_write_data(role)
        self.topic.grant_publish(role)
        self.dlq.grant_send_messages(role)
        # By name, not GetAtt: the local emulator cannot model delivery streams (see local_mode).
        role.add_to_policy(iam.PolicyStatement(actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                                               resources=[self.delivery_arn]))
        grant_secret_read(role, lake.pseudonymization_secret_name, lake.key)
        return function
