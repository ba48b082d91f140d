"""Small constructs for the patterns every stack repeats."""
from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import local_mode
from stacks.settings import Settings


def removal_policy(settings: Settings) -> RemovalPolicy:
    """RETAIN data stores unless the explicit destroy flag is set."""
    return RemovalPolicy.DESTROY if settings.removal_policy_destroy else RemovalPolicy.RETAIN


class DataKey(kms.Key):
    """A customer-managed key with yearly rotation and an alias naming its purpose."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, purpose: str,
                 service_principals: tuple[str, ...] = ()) -> None:
        super().__init__(
            scope, id, enable_key_rotation=True, alias=f"alias/aml/{settings.env_name}/{purpose}",
            description=f"AML {settings.env_name}: {purpose}", removal_policy=removal_policy(settings),
            pending_window=Duration.days(30))
        region, account = Stack.of(self).region, Stack.of(self).account
        for service in service_principals:
            # Services that encrypt on their own behalf (CloudWatch Logs, alarms to SNS) need the
            # key policy; the condition keeps them to this account.
            self.add_to_resource_policy(iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[iam.ServicePrincipal(service.format(region=region))],
                resources=["*"],  # a key policy's Resource is always the key itself
                conditions={"StringEquals": {"aws:SourceAccount": account}} if "logs" not in service else {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                f"arn:{Stack.of(self).partition}:logs:{region}:{account}:log-group:*"}},
            ))


class EncryptedLogGroup(logs.LogGroup):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey,
                 log_group_name: str | None = None) -> None:
        super().__init__(
            scope, id, log_group_name=log_group_name, encryption_key=key,
            retention=_retention(settings.log_retention_days), removal_policy=removal_policy(settings))


_RETENTION = {7: logs.RetentionDays.ONE_WEEK, 30: logs.RetentionDays.ONE_MONTH,
              90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS,
              365: logs.RetentionDays.ONE_YEAR, 731: logs.RetentionDays.TWO_YEARS,
              1827: logs.RetentionDays.FIVE_YEARS, 3653: logs.RetentionDays.TEN_YEARS}


def _retention(days: int) -> logs.RetentionDays:
    if days in _RETENTION:
        return _RETENTION[days]
    raise ValueError(f"log_retention_days {days} is not one of {sorted(_RETENTION)}")


class ContractTable(dynamodb.Table):
    """A DynamoDB table with a contract key schema (aml_contract.names *_TABLE_KEYS: string
    partition and optional sort key, TTL attribute), on demand, encrypted with our key,
    point-in-time recovery on, deletion-protected unless the destroy flag is set."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, table_name: str, keys: dict[str, str],
                 key: kms.IKey, indexes: tuple[dict[str, str], ...] = ()) -> None:
        sort = keys.get("sort")
        super().__init__(
            scope, id, table_name=table_name,
            partition_key=dynamodb.Attribute(name=keys["partition"], type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING) if sort else None,
            time_to_live_attribute=keys["ttl"], billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=not settings.removal_policy_destroy,
            removal_policy=removal_policy(settings))
        for index in indexes:  # string keys, every attribute projected (names.TABLE_INDEXES)
            self.add_global_secondary_index(
                index_name=index["name"],
                partition_key=dynamodb.Attribute(name=index["partition"], type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=index["sort"], type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL)


class SecureBucket(s3.Bucket):
    """A data bucket: our KMS key with bucket keys, TLS only, no public access, versioned,
    access-logged, multipart uploads aborted, and uploads under any other key denied."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, bucket_name: str,
                 access_logs: s3.IBucket, lifecycle_rules: list[s3.LifecycleRule] | None = None) -> None:
        destroy = settings.removal_policy_destroy
        super().__init__(
            scope, id, bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS, encryption_key=key, bucket_key_enabled=True,
            enforce_ssl=True, minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs, server_access_logs_prefix=f"{id.lower()}/",
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-multipart", abort_incomplete_multipart_upload_after=Duration.days(7)),
                s3.LifecycleRule(id="expire-noncurrent", noncurrent_version_expiration=Duration.days(90)),
                *(lifecycle_rules or []),
            ],
            removal_policy=removal_policy(settings),
            auto_delete_objects=destroy and not local_mode.omitted(settings.local, "auto-delete-objects"),
        )
        # Defence in depth beside default encryption: a PUT naming another key (or SSE-S3) is refused.
        self.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyOtherEncryptionKeys", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"], resources=[self.arn_for_objects("*")],
            conditions={"StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": key.key_arn}}))
        self.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyNonKmsEncryption", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"], resources=[self.arn_for_objects("*")],
            conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}))


class AccessLogsBucket(s3.Bucket):
    """Target of server access logs: S3 delivers them only to SSE-S3 buckets."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, bucket_name: str) -> None:
        super().__init__(
            scope, id, bucket_name=bucket_name, encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-multipart", abort_incomplete_multipart_upload_after=Duration.days(7)),
                s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365),
                                 noncurrent_version_expiration=Duration.days(30)),
            ],
            removal_policy=removal_policy(settings),
            auto_delete_objects=settings.removal_policy_destroy
            and not local_mode.omitted(settings.local, "auto-delete-objects"),
        )


def secret_arn_by_name(name: str) -> str:
    """A secret's ARN from its name: Secrets Manager appends six random characters."""
    return f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{name}-??????"


def grant_secret_read(grantee: iam.IGrantable, secret_name: str, key: kms.IKey) -> None:
    """Read one secret from another stack by name: no cross-stack reference to the secret, and no
    edit of the key policy in the secret's stack (which would make it depend on the reader's):
    identity policy only, key use only through Secrets Manager (the key policy delegates to IAM)."""
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["secretsmanager:GetSecretValue"], resources=[secret_arn_by_name(secret_name)]))
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["kms:Decrypt"], resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(key).region}.amazonaws.com"}}))
