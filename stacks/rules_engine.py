"""The rules engine: the Lambda that evaluates every transaction on the stream, with what it owns.
Its role, security group, log group, dead-letter queue, the event source mapping from the stream,
its state tables (rule state, Powertools idempotency) and its configuration (the environment the
handler reads, aml_contract.names). It writes alerts through an AlertsDelivery."""
from __future__ import annotations

from aws_cdk import Aws, Duration, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from aml_contract import names, pii_access, reference
from stacks import assets, lambda_runtime
from stacks.alerts_delivery import AlertsDelivery
from stacks.constructs import ContractTable, EncryptedLogGroup, grant_secret_read, removal_policy
from stacks.data_lake import CURATED, DataLakeStack
from stacks.function_environments import function_environment
from stacks.network import NetworkStack
from stacks.settings import Settings


class RulesEngine(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, stream: kinesis.IStream,
                 alerts: AlertsDelivery, network: NetworkStack, lake: DataLakeStack) -> None:
        super().__init__(scope, id)
        env = settings.env_name
        self.key = key
        self.dlq = sqs.Queue(
            self, "Dlq", queue_name=names.name_of(env, "dlq_url"),
            encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
            data_key_reuse=Duration.hours(1), enforce_ssl=True, retention_period=Duration.days(14),
            removal_policy=removal_policy(settings))
        self.rule_state = ContractTable(self, "RuleState", settings=settings, key=key,
                                        table_name=names.name_of(env, "rule_state_table"),
                                        keys=names.RULE_STATE_TABLE_KEYS)
        self.idempotency = ContractTable(self, "Idempotency", settings=settings, key=key,
                                         table_name=names.name_of(env, "idempotency_table"),
                                         keys=names.IDEMPOTENCY_TABLE_KEYS)
        # Account profiles (aml_contract.profiles): the daily pipeline writes them, this function reads.
        self.profiles = ContractTable(self, "Profiles", settings=settings, key=key,
                                      table_name=names.name_of(env, "profiles_table"),
                                      keys=names.PROFILES_TABLE_KEYS)
        self.environment = function_environment(settings, {
            "rule_state_table": self.rule_state.table_name,
            "alerts_table": alerts.table.table_name,
            "idempotency_table": self.idempotency.table_name,
            "profiles_table": self.profiles.table_name,
            "alerts_topic_arn": alerts.topic.topic_arn,
            "dlq_url": self.dlq.queue_url,
            "alerts_delivery_stream": alerts.delivery_name,
            "pseudonymization_secret_id": lake.pseudonymization_secret_name,
            "curated_bucket": lake.bucket_names[CURATED],  # REFERENCE_BUCKET: the reference data's bucket
        })
        self.function = self._function(settings, stream, alerts, network, lake)

    def _function(self, settings: Settings, stream: kinesis.IStream, alerts: AlertsDelivery, network: NetworkStack,
                  lake: DataLakeStack) -> lambda_.Function:
        cfg = settings.streaming
        name = names.name_of(settings.env_name, "rules_function")
        logs = EncryptedLogGroup(self, "Logs", settings=settings, key=self.key, log_group_name=f"/aws/lambda/{name}")
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Rules Lambda: reads the stream, writes state, alerts and dead letters")
        Tags.of(role).add(pii_access.WORKLOAD_TAG, pii_access.REALTIME_RULES)  # a listed PII reader
        logs.grant_write(role)
        security_group = ec2.SecurityGroup(self, "Sg", vpc=network.vpc, allow_all_outbound=False,
                                           description="Rules Lambda: HTTPS to the VPC endpoints only")
        # The subnets have no internet route: HTTPS egress reaches only the interface endpoints and
        # the S3 / DynamoDB gateway endpoints (whose public ranges are looked up only at deploy time).
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs via VPC endpoints")
        function = lambda_.Function(
            self, "Function", function_name=name, description="AML real-time rules engine",
            runtime=lambda_runtime.RUNTIME, architecture=lambda_runtime.ARCHITECTURE,
            handler="lambdas.realtime_rules.handler.lambda_handler", code=assets.rules_lambda_code(),
            layers=[lambda_.LayerVersion.from_layer_version_arn(
                self, "Powertools", lambda_runtime.powertools_layer_arn(cfg.powertools_layer_version))],
            memory_size=cfg.memory_mb, timeout=Duration.seconds(cfg.timeout_seconds),
            reserved_concurrent_executions=cfg.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE, role=role, log_group=logs,
            environment=self.environment, environment_encryption=self.key,
            dead_letter_queue=self.dlq,  # async invocations only; the stream's failures use on_failure
            vpc=network.vpc, vpc_subnets=network.private_subnets, security_groups=[security_group])
        function.add_event_source(sources.KinesisEventSource(
            stream, starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=cfg.batch_size, max_batching_window=Duration.seconds(cfg.batching_window_seconds),
            bisect_batch_on_error=True, retry_attempts=cfg.max_retries,
            max_record_age=Duration.seconds(cfg.max_record_age_seconds),
            parallelization_factor=cfg.parallelization_factor, report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.dlq)))
        # The item actions the function makes, and no others (tests/unit/infra/access records them):
        # summaries and alerts are read with BatchGetItem and written by conditional puts (inside
        # TransactWriteItems, whose items need PutItem); alert delivery flags are updates;
        # Powertools' idempotency record is put (a conditional put returns an existing record),
        # completed by an update, and dropped when a batch fails. Profiles are only read.
        table_actions = {self.rule_state: ("BatchGetItem", "PutItem"), self.profiles: ("BatchGetItem",),
                         alerts.table: ("BatchGetItem", "PutItem", "UpdateItem"),
                         self.idempotency: ("PutItem", "UpdateItem", "DeleteItem")}
        for table, actions in table_actions.items():
            role.add_to_policy(iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in actions],
                                                   resources=[table.table_arn]))
        # A new alert is looked up among the subject's batch alerts (one identity across paths).
        role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:Query"], resources=[
            f"{alerts.table.table_arn}/index/{names.ALERTS_SUBJECT_INDEX['name']}"]))
        # Tables encrypted with the streaming key: DynamoDB decrypts the table key for the caller.
        role.add_to_policy(iam.PolicyStatement(
            actions=["kms:Decrypt"], resources=[self.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.amazonaws.com"}}))
        alerts.grant_deliver(role)
        # The DLQ: the on-failure destination and the async dead-letter queue grant sqs:SendMessage.
        # Lambda creates the function's network interfaces in the VPC with this role; these EC2
        # actions have no resource-level permissions
        # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
        role.add_to_policy(iam.PolicyStatement(
            sid="VpcNetworkInterfaces", resources=["*"],
            actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                     "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                     "ec2:UnassignPrivateIpAddresses"]))
        grant_secret_read(role, lake.pseudonymization_secret_name, lake.key)
        self._grant_reference_read(role, lake)
        return function

    def _grant_reference_read(self, role: iam.Role, lake: DataLakeStack) -> None:
        """The reference datasets and nothing else of the curated bucket (its tables hold the
        pseudonymised history the function has no use for): GetObject of known keys
        (aml_contract.reference.ReferenceData.from_s3 never lists), decrypted through S3 only;
        the derived ones (the segment statistics the Glue job publishes) by their own folders."""
        curated = lake.bucket(self, CURATED)
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadReferenceData", actions=["s3:GetObject"],
            resources=[curated.arn_for_objects(f"{reference.PREFIX}/*")]))
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadDerivedDatasets", actions=["s3:GetObject"],
            resources=[curated.arn_for_objects(f"{reference.table_prefix(d)}*") for d in reference.DERIVED_DATASETS]))
        # Whether the statistics are published yet is asked with ListObjectsV2 on the manifest's
        # exact key (ReferenceData.from_s3): without ListBucket a missing key answers 403, not 404
        # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). Listing is limited
        # to that prefix (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html).
        role.add_to_policy(iam.PolicyStatement(
            sid="ListDerivedDatasetManifests", actions=["s3:ListBucket"], resources=[curated.bucket_arn],
            conditions={"StringEquals": {"s3:prefix": [reference.manifest_key(d) for d in reference.DERIVED_DATASETS]}}))
        role.add_to_policy(iam.PolicyStatement(
            sid="ReferenceDataKeyViaS3", actions=["kms:Decrypt"], resources=[lake.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}))
