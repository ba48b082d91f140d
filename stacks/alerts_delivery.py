"""Alerts delivery: where the rules engine's alerts go. The alerts table (idempotent writes, the
delivery flags), the SNS topic analysts subscribe to, and the Firehose delivery stream that lands
them in the curated zone as Parquet (JSON -> Parquet through the lake catalog's `alerts` table,
dynamically partitioned by `dt`)."""
from __future__ import annotations

from aws_cdk import Aws, Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from aml_contract import names
from aml_contract.schema import PARTITION_COLUMN
from stacks import catalog
from stacks.constructs import ContractTable, EncryptedLogGroup
from stacks.data_lake import CURATED, DataLakeStack
from stacks.settings import Settings

ALERTS_TABLE = "alerts"  # the curated table Firehose converts against (aml_contract.schema.CURATED_TABLES)


class AlertsDelivery(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, lake: DataLakeStack) -> None:
        super().__init__(scope, id)
        env = settings.env_name
        self.key = key
        self.table = ContractTable(self, "Table", settings=settings, table_name=names.name_of(env, "alerts_table"),
                                   keys=names.ALERTS_TABLE_KEYS, key=key,
                                   indexes=names.TABLE_INDEXES["alerts_table"])
        self.topic = sns.Topic(self, "Topic", topic_name=names.name_of(env, "alerts_topic_arn"),
                               display_name="AML alerts", master_key=key, enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.delivery_name = names.name_of(env, "alerts_delivery_stream")
        # By name, not GetAtt: the local emulator cannot model delivery streams (see local_mode).
        self.delivery_arn = f"arn:{Aws.PARTITION}:firehose:{Aws.REGION}:{Aws.ACCOUNT_ID}:deliverystream/{self.delivery_name}"
        self.delivery = self._delivery_stream(settings, lake)

    def grant_deliver(self, grantee: iam.IGrantable) -> None:
        """What a producer of alerts needs: send them to the delivery stream and publish them."""
        self.topic.grant_publish(grantee)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["firehose:PutRecordBatch"], resources=[self.delivery_arn]))

    def _delivery_stream(self, settings: Settings, lake: DataLakeStack) -> firehose.DeliveryStream:
        prefix, errors = names.ALERTS_S3_PREFIX, f"{names.ALERTS_S3_PREFIX}-errors"
        logs = EncryptedLogGroup(self, "DeliveryLogs", settings=settings, key=self.key)
        curated = lake.bucket(self, CURATED)
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
            self, "Delivery", delivery_stream_name=self.delivery_name,
            destination=destination, encryption=firehose.StreamEncryption.customer_managed_key(self.key))
        self._convert_to_parquet(delivery, lake.catalog)
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

    def _convert_to_parquet(self, delivery: firehose.DeliveryStream, curated: catalog.CuratedCatalog) -> None:
        """JSON -> Parquet against the catalog's `alerts` table, named literally (not by a cross-stack
        Ref as the L2's SchemaConfiguration.from_cfn_table would), with read access to that table
        only, in a policy of its own (the role's default policy is replaced above)."""
        role = delivery.node.find_child("S3 Destination Role")
        curated.grant_read(iam.Policy(self, "SchemaAccess", roles=[role]), [ALERTS_TABLE],
                           actions=catalog.SCHEMA_ACTIONS)
        delivery.node.default_child.add_property_override(
            "ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration", {
                "Enabled": True,
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
                "SchemaConfiguration": {"CatalogId": Aws.ACCOUNT_ID, "DatabaseName": curated.database_name,
                                        "TableName": ALERTS_TABLE, "Region": Aws.REGION, "VersionId": "LATEST",
                                        "RoleARN": role.role_arn}})
