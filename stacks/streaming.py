"""Streaming: the KMS-encrypted Kinesis stream DMS task 2 feeds, the rules Lambda and its event
source mapping, the DynamoDB tables (contract key schemas), the SNS alerts topic, the SQS DLQ and
the alerts Firehose (JSON -> Parquet through the Glue `alerts` table, partitioned by `dt`)."""
from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, Size, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from aml_contract import names, pii_access
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
        prefix, errors = names.ALERTS_S3_PREFIX, f"{names.ALERTS_S3_PREFIX}-errors"
        logs = EncryptedLogGroup(self, "AlertsDeliveryLogs", settings=settings, key=self.key)
        curated = lake.bucket(self, "curated")
        destination = firehose.S3Bucket(
            curated, encryption_key=lake.key,
            data_output_prefix=f"{prefix}/{PARTITION_COLUMN}=!{{partitionKeyFromQuery:{PARTITION_COLUMN}}}/",
            error_output_prefix=f"{errors}/!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
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
        self._scope_destination_policy(delivery, curated, (prefix, errors), lake, logs)
        return delivery

    def _scope_destination_policy(self, delivery: firehose.DeliveryStream, curated: s3.IBucket, prefixes: tuple[str, str],
                                  lake: DataLakeStack, logs: EncryptedLogGroup) -> None:
        """The L2 grants its S3 destination role read-write (deletes included) on the whole curated
        bucket and every use of the lake key. Firehose needs what its documentation lists
        (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3),
        under the two prefixes it writes, the key through S3 only, and log events; the role's
        policy document is set to exactly that (the access proof checks each delivery call)."""
        role = delivery.node.find_child("S3 Destination Role")
        policy = role.node.find_child("DefaultPolicy").node.default_child
        policy.policy_document = iam.PolicyDocument(statements=[
            iam.PolicyStatement(actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                                resources=[curated.arn_for_objects(f"{p}/*") for p in prefixes]),
            iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                                resources=[curated.bucket_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[lake.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}),
            iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[logs.log_group_arn]),
        ])

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
        Tags.of(role).add(pii_access.WORKLOAD_TAG, pii_access.REALTIME_RULES)  # a listed PII reader
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
        # The item actions the function makes, and no others (tests/unit/infra/access records them):
        # summaries and alerts are read with BatchGetItem and written by conditional puts (inside
        # TransactWriteItems, whose items need PutItem); alert delivery flags are updates;
        # Powertools' idempotency record is put (a conditional put returns an existing record),
        # completed by an update, and dropped when a batch fails.
        table_actions = {self.rule_state: ("BatchGetItem", "PutItem"),
                         self.alerts_table: ("BatchGetItem", "PutItem", "UpdateItem"),
                         self.idempotency: ("PutItem", "UpdateItem", "DeleteItem")}
        for table, actions in table_actions.items():
            role.add_to_policy(iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in actions],
                                                   resources=[table.table_arn]))
        # Tables encrypted with the streaming key: DynamoDB decrypts the table key for the caller.
        role.add_to_policy(iam.PolicyStatement(
            actions=["kms:Decrypt"], resources=[self.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.amazonaws.com"}}))
        self.topic.grant_publish(role)
        # The DLQ: the on-failure destination and the async dead-letter queue grant sqs:SendMessage.
        # By name, not GetAtt: the local emulator cannot model delivery streams (see local_mode).
        role.add_to_policy(iam.PolicyStatement(actions=["firehose:PutRecordBatch"], resources=[self.delivery_arn]))
        # Lambda creates the function's network interfaces in the VPC with this role; these EC2
        # actions have no resource-level permissions
        # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
        role.add_to_policy(iam.PolicyStatement(
            sid="VpcNetworkInterfaces", resources=["*"],
            actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                     "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                     "ec2:UnassignPrivateIpAddresses"]))
        grant_secret_read(role, lake.pseudonymization_secret_name, lake.key)
        return function
