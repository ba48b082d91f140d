"""Analytics: the analysts' Athena workgroup (engine v3, enforced configuration, SSE_KMS results,
bytes-scanned cutoff, CloudWatch metrics), one named query per athena_queries/*.sql, and the
analyst managed policy (run queries in this workgroup, read the curated zone only)."""
from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from constructs import Construct

from aml_contract import names, reference
from aml_contract.named_queries import load_all
from aml_contract.schema import CURATED_TABLES
from stacks.catalog import TABLES
from stacks.data_lake import CURATED, RESULTS, DataLakeStack
from stacks.settings import Settings

RESULTS_PREFIX = names.ATHENA_RESULTS_PREFIX  # the workgroup's output location in the results bucket
# What analysts read in the curated bucket: each curated table's folder, the reference data and
# the folder of each dataset the Glue job derives (never the rest of statistics/).
READABLE_PREFIXES = (*CURATED_TABLES, reference.PREFIX,
                     *(reference.table_prefix(d).rstrip("/") for d in reference.DERIVED_DATASETS))


class AnalyticsStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, lake: DataLakeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(lake)
        self.curated, self.results = lake.bucket(self, CURATED), lake.bucket(self, RESULTS)
        name = names.name_of(settings.env_name, "athena_workgroup")
        self.workgroup = athena.CfnWorkGroup(
            self, "Workgroup", name=name, state="ENABLED",
            description="AML analysts: curated zone only, encrypted results, per-query scan limit",
            recursive_delete_option=settings.removal_policy_destroy,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.analytics.bytes_scanned_cutoff_per_query,
                requester_pays_enabled=False,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/{RESULTS_PREFIX}/",
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=lake.key.key_arn)),
            ))
        database = lake.catalog.database_name
        self.named_queries = []
        for query in load_all():
            named = athena.CfnNamedQuery(
                self, f"Query{query.name.title().replace('_', '')}", name=query.name,
                description=query.description[:1024], query_string=query.sql, database=database,
                work_group=name)
            named.add_resource_dependency(self.workgroup)
            self.named_queries.append(named)
        self.analyst_policy = self._analyst_policy(settings, lake, name)
        CfnOutput(self, names.output_key("athena_workgroup"), value=name)
        CfnOutput(self, names.output_key("analyst_policy"), value=self.analyst_policy.managed_policy_arn)

    def _analyst_policy(self, settings: Settings, lake: DataLakeStack, workgroup: str) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self, "AnalystPolicy", managed_policy_name=names.name_of(settings.env_name, "analyst_policy"),
            description="Run Athena queries in the AML workgroup over the curated zone (no raw zone, no PII)",
            statements=[
                iam.PolicyStatement(sid="RunQueriesInWorkgroup", actions=[
                    "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                    "athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:BatchGetQueryExecution",
                    "athena:ListQueryExecutions", "athena:GetWorkGroup", "athena:GetNamedQuery",
                    "athena:ListNamedQueries", "athena:BatchGetNamedQuery"],
                    resources=[f"arn:{Aws.PARTITION}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{workgroup}"])])
        # No GetPartition(s): partition projection computes partitions from the table.
        lake.catalog.grant_read(policy, TABLES, sid="ReadCuratedCatalog")  # curated and reference tables
        policy.add_statements(
            iam.PolicyStatement(sid="ListCurated", actions=["s3:ListBucket", "s3:GetBucketLocation"],
                                resources=[self.curated.bucket_arn]),
            iam.PolicyStatement(sid="ReadCurated", actions=["s3:GetObject"],
                                resources=[self.curated.arn_for_objects(f"{p}/*") for p in READABLE_PREFIXES]),
            iam.PolicyStatement(sid="QueryResults", actions=[
                "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[self.results.arn_for_objects(f"{RESULTS_PREFIX}/*")]),
            iam.PolicyStatement(sid="ResultsBucketLocation", actions=["s3:GetBucketLocation"],
                                resources=[self.results.bucket_arn]),
            # Athena encrypts results and reads curated objects with the lake key on the
            # caller's behalf, only through S3 in this region.
            iam.PolicyStatement(sid="LakeKeyViaS3", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[lake.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}),
        )
        return policy
