"""Core banking database: Aurora PostgreSQL Serverless v2 with logical replication for DMS, the
RDS Data API, rotated credentials in Secrets Manager, the `core` schema created at deploy, and the
key reconciliation's read-only login (IAM authentication; SELECT on key and change-time columns)."""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from aml_contract import key_reconciliation, names
from aml_contract.schema import postgres_ddl
from stacks import local_mode
from stacks.constructs import DataKey, EncryptedLogGroup, removal_policy
from stacks.network import NetworkStack
from stacks.settings import Settings

ADMIN_USER = "aml_admin"
# Stand-ins for the cluster's attributes in a local deployment; the local bindings point the
# function at the embedded PostgreSQL server instead.
LOCAL_READER_HOST, LOCAL_CLUSTER_RESOURCE_ID = "localhost", "cluster-LOCAL"


def ddl_statements() -> list[str]:
    """The Data API runs one statement per call: the `core` schema, then the reconciliation's
    read-only login with IAM authentication (aml_contract.key_reconciliation.reader_role_sql)."""
    return ([s.strip() + ";" for s in postgres_ddl().split(";\n") if s.strip().rstrip(";")]
            + [s + ";" for s in key_reconciliation.reader_role_sql(iam_authentication=True)])


class DatabaseStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, network: NetworkStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        db = settings.database
        self.port = db.port
        self.key = DataKey(self, "DatabaseKey", settings=settings, purpose="database",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.cluster_identifier = names.name_of(settings.env_name, "database_cluster")
        self.secret_name = names.name_of(settings.env_name, "database_admin_secret")
        # Created before the cluster so exported logs land encrypted with a bounded retention.
        log_group = EncryptedLogGroup(self, "PostgresLogs", settings=settings, key=self.key,
                                      log_group_name=f"/aws/rds/cluster/{self.cluster_identifier}/postgresql")

        self.security_group = ec2.SecurityGroup(self, "DatabaseSg", vpc=network.vpc, allow_all_outbound=False,
                                                description="Aurora core banking: PostgreSQL from DMS and rotation")
        parameters = rds.ParameterGroup(
            self, "ClusterParameters",
            engine=self.engine(db.engine_version),
            description="Logical replication for DMS CDC; TLS only",
            parameters={"rds.logical_replication": "1", "rds.force_ssl": "1",
                        "log_min_duration_statement": "1000", "log_connections": "1", "log_disconnections": "1"},
        )
        self.cluster = rds.DatabaseCluster(
            self, "Cluster",
            cluster_identifier=self.cluster_identifier,
            engine=self.engine(db.engine_version),
            writer=rds.ClusterInstance.serverless_v2("writer", enable_performance_insights=True,
                                                     performance_insight_encryption_key=self.key),
            readers=[rds.ClusterInstance.serverless_v2(f"reader{i}", scale_with_writer=True,
                                                       enable_performance_insights=True,
                                                       performance_insight_encryption_key=self.key)
                     for i in range(db.reader_count)],
            serverless_v2_min_capacity=db.min_acu, serverless_v2_max_capacity=db.max_acu,
            vpc=network.vpc, vpc_subnets=network.private_subnets, security_groups=[self.security_group],
            port=db.port, default_database_name=db.database_name,
            credentials=rds.Credentials.from_generated_secret(
                ADMIN_USER, encryption_key=self.key, secret_name=self.secret_name),
            storage_encrypted=True, storage_encryption_key=self.key,
            iam_authentication=True, enable_data_api=True,
            parameter_group=parameters,
            backup=rds.BackupProps(retention=Duration.days(db.backup_retention_days),
                                   preferred_window="02:00-03:00"),
            preferred_maintenance_window="sun:03:30-sun:04:30",
            cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=Duration.seconds(60),
            deletion_protection=not settings.removal_policy_destroy,
            copy_tags_to_snapshot=True,
            removal_policy=removal_policy(settings),
        )
        self.cluster.node.add_dependency(log_group)
        if local_mode.omitted(settings.local, "aurora-instance-engine-version"):
            for child in self.cluster.node.find_all():
                if isinstance(child, rds.CfnDBInstance):
                    child.add_property_override("EngineVersion", db.engine_version)
        self.secret = self.cluster.secret

        # Hosted rotation: the Lambda runs in the isolated subnets and reaches Secrets Manager
        # through the VPC endpoint; the database admits it on its port only.
        rotation_sg = ec2.SecurityGroup(self, "RotationSg", vpc=network.vpc,
                                        description="Secrets Manager rotation Lambda for the admin secret")
        self.allow_from(rotation_sg, "credential rotation")
        self.secret.add_rotation_schedule(
            "Rotation", automatically_after=Duration.days(30),
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                function_name=names.name_of(settings.env_name, "database_secret_rotation"),
                vpc=network.vpc, vpc_subnets=network.private_subnets, security_groups=[rotation_sg]))

        # DMS's security group lives here, beside the database it reaches: a rule between two
        # stacks' groups would make each stack depend on the other.
        self.replication_security_group = ec2.SecurityGroup(
            self, "ReplicationSg", vpc=network.vpc, allow_all_outbound=False,
            description="DMS replication instance: PostgreSQL to the database, HTTPS to VPC endpoints")
        self.replication_security_group.add_egress_rule(self.security_group, ec2.Port.tcp(self.port), "source database")
        self.replication_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                                                        "AWS APIs via VPC endpoints (no internet route)")
        self.allow_from(self.replication_security_group, "DMS replication instance")

        # The daily pipeline's key reconciliation function (a VPC Lambda) reads the keys through
        # the reader endpoint as a read-only login; its group lives here for the same reason.
        self.reconciliation_security_group = ec2.SecurityGroup(
            self, "ReconciliationSg", vpc=network.vpc, allow_all_outbound=False,
            description="Key reconciliation function: PostgreSQL to the database, HTTPS to VPC endpoints")
        self.reconciliation_security_group.add_egress_rule(self.security_group, ec2.Port.tcp(self.port), "source database")
        self.reconciliation_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                                                           "AWS APIs via VPC endpoints (no internet route)")
        self.allow_from(self.reconciliation_security_group, "key reconciliation (read-only login)")
        self.reader_role = key_reconciliation.READER_ROLE
        # What the reconciliation function needs of the cluster: its reader endpoint and resource id
        # (for the rds-db:connect ARN). The local emulator cannot export them (stacks.local_mode).
        if local_mode.omitted(settings.local, "aurora-cluster-attributes"):
            self.reader_host, self.cluster_resource_id = LOCAL_READER_HOST, LOCAL_CLUSTER_RESOURCE_ID
        else:
            self.reader_host = self.cluster.cluster_read_endpoint.hostname
            self.cluster_resource_id = self.cluster.cluster_resource_identifier

        if not local_mode.omitted(settings.local, "core-schema"):
            self._create_schema(settings, network)

        CfnOutput(self, names.output_key("database_cluster"), value=self.cluster.cluster_arn)
        CfnOutput(self, names.output_key("database_admin_secret"), value=self.secret.secret_arn)

    @staticmethod
    def engine(version: str) -> rds.IClusterEngine:
        major = version.split(".")[0]
        return rds.DatabaseClusterEngine.aurora_postgres(
            version=rds.AuroraPostgresEngineVersion.of(version, major))

    def allow_from(self, peer: ec2.ISecurityGroup, why: str) -> None:
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(self.port), why)

    def _create_schema(self, settings: Settings, network: NetworkStack) -> None:
        """One AwsCustomResource per DDL statement (the Data API runs one statement per call),
        chained so they run in order; every statement is idempotent (IF NOT EXISTS)."""
        policy = cr.AwsCustomResourcePolicy.from_statements([
            iam.PolicyStatement(actions=["rds-data:ExecuteStatement"], resources=[self.cluster.cluster_arn]),
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.secret.secret_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key.key_arn]),
        ])
        log_group = EncryptedLogGroup(self, "SchemaLogs", settings=settings, key=self.key)
        previous: Construct = self.cluster
        for i, sql in enumerate(ddl_statements()):
            call = cr.AwsSdkCall(
                service="rds-data", action="ExecuteStatement",
                parameters={"resourceArn": self.cluster.cluster_arn, "secretArn": self.secret.secret_arn,
                            "database": settings.database.database_name, "sql": sql},
                physical_resource_id=cr.PhysicalResourceId.of(f"core-schema-{i}"))
            statement = cr.AwsCustomResource(
                self, f"CoreSchema{i}", on_create=call, on_update=call, policy=policy,
                install_latest_aws_sdk=False, log_group=log_group, timeout=Duration.minutes(5),
                vpc=network.vpc, vpc_subnets=network.private_subnets)
            statement.node.add_dependency(previous)
            previous = statement
