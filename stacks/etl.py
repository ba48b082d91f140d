"""ETL: the Glue 5.1 PySpark curation job with its security configuration and a role
scoped to exact buckets, prefixes and the pseudonymisation secret. It writes the curated tables
the lake's catalog declares (stacks/catalog.py). The daily pipeline starts it."""
from __future__ import annotations

from aws_cdk import Annotations, Aws, CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from aml_contract import glue_job, names, pii_access, reference, schema
from stacks import assets
from stacks.constructs import DataKey, EncryptedLogGroup, grant_secret_read
from stacks.data_lake import CURATED, RAW, DataLakeStack
from stacks.settings import Settings


class EtlStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, lake: DataLakeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(lake)
        self.raw, self.curated = lake.bucket(self, RAW), lake.bucket(self, CURATED)
        # Logs get their own key: the CloudWatch Logs service must be able to use it.
        self.key = DataKey(self, "EtlKey", settings=settings, purpose="etl",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.job_name = job_name = names.name_of(settings.env_name, "glue_job_name")
        security = glue.SecurityConfiguration(
            self, "SecurityConfiguration",
            security_configuration_name=names.name_of(settings.env_name, "glue_security_configuration"),
            s3_encryption=glue.S3Encryption.kms(lake.key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(self.key),
        )
        logs = EncryptedLogGroup(self, "JobLogs", settings=settings, key=self.key,
                                 log_group_name=f"/aws-glue/jobs/{job_name}")
        self.role = self._role(job_name, settings, lake, logs)

        self.job = glue.PySparkEtlJob(
            self, "CurateTransactions", job_name=job_name, role=self.role,
            description="DMS raw zone -> validated, CDC-merged, pseudonymised curated Parquet",
            glue_version=glue.GlueVersion.V5_1,
            script=glue.Code.from_asset(str(assets.require(assets.GLUE_ENTRY_SCRIPT))),
            extra_python_files=[glue.Code.from_asset(str(assets.glue_extra_python_zip()))],
            worker_configuration=glue.WorkerConfiguration(
                worker_type=glue.WorkerType[settings.etl.worker_type.replace(".", "_")],
                number_of_workers=settings.etl.workers),
            timeout=Duration.minutes(settings.etl.timeout_minutes), max_retries=0, max_concurrent_runs=1,
            security_configuration=security,
            enable_metrics=True, enable_observability_metrics=True,
            continuous_logging=glue.ContinuousLoggingProps(enabled=True, log_group=logs, quiet=True),
            default_arguments=glue_job.default_arguments(
                self.raw.bucket_name, self.curated.bucket_name, lake.pseudonymization_secret_name),
        )
        # The construct warns of any argument whose name says "secret"; this one holds the secret's
        # name, and the job reads the key from Secrets Manager at run time (glue_jobs/curate_transactions.py).
        Annotations.of(self.job).acknowledge_warning(
            "@aws-cdk/aws-glue-alpha:plaintextJobArgumentSecret",
            "--pseudonymization_secret_id is the secret's name; the job reads the value from Secrets Manager")
        # No trigger of its own: the daily pipeline (stacks/daily_pipeline.py) runs it (.sync) when raw
        # files are new; a schedule beside it would collide with that run (max_concurrent_runs=1).
        CfnOutput(self, names.output_key("glue_job_name"), value=job_name)

    def _role(self, job_name: str, settings: Settings, lake: DataLakeStack, logs: EncryptedLogGroup) -> iam.Role:
        role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                        description="Curation job: reads the raw zone, writes curated Parquet and quarantine")
        Tags.of(role).add(pii_access.WORKLOAD_TAG, pii_access.CURATION_JOB)  # a listed PII reader
        raw, curated = self.raw, self.curated
        # The prefixes come from the job's interface (aml_contract.glue_job), as its arguments do.
        curated_owned = (*glue_job.TABLES_WRITTEN, glue_job.STATE_PREFIX)
        statements = [
            iam.PolicyStatement(sid="ListOwnPrefixes", actions=["s3:ListBucket"], resources=[raw.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [
                                    f"{p}/*" for p in (schema.RAW_PREFIX, glue_job.QUARANTINE)]}}),
            iam.PolicyStatement(sid="ReadRawZone", actions=["s3:GetObject"],
                                resources=[raw.arn_for_objects(f"{schema.RAW_PREFIX}/*")]),
            iam.PolicyStatement(sid="WriteQuarantine", actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                                resources=[raw.arn_for_objects(f"{glue_job.QUARANTINE}/*")]),
            iam.PolicyStatement(sid="ListCurated", actions=["s3:ListBucket"], resources=[curated.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [
                                    f"{p}/*" for p in (*curated_owned, reference.PREFIX)]}}),
            # The reference datasets (currencies, FX rates, FATF lists: aml_contract.reference),
            # read only: `cdk deploy` publishes them (stacks/reference_data.py).
            iam.PolicyStatement(sid="ReadReferenceData", actions=["s3:GetObject"],
                                resources=[curated.arn_for_objects(f"{reference.PREFIX}/*")]),
            # The datasets it derives from the curated zone (the segment statistics), written whole
            # by key (rows, then manifest): never read, listed or deleted by the job.
            iam.PolicyStatement(sid="PublishDerivedDatasets", actions=["s3:PutObject"],
                                resources=[curated.arn_for_objects(f"{reference.table_prefix(d)}*")
                                           for d in reference.DERIVED_DATASETS]),
            iam.PolicyStatement(sid="WriteCuratedAndState", actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                                resources=[curated.arn_for_objects(f"{p}/*") for p in curated_owned]),
            # EMRFS asks for a folder's status with a HEAD of its key before listing it: without
            # s3:GetObject on the bare `transactions` key S3 answers 403, not 404.
            iam.PolicyStatement(sid="StatTableFolders", actions=["s3:GetObject"],
                                resources=[curated.arn_for_objects(t) for t in glue_job.TABLES_WRITTEN]),
            iam.PolicyStatement(sid="DataKey", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                                resources=[lake.key.key_arn, self.key.key_arn]),
            # Glue writes driver/executor logs under /aws-glue/jobs/<security configuration>-role/...
            # and associates our key with the groups it creates.
            iam.PolicyStatement(sid="JobLogs", actions=["logs:CreateLogGroup", "logs:CreateLogStream",
                                                        "logs:PutLogEvents", "logs:AssociateKmsKey"],
                                resources=[f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}"
                                           f":log-group:/aws-glue/jobs/*"]),
            iam.PolicyStatement(sid="JobMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
                                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}}),
        ]
        policy = iam.Policy(self, "JobPolicy", statements=statements)
        policy.attach_to_role(role)
        grant_secret_read(role, lake.pseudonymization_secret_name, lake.key)
        logs.grant_write(role)
        return role
