"""Replication (DMS): task 1 full load + CDC of `core.*` to the raw zone as Parquet, task 2 CDC of
transactions to Kinesis partitioned by the originator account. Credentials come from Secrets
Manager through a role: the password never appears in the template."""
from __future__ import annotations

import json

from aws_cdk import CfnOutput, Stack, aws_dms
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from aml_contract import dms, names, schema
from aml_contract.names import REALTIME_PARTITION_KEY
from stacks.constructs import DataKey, grant_secret_read
from stacks.data_lake import RAW, DataLakeStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack
from stacks.settings import Settings
from stacks.streaming import StreamingStack


def core_selection(rule_id: int = 1, table: str = "%") -> dict:
    return {"rule-type": "selection", "rule-id": str(rule_id), "rule-name": f"include-core-{rule_id}",
            "object-locator": {"schema-name": schema.SOURCE_SCHEMA, "table-name": table},
            "rule-action": "include"}


def s3_table_mappings() -> str:
    return json.dumps({"rules": [core_selection()]})


def kinesis_table_mappings() -> str:
    """Only transactions go to the stream; each record's partition key is the originator account,
    so all of one account's transactions land on one shard, in order."""
    return json.dumps({"rules": [
        core_selection(1, "transactions"),
        {"rule-type": "object-mapping", "rule-id": "2", "rule-name": "partition-by-originator",
         "rule-action": "map-record-to-record",
         "object-locator": {"schema-name": schema.SOURCE_SCHEMA, "table-name": "transactions"},
         "mapping-parameters": {"partition-key-type": "attribute-name",
                                "partition-key-name": REALTIME_PARTITION_KEY}},
    ]})


def task_settings(before_image: bool = False) -> str:
    """Limited LOB mode: free-text columns (`text`, DMS's NCLOB) replicate up to LobMaxSize KB;
    with SupportLobs false DMS would leave them out. Full LOB mode (LOBs looked up row by row) is
    not needed for fields of at most a few hundred characters. See aml_contract.dms."""
    return json.dumps({
        "Logging": {"EnableLogging": True},
        "TargetMetadata": {"SupportLobs": True, "FullLobMode": False, "LimitedSizeLobMode": True,
                           "LobMaxSize": dms.LOB_MAX_SIZE_KB},
        "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "TableErrorPolicy": "SUSPEND_TABLE",
                          "RecoverableErrorCount": -1, "FailOnNoTablesCaptured": True},
        "ValidationSettings": {"EnableValidation": False},
        # The stream's updates carry the old primary key, so a key change is caught, not trusted.
        **({"BeforeImageSettings": dms.BEFORE_IMAGE_SETTINGS} if before_image else {}),
    })


class DmsAccountRoles(Construct):
    """dms-vpc-role and dms-cloudwatch-logs-role: fixed names DMS looks up in the account."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        principal = iam.ServicePrincipal("dms.amazonaws.com")
        self.vpc_role = iam.Role(self, "VpcRole", role_name="dms-vpc-role", assumed_by=principal,
                                 managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                     "service-role/AmazonDMSVPCManagementRole")])
        self.logs_role = iam.Role(self, "CloudWatchLogsRole", role_name="dms-cloudwatch-logs-role",
                                  assumed_by=principal,
                                  managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                      "service-role/AmazonDMSCloudWatchLogsRole")])


class ReplicationStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, network: NetworkStack,
                 lake: DataLakeStack, database: DatabaseStack, streaming: StreamingStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        env, cfg = settings.env_name, settings.replication
        self.add_stack_dependency(lake)
        self.raw = lake.bucket(self, RAW)
        self.key = DataKey(self, "ReplicationKey", settings=settings, purpose="replication")
        account_roles = None if cfg.account_roles_exist else DmsAccountRoles(self, "AccountRoles")

        subnets = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        subnet_group = aws_dms.CfnReplicationSubnetGroup(
            self, "SubnetGroup", replication_subnet_group_identifier=names.name_of(env, "dms_instance"),
            replication_subnet_group_description="DMS replication instance subnets (isolated, 2 AZs)",
            subnet_ids=subnets.subnet_ids)
        if account_roles:
            subnet_group.node.add_dependency(account_roles)
        self.security_group = database.replication_security_group

        self.instance = aws_dms.CfnReplicationInstance(
            self, "Instance", replication_instance_identifier=names.name_of(env, "dms_instance"),
            replication_instance_class=cfg.instance_class, allocated_storage=cfg.allocated_storage_gb,
            replication_subnet_group_identifier=subnet_group.ref,
            vpc_security_group_ids=[self.security_group.security_group_id],
            publicly_accessible=False, multi_az=False, kms_key_id=self.key.key_arn,
            auto_minor_version_upgrade=True)

        source = self._source_endpoint(env, settings, database)
        s3_target = self._s3_target(env, lake)
        kinesis_target = self._kinesis_target(env, streaming)
        self.raw_task = aws_dms.CfnReplicationTask(
            self, "RawZoneTask", replication_task_identifier=names.name_of(env, "raw_zone_task"),
            migration_type="full-load-and-cdc", replication_instance_arn=self.instance.ref,
            source_endpoint_arn=source.ref, target_endpoint_arn=s3_target.ref,
            table_mappings=s3_table_mappings(), replication_task_settings=task_settings())
        self.stream_task = aws_dms.CfnReplicationTask(
            self, "StreamTask", replication_task_identifier=names.name_of(env, "stream_task"),
            migration_type="cdc", replication_instance_arn=self.instance.ref,
            source_endpoint_arn=source.ref, target_endpoint_arn=kinesis_target.ref,
            table_mappings=kinesis_table_mappings(), replication_task_settings=task_settings(before_image=True))
        CfnOutput(self, names.output_key("raw_zone_task"), value=self.raw_task.ref)
        CfnOutput(self, names.output_key("stream_task"), value=self.stream_task.ref)

    def _access_role(self, id: str, description: str) -> iam.Role:
        return iam.Role(self, id, assumed_by=iam.ServicePrincipal("dms.amazonaws.com"), description=description)

    def _source_endpoint(self, env: str, settings: Settings, database: DatabaseStack) -> aws_dms.CfnEndpoint:
        role = self._access_role("SourceSecretRole", "DMS reads the core banking admin secret")
        grant_secret_read(role, database.secret_name, database.key)
        return aws_dms.CfnEndpoint(
            self, "SourceEndpoint", endpoint_identifier=names.name_of(env, "dms_source_endpoint"),
            endpoint_type="source", engine_name="aurora-postgresql",
            database_name=settings.database.database_name, ssl_mode="require",
            postgre_sql_settings=aws_dms.CfnEndpoint.PostgreSqlSettingsProperty(
                secrets_manager_secret_id=database.secret_name,  # DMS accepts the name
                secrets_manager_access_role_arn=role.role_arn,
                heartbeat_enable=True,  # keeps the replication slot advancing on an idle database
                slot_name=None),
            kms_key_id=self.key.key_arn)

    def _s3_target(self, env: str, lake: DataLakeStack) -> aws_dms.CfnEndpoint:
        role = self._access_role("RawZoneRole", "DMS writes Parquet to the raw zone")
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
            resources=[self.raw.arn_for_objects(f"{schema.RAW_PREFIX}/*")]))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.raw.bucket_arn]))
        role.add_to_policy(iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                               resources=[lake.key.key_arn]))
        return aws_dms.CfnEndpoint(
            self, "RawZoneEndpoint", endpoint_identifier=names.name_of(env, "dms_raw_zone_endpoint"),
            endpoint_type="target", engine_name="s3",
            s3_settings=aws_dms.CfnEndpoint.S3SettingsProperty(
                bucket_name=self.raw.bucket_name, bucket_folder=schema.RAW_PREFIX,
                service_access_role_arn=role.role_arn,
                data_format="parquet", parquet_version="parquet-2-0", parquet_timestamp_in_millisecond=True,
                include_op_for_full_load=True, timestamp_column_name=schema.DMS_COMMIT_TS_COLUMN,
                use_task_start_time_for_full_load_timestamp=dms.FULL_LOAD_TIMESTAMP == "task-start",
                date_partition_enabled=True, date_partition_sequence="YYYYMMDD",
                date_partition_delimiter="SLASH",
                encryption_mode="SSE_KMS", server_side_encryption_kms_key_id=lake.key.key_arn,
                add_column_name=True),
        )

    def _kinesis_target(self, env: str, streaming: StreamingStack) -> aws_dms.CfnEndpoint:
        role = self._access_role("StreamRole", "DMS puts CDC records on the transactions stream")
        # What DMS's Kinesis target needs (CHAP_Target.Kinesis prerequisites), where the stream
        # grant would also give ListShards and key re-encryption: describe, put, and data keys.
        role.add_to_policy(iam.PolicyStatement(
            actions=["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"],
            resources=[streaming.stream.stream_arn]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["kms:GenerateDataKey"], resources=[streaming.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"kinesis.{self.region}.amazonaws.com"}}))
        return aws_dms.CfnEndpoint(
            self, "StreamEndpoint", endpoint_identifier=names.name_of(env, "dms_stream_endpoint"),
            endpoint_type="target", engine_name="kinesis",
            kinesis_settings=aws_dms.CfnEndpoint.KinesisSettingsProperty(
                stream_arn=streaming.stream.stream_arn, service_access_role_arn=role.role_arn,
                message_format="json", include_transaction_details=True,
                include_null_and_empty=True, partition_include_schema_table=False,
                # Column and table changes arrive as control records: the rules Lambda counts
                # them and the SourceSchemaChanged alarm fires.
                include_table_alter_operations=True, include_control_details=True),
        )
