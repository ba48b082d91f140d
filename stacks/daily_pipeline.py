"""The daily pipeline (aml_contract.daily_pipeline): a Standard Step Functions state machine run
once a day by EventBridge Scheduler and on demand.

    Plan -> NewRawData? -> [CurateRaw] -> ScenarioQueries (Map: RunQuery -> QueryResult)
    -> BatchAlerts -> LoadProfiles -> CuratedKeyDigest -> ReconcileDigests -> KeysToList? -> [ListCuratedKeys]
    -> ReconcileKeys -> Report -> Summary;  any step failing after its retries -> NotifyFailure -> Failed

A stack of its own, the last one: it uses what the others own (the Glue job, the analysts'
workgroup over the curated database, the alerts table, topic and delivery stream, the profiles
table, the alarm topic)
and owns only its functions, the state machine, the schedule and the key reconciliation's alarms, so
none of those stacks depends on it. The reconciliation function reaches the source database with the
security group, reader endpoint and read-only login the database stack owns (cross-stack references). Other stacks' resources are named literally (names, pseudo parameters), as the stacks
already do, except the KMS keys, whose ARNs only their stacks know (cross-stack references).

Topics: the summary goes to the alerts topic (the analysts', who act on the day's alerts and the
report; a `kind` message attribute lets a subscription filter it), failures to the alarm topic
(operations, beside the CloudWatch alarms).

Least privilege is written by hand: each function has its own role with exactly the calls its
handler makes, and the state machine role's policy is replaced by the statements its steps need
(CDK's Athena task would grant S3 on every bucket, s3:CreateBucket, lakeformation:GetDataAccess and
Glue database/table writes on `*`). tests/unit/infra/access proves each call allowed.
"""
from __future__ import annotations

import re

from aws_cdk import Aws, CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from aml_contract import daily_pipeline, names, pii_access, reference, schema
from aml_contract import key_reconciliation as reconciliation
from aml_contract.daily_pipeline import (
    DATA_KEY_ENV,
    INPUT_FIELD,
    PHASE_FIELD,
    PSEUDONYMIZATION_SECRET_ENV,
    RUN_ID_FIELD,
    SOURCE_DB_ENV,
    STATE_FIELD,
    STEP_FIELDS,
)
from aml_contract.glue_job import PROCESSED_FILES as PROCESSED_FILES_KEY
from aml_contract.glue_job import RUNS_PREFIX
from aml_contract.named_queries import REPORT_QUERIES_DIR, load_all
from stacks import assets, lambda_runtime
from stacks.analytics import RESULTS_PREFIX, AnalyticsStack
from stacks.catalog import TABLES
from stacks.constructs import DataKey, EncryptedLogGroup, grant_secret_read
from stacks.data_lake import CURATED, RAW, RESULTS, DataLakeStack
from stacks.database import DatabaseStack
from stacks.etl import EtlStack
from stacks.function_environments import pipeline_function_environment
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.settings import Settings
from stacks.streaming import StreamingStack

# The fields of each Lambda step's output (aml_contract.daily_pipeline's docstring). A JSONPath
# ResultSelector cannot unwrap the invoke response's Payload whole, so it names these fields:
# `$.<result key>` is then exactly the handler's object, and a handler that omits one fails the step.
SUMMARY_KIND = {"kind": "daily_pipeline_summary"}  # the Summary's message attribute on the alerts topic
# Step Functions' log delivery and X-Ray actions support no resource-level permissions: AWS documents
# them on "*" (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy,
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html).
LOG_DELIVERY_ACTIONS = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets")
# Lambda creates a VPC function's network interfaces with its role; no resource-level permissions
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")


# What the Report step reads in the curated bucket to draw its HTML report (aml_report.documents):
# the curation runs' manifests and the daily run reports (its own JSON among them).
REPORT_DOCUMENT_PREFIXES = (RUNS_PREFIX, daily_pipeline.REPORTS_PREFIX)


def tables_queried() -> tuple[str, ...]:
    """The curated database's tables the pipeline's queries read (a FROM or JOIN of the name): the
    scenario and profiles queries, the report's (athena_queries/report/), and the key reconciliation's two."""
    texts = " ".join([*(q.sql.lower() for q in (*load_all(), *load_all(REPORT_QUERIES_DIR))),
                      reconciliation.curated_digest_sql().lower()])
    return tuple(t for t in TABLES if re.search(rf"\b(from|join)\s+{t}\b", texts))


def table_object_prefix(table: str) -> str:
    """The object-key prefix of a table's data in the curated bucket (catalog: tables at <name>/,
    reference datasets at aml_contract.reference.table_prefix)."""
    return reference.table_prefix(table) if table not in schema.CURATED_TABLES else f"{table}/"


def arn(service: str, resource: str) -> str:
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


class DailyPipelineStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, network: NetworkStack, lake: DataLakeStack,
                 database: DatabaseStack, etl: EtlStack, analytics: AnalyticsStack, streaming: StreamingStack,
                 monitoring: MonitoringStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        for stack in (etl, analytics, streaming, monitoring):  # named literally: deploy after them
            self.add_stack_dependency(stack)
        self.settings, env = settings, settings.env_name
        self.lake, self.streaming_key, self.alarms_key = lake, streaming.key, monitoring.key
        # Its functions' logs and environment, the state machine's logs and the schedule.
        self.key = DataKey(self, "PipelineKey", settings=settings, purpose="pipeline",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.buckets = lake.bucket_names
        self.alerts_table_arn = arn("dynamodb", f"table/{names.name_of(env, 'alerts_table')}")
        self.profiles_table_arn = arn("dynamodb", f"table/{names.name_of(env, 'profiles_table')}")
        self.alerts_topic_arn = arn("sns", names.name_of(env, "alerts_topic_arn"))
        self.alarm_topic_arn = arn("sns", names.name_of(env, "alarm_topic"))
        self.delivery_stream = names.name_of(env, "alerts_delivery_stream")
        self.job_name, self.workgroup = etl.job_name, names.name_of(env, "athena_workgroup")
        self.database = lake.catalog.database_name
        self.source = database

        self.functions = self._functions(network)
        self.state_machine = self._state_machine()
        self.key_mismatch_alarms = self._key_mismatch_alarms()
        self.schedule = self._schedule()
        CfnOutput(self, names.output_key("daily_pipeline"), value=self.state_machine.state_machine_arn)

    # ---- functions ----------------------------------------------------------------------------
    def _functions(self, network: NetworkStack) -> dict[str, lambda_.Function]:
        env, cfg = self.settings.env_name, self.settings.pipeline
        resources = {"raw_bucket": self.buckets[RAW], "curated_bucket": self.buckets[CURATED],
                     "athena_results_bucket": self.buckets[RESULTS], "alerts_table": names.name_of(env, "alerts_table"),
                     "alerts_topic_arn": self.alerts_topic_arn, "alerts_delivery_stream": self.delivery_stream,
                     "profiles_table": names.name_of(env, "profiles_table")}
        environment = pipeline_function_environment(self.settings, resources)
        security_group = ec2.SecurityGroup(self, "FunctionsSg", vpc=network.vpc, allow_all_outbound=False,
                                           description="Daily pipeline functions: HTTPS to the VPC endpoints only")
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs via VPC endpoints")
        code = assets.pipeline_lambda_code()  # one asset for every function
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", lambda_runtime.powertools_layer_arn(self.settings.streaming.powertools_layer_version))
        grants = {"plan": self._grant_plan, "batch_alerts": self._grant_batch_alerts,
                  "load_profiles": self._grant_load_profiles, "report": self._grant_report,
                  "reconcile": self._grant_reconcile}
        # The reconciliation function's own variables: the source database and the pseudonymisation secret.
        only = {"report": {DATA_KEY_ENV: self.lake.key.key_arn},
                "reconcile": {SOURCE_DB_ENV["host"]: self.source.reader_host,
                              SOURCE_DB_ENV["port"]: str(self.source.port),
                              SOURCE_DB_ENV["database"]: self.settings.database.database_name,
                              SOURCE_DB_ENV["user"]: self.source.reader_role, SOURCE_DB_ENV["iam_auth"]: "true",
                              PSEUDONYMIZATION_SECRET_ENV: self.lake.pseudonymization_secret_name}}
        functions = {}
        for step, handler in daily_pipeline.HANDLERS.items():
            name = names.name_of(env, daily_pipeline.FUNCTIONS[step])
            construct = "".join(w.title() for w in step.split("_"))  # Plan, BatchAlerts, LoadProfiles, ...
            logs = EncryptedLogGroup(self, f"{construct}Logs", settings=self.settings, key=self.key,
                                     log_group_name=f"/aws/lambda/{name}")
            role = iam.Role(self, f"{construct}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=f"Daily pipeline {step} function")
            grants[step](role)  # active tracing adds X-Ray's two actions on "*" (no resource-level permissions)
            if step == "reconcile":  # a listed PII reader: it holds the pseudonymisation key
                Tags.of(role).add(pii_access.WORKLOAD_TAG, pii_access.KEY_RECONCILIATION)
            logs.grant_write(role)
            role.add_to_policy(iam.PolicyStatement(sid="VpcNetworkInterfaces", actions=list(VPC_ACTIONS),
                                                   resources=["*"]))
            functions[step] = lambda_.Function(
                self, f"{construct}Function", function_name=name, description=f"AML daily pipeline: {step}",
                runtime=lambda_runtime.RUNTIME, architecture=lambda_runtime.ARCHITECTURE, handler=handler, code=code,
                layers=[layer], memory_size=cfg.function_memory_mb, timeout=Duration.seconds(cfg.function_timeout_seconds),
                # One run at a time is all a daily pipeline needs; a concurrent one is throttled and retried.
                reserved_concurrent_executions=1,
                tracing=lambda_.Tracing.ACTIVE, role=role, log_group=logs,
                environment={**environment, **only.get(step, {})}, environment_encryption=self.key,
                vpc=network.vpc, vpc_subnets=network.private_subnets,
                security_groups=[self.source.reconciliation_security_group if step == "reconcile" else security_group])
        return functions

    def _lake_key_via_s3(self, role: iam.Role, *actions: str) -> None:
        role.add_to_policy(iam.PolicyStatement(
            sid="LakeKeyViaS3", actions=list(actions), resources=[self.lake.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}))

    def _grant_plan(self, role: iam.Role) -> None:
        """Lists the raw zone's DMS files (what is new since the curation job's last run) and reads
        the job's processed-files manifest; a missing manifest (before the first run) must answer
        404, so ListBucket on its exact key (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)."""
        raw, curated = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RAW]}", f"arn:{Aws.PARTITION}:s3:::{self.buckets[CURATED]}"
        role.add_to_policy(iam.PolicyStatement(
            sid="ListRawZone", actions=["s3:ListBucket"], resources=[raw],
            conditions={"StringLike": {"s3:prefix": [f"{schema.RAW_PREFIX}/*"]}}))
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadProcessedFiles", actions=["s3:GetObject"], resources=[f"{curated}/{PROCESSED_FILES_KEY}"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="ListProcessedFiles", actions=["s3:ListBucket"], resources=[curated],
            conditions={"StringEquals": {"s3:prefix": [PROCESSED_FILES_KEY]}}))
        self._lake_key_via_s3(role, "kms:Decrypt")

    def _grant_batch_alerts(self, role: iam.Role) -> None:
        """Reads each scenario query's result CSV (Athena's output under results/), merges the hits
        into the alerts table (reads, conditional puts inside TransactWriteItems, updates of the
        delivery flags, a Query on its indexes), publishes and delivers the new alerts as the rules
        Lambda does (SNS, Firehose). The table and topic use the streaming key: DynamoDB and SNS
        use it for the caller (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html,
        https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
        results = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RESULTS]}"
        role.add_to_policy(iam.PolicyStatement(sid="ReadQueryResults", actions=["s3:GetObject"],
                                               resources=[f"{results}/{RESULTS_PREFIX}/*"]))
        self._lake_key_via_s3(role, "kms:Decrypt")
        role.add_to_policy(iam.PolicyStatement(
            sid="AlertItems", resources=[self.alerts_table_arn],
            actions=[f"dynamodb:{a}" for a in ("BatchGetItem", "GetItem", "Query", "PutItem", "UpdateItem")]))
        role.add_to_policy(iam.PolicyStatement(sid="AlertIndexes", actions=["dynamodb:Query"],
                                               resources=[f"{self.alerts_table_arn}/index/*"]))
        role.add_to_policy(iam.PolicyStatement(sid="PublishAlerts", actions=["sns:Publish"],
                                               resources=[self.alerts_topic_arn]))
        role.add_to_policy(iam.PolicyStatement(
            sid="DeliverAlerts", actions=["firehose:PutRecordBatch"],
            resources=[arn("firehose", f"deliverystream/{self.delivery_stream}")]))
        role.add_to_policy(iam.PolicyStatement(
            sid="StreamingKeyViaDynamoDbAndSns", actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[self.streaming_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": [f"dynamodb.{Aws.REGION}.amazonaws.com",
                                                            f"sns.{Aws.REGION}.amazonaws.com"]}}))

    def _grant_load_profiles(self, role: iam.Role) -> None:
        """Reads the profiles query's result CSV (results/), the stored profiles' as_of and hash
        (BatchGetItem) and writes the changed ones (BatchWriteItem: its own IAM action, not
        PutItem: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html)
        in the profiles table only. The table uses the streaming key: DynamoDB decrypts the table
        key for the caller, reads and writes alike (no data key is generated per request, so no
        kms:GenerateDataKey, as the rules Lambda's grant:
        https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html)."""
        results = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RESULTS]}"
        role.add_to_policy(iam.PolicyStatement(sid="ReadQueryResults", actions=["s3:GetObject"],
                                               resources=[f"{results}/{RESULTS_PREFIX}/*"]))
        self._lake_key_via_s3(role, "kms:Decrypt")
        role.add_to_policy(iam.PolicyStatement(
            sid="ProfileItems", actions=["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
            resources=[self.profiles_table_arn]))
        role.add_to_policy(iam.PolicyStatement(
            sid="StreamingKeyViaDynamoDb", actions=["kms:Decrypt"],
            resources=[self.streaming_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.amazonaws.com"}}))

    def _grant_report(self, role: iam.Role) -> None:
        """Writes the day's JSON and HTML reports under the curated bucket's reports/ (PutObject,
        SSE-KMS under the lake key named by DATA_KEY_ARN: a data key is generated). To draw the HTML
        it reads the report queries' result CSVs (Athena's output under results/, as the other
        steps do) and lists and reads the curation runs' manifests (_job_state/runs/) and the run
        reports (reports/) in the curated bucket: both buckets use the lake key, so kms:Decrypt too.
        Nothing else of the curated bucket: the tables are read by the state machine's Athena queries."""
        curated = f"arn:{Aws.PARTITION}:s3:::{self.buckets[CURATED]}"
        results = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RESULTS]}"
        role.add_to_policy(iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"],
                                               resources=[f"{curated}/{daily_pipeline.REPORTS_PREFIX}/*"]))
        role.add_to_policy(iam.PolicyStatement(sid="ReadQueryResults", actions=["s3:GetObject"],
                                               resources=[f"{results}/{RESULTS_PREFIX}/*"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="ListRunDocuments", actions=["s3:ListBucket"], resources=[curated],
            conditions={"StringLike": {"s3:prefix": [f"{p}/*" for p in REPORT_DOCUMENT_PREFIXES]}}))
        role.add_to_policy(iam.PolicyStatement(sid="ReadRunDocuments", actions=["s3:GetObject"],
                                               resources=[f"{curated}/{p}/*" for p in REPORT_DOCUMENT_PREFIXES]))
        self._lake_key_via_s3(role, "kms:Decrypt", "kms:GenerateDataKey")

    def _grant_reconcile(self, role: iam.Role) -> None:
        """Reads the two reconciliation queries' result CSVs (results/), the pseudonymisation key (the
        secret, decrypted through Secrets Manager), connects to the source as the read-only login
        with an IAM token (rds-db:connect on that database user only:
        https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html)
        and puts its metrics. PutMetricData supports no resource-level permissions, so its Resource
        is "*", narrowed to the pipeline's namespace by the cloudwatch:namespace condition key
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html)."""
        results = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RESULTS]}"
        role.add_to_policy(iam.PolicyStatement(sid="ReadQueryResults", actions=["s3:GetObject"],
                                               resources=[f"{results}/{RESULTS_PREFIX}/*"]))
        self._lake_key_via_s3(role, "kms:Decrypt")
        grant_secret_read(role, self.lake.pseudonymization_secret_name, self.lake.key)
        role.add_to_policy(iam.PolicyStatement(
            sid="ConnectAsReadOnlyLogin", actions=["rds-db:connect"],
            resources=[arn("rds-db", f"dbuser:{self.source.cluster_resource_id}/{self.source.reader_role}")]))
        role.add_to_policy(iam.PolicyStatement(
            sid="PutReconciliationMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": reconciliation.METRICS_NAMESPACE}}))

    # ---- key reconciliation -------------------------------------------------------------------
    def _reconciliation(self, notify: sfn.IChainable, then: sfn.IChainable) -> sfn.IChainable:
        """CuratedKeyDigest -> ReconcileDigests -> KeysToList? -> [ListCuratedKeys] -> ReconcileKeys -> then."""
        keys = daily_pipeline.RESULT_KEYS

        def athena(id: str, query: str, result_key: str) -> tasks.AthenaStartQueryExecution:
            task = tasks.AthenaStartQueryExecution(
                self, id, query_string=query,
                query_execution_context=tasks.QueryExecutionContext(database_name=self.database),
                work_group=self.workgroup, integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                result_selector={"query_execution_id": sfn.JsonPath.string_at("$.QueryExecution.QueryExecutionId"),
                                 "output_location": sfn.JsonPath.string_at(
                                     "$.QueryExecution.ResultConfiguration.OutputLocation")},
                result_path=f"$.{keys[result_key]}")
            self._retry(task, notify)
            return task

        def phase(id: str, name: str) -> tasks.LambdaInvoke:
            return self._invoke(id, "reconcile", notify, result=daily_pipeline.RECONCILE_PHASES[name],
                                payload=sfn.TaskInput.from_object({PHASE_FIELD: name,
                                                                   STATE_FIELD: sfn.JsonPath.object_at("$")}))

        digest = athena("CuratedKeyDigest", reconciliation.curated_digest_sql(), "key_digest")
        compare = phase("ReconcileDigests", "digests")
        list_keys = athena("ListCuratedKeys", sfn.JsonPath.string_at(f"$.{keys['key_digests']}.keys_query"),
                           "curated_keys")
        classify = phase("ReconcileKeys", "keys")
        classify.next(then)
        digest.next(compare).next(sfn.Choice(self, "KeysToList?").when(
            sfn.Condition.boolean_equals(f"$.{keys['key_digests']}.list_keys", True), list_keys.next(classify))
            .otherwise(classify))
        return digest

    def _key_mismatch_alarms(self) -> list[cw.Alarm]:
        """One alarm per source table on the reconciliation's KeyMismatches (curated keys the source
        no longer has), to the alarm topic: raised at one, for the day the run reports it."""
        topic = sns.Topic.from_topic_arn(self, "AlarmTopicForAlarms", self.alarm_topic_arn)
        alarms = []
        for table in reconciliation.TABLES:
            id = f"KeyMismatches{table.title()}"
            alarm = cw.Alarm(
                self, id, alarm_name=names.resource_name(self.settings.env_name, id),
                metric=cw.Metric(namespace=reconciliation.METRICS_NAMESPACE, metric_name=reconciliation.MISMATCH_METRIC,
                                 dimensions_map={reconciliation.TABLE_DIMENSION: table}, statistic="Maximum",
                                 period=Duration.days(1)),
                threshold=1, evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=f"The key reconciliation found {table} keys curated that the source no longer has: "
                                  "a key change DMS ignored, or a lost delete (docs/cdc-history.md)")
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarm.add_ok_action(cw_actions.SnsAction(topic))
            alarms.append(alarm)
        return alarms

    # ---- state machine ------------------------------------------------------------------------
    def _retry(self, state: sfn.TaskStateBase | sfn.Map, notify: sfn.IChainable | None) -> None:
        cfg = self.settings.pipeline
        if isinstance(state, sfn.TaskStateBase):
            state.add_retry(errors=[sfn.Errors.ALL], max_attempts=cfg.retry_attempts,
                            interval=Duration.seconds(cfg.retry_interval_seconds), backoff_rate=cfg.retry_backoff_rate)
        if notify is not None:
            state.add_catch(notify, errors=[sfn.Errors.ALL], result_path="$.error")

    def _invoke(self, id: str, step: str, notify: sfn.IChainable, payload: sfn.TaskInput | None = None,
                result: str | None = None) -> tasks.LambdaInvoke:
        """The function of `step`; its output under RESULT_KEYS[result or step], STEP_FIELDS likewise."""
        result = result or step
        task = tasks.LambdaInvoke(
            self, id, lambda_function=self.functions[step], payload=payload, retry_on_service_exceptions=False,
            result_selector={f: sfn.JsonPath.object_at(f"$.Payload.{f}") for f in STEP_FIELDS[result]},
            result_path=f"$.{daily_pipeline.RESULT_KEYS[result]}")
        self._retry(task, notify)
        return task

    def _state_machine(self) -> sfn.StateMachine:
        cfg = self.settings.pipeline
        alarm_topic = sns.Topic.from_topic_arn(self, "AlarmTopic", self.alarm_topic_arn)
        alerts_topic = sns.Topic.from_topic_arn(self, "AlertsTopic", self.alerts_topic_arn)
        failed = sfn.Fail(self, "Failed", error="DailyPipelineFailed",
                          cause="A daily pipeline step failed after its retries (NotifyFailure published the error)")
        notify = tasks.SnsPublish(
            self, "NotifyFailure", topic=alarm_topic, subject="AML daily pipeline failed",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Daily pipeline execution {} failed: {}: {}", sfn.JsonPath.string_at("$$.Execution.Name"),
                sfn.JsonPath.string_at("$.error.Error"), sfn.JsonPath.string_at("$.error.Cause"))),
            result_path=sfn.JsonPath.DISCARD)
        self._retry(notify, failed)  # a failure to notify still ends in Failed
        notify.next(failed)

        plan = self._invoke("Plan", "plan", notify, payload=sfn.TaskInput.from_object({
            RUN_ID_FIELD: sfn.JsonPath.string_at("$$.Execution.Name"), INPUT_FIELD: sfn.JsonPath.object_at("$")}))
        curate = tasks.GlueStartJobRun(
            self, "CurateRaw", glue_job_name=self.job_name, integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path=sfn.JsonPath.DISCARD)
        self._retry(curate, notify)
        # Each iteration's input is one planned query; the task's result cannot see the item, so a
        # Pass state puts the name beside the execution's id and result location.
        run_query = tasks.AthenaStartQueryExecution(
            self, "RunQuery", query_string=sfn.JsonPath.string_at("$.query_string"),
            execution_parameters=sfn.JsonPath.list_at("$.execution_parameters"),
            query_execution_context=tasks.QueryExecutionContext(database_name=self.database),
            work_group=self.workgroup, integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_selector={"query_execution_id": sfn.JsonPath.string_at("$.QueryExecution.QueryExecutionId"),
                             "output_location": sfn.JsonPath.string_at(
                                 "$.QueryExecution.ResultConfiguration.OutputLocation")},
            result_path="$.execution")
        self._retry(run_query, None)  # states inside a Map cannot reach NotifyFailure: the Map catches
        query_result = sfn.Pass(self, "QueryResult", parameters={
            "name": sfn.JsonPath.string_at("$.name"),
            "query_execution_id": sfn.JsonPath.string_at("$.execution.query_execution_id"),
            "output_location": sfn.JsonPath.string_at("$.execution.output_location")})
        queries = sfn.Map(self, "ScenarioQueries", items_path="$.plan.queries", max_concurrency=cfg.query_concurrency,
                          result_path=f"$.{daily_pipeline.RESULT_KEYS['queries']}")
        queries.item_processor(run_query.next(query_result))
        self._retry(queries, notify)
        batch_alerts = self._invoke("BatchAlerts", "batch_alerts", notify)
        load_profiles = self._invoke("LoadProfiles", "load_profiles", notify)
        report = self._invoke("Report", "report", notify)
        summary = tasks.SnsPublish(
            self, "Summary", topic=alerts_topic,
            subject=sfn.JsonPath.format("AML daily pipeline {}", sfn.JsonPath.string_at("$.plan.run_date")),
            message=sfn.TaskInput.from_json_path_at("$.report.summary"),
            message_attributes={k: tasks.MessageAttribute(value=v) for k, v in SUMMARY_KIND.items()},
            result_path=sfn.JsonPath.DISCARD)
        self._retry(summary, notify)

        new_raw = sfn.Choice(self, "NewRawData?").when(
            sfn.Condition.number_greater_than("$.plan.raw.new_files", 0), curate.next(queries)).otherwise(queries)
        definition = plan.next(new_raw)
        queries.next(batch_alerts).next(load_profiles).next(self._reconciliation(notify, report))
        report.next(summary)

        name = names.name_of(self.settings.env_name, "daily_pipeline")
        logs = EncryptedLogGroup(self, "StateMachineLogs", settings=self.settings, key=self.key,
                                 log_group_name=f"/aws/vendedlogs/states/{name}")
        role = iam.Role(self, "StateMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                        description="Daily pipeline state machine: its functions, the Glue job, Athena, SNS")
        machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=name, state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition), role=role, tracing_enabled=True,
            logs=sfn.LogOptions(destination=logs, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment="AML daily pipeline (aml_contract.daily_pipeline)")
        self._scope_state_machine_policy(role, logs)
        return machine

    def _scope_state_machine_policy(self, role: iam.Role, logs: EncryptedLogGroup) -> None:
        """The role's default policy (CDK's task grants, log delivery, X-Ray) set to exactly what the
        steps need, per the Step Functions service integration pages:
        https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html (lambda:InvokeFunction),
        https://docs.aws.amazon.com/step-functions/latest/dg/glue-iam.html (.sync: StartJobRun, GetJobRun,
        GetJobRuns, BatchStopJobRun; Glue has no resource-based control, so the job's ARN scopes it),
        https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html (.sync: StartQueryExecution,
        StopQueryExecution, GetQueryExecution on the workgroup; Athena then reads the catalog and the
        data and writes the results with this role: https://docs.aws.amazon.com/athena/latest/ug/managed-policies.html),
        https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html (sns:Publish; encrypted topics
        need their key: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
        Not kept from CDK's Athena task: S3 on every bucket, s3:CreateBucket, lakeformation:GetDataAccess
        (the lake uses no Lake Formation permissions) and Glue database/table/partition writes on
        `*`. No glue:GetPartitions: partition projection computes partitions from the table.
        .sync on Glue and Athena polls the job and the query: no EventBridge managed rule (that is
        ECS, Batch, ...: https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-sync)."""
        curated = f"arn:{Aws.PARTITION}:s3:::{self.buckets[CURATED]}"
        results = f"arn:{Aws.PARTITION}:s3:::{self.buckets[RESULTS]}"
        tables = tables_queried()
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}
        via_sns = {"StringEquals": {"kms:ViaService": f"sns.{Aws.REGION}.amazonaws.com"}}
        document = iam.PolicyDocument(statements=[
            iam.PolicyStatement(sid="InvokeFunctions", actions=["lambda:InvokeFunction"],
                                resources=[f.function_arn for f in self.functions.values()]),
            iam.PolicyStatement(sid="RunCurationJob", actions=[
                "glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
                resources=[arn("glue", f"job/{self.job_name}")]),
            iam.PolicyStatement(sid="RunQueriesInWorkgroup", actions=[
                "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
                resources=[arn("athena", f"workgroup/{self.workgroup}")]),
            iam.PolicyStatement(sid="ReadQueriedTableDefinitions", actions=["glue:GetDatabase", "glue:GetTable"],
                                resources=self.lake.catalog.read_arns(tables)),
            iam.PolicyStatement(sid="LocateBuckets", actions=["s3:GetBucketLocation"], resources=[curated, results]),
            iam.PolicyStatement(sid="ListQueriedTables", actions=["s3:ListBucket"], resources=[curated],
                                conditions={"StringLike": {"s3:prefix": [
                                    f"{table_object_prefix(t)}*" for t in tables]}}),
            iam.PolicyStatement(sid="ReadQueriedTableData", actions=["s3:GetObject"],
                                resources=[f"{curated}/{table_object_prefix(t)}*" for t in tables]),
            iam.PolicyStatement(sid="WriteQueryResults", actions=[
                "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[f"{results}/{RESULTS_PREFIX}/*"]),
            iam.PolicyStatement(sid="LakeKeyViaS3", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[self.lake.key.key_arn], conditions=via_s3),
            iam.PolicyStatement(sid="PublishSummaryAndFailures", actions=["sns:Publish"],
                                resources=[self.alerts_topic_arn, self.alarm_topic_arn]),
            iam.PolicyStatement(sid="TopicKeysViaSns", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[self.streaming_key.key_arn, self.alarms_key.key_arn], conditions=via_sns),
            iam.PolicyStatement(sid="LogDelivery", actions=list(LOG_DELIVERY_ACTIONS), resources=["*"]),
            iam.PolicyStatement(sid="Tracing", actions=list(XRAY_ACTIONS), resources=["*"]),
        ])
        policy = role.node.find_child("DefaultPolicy").node.default_child
        policy.policy_document = document

    # ---- schedule -----------------------------------------------------------------------------
    def _schedule(self) -> scheduler.Schedule:
        """Daily at settings.pipeline.schedule_cron (UTC), no flexible window; the input names the
        scheduled time (the run date is the day before it) and the lookback. The target's role may
        start this state machine only (the L2 creates it, trusted by this account's schedules)."""
        cfg = self.settings.pipeline
        name = names.name_of(self.settings.env_name, "daily_pipeline_schedule")
        # Trusted by this schedule only (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role);
        # the target grants it states:StartExecution on the machine, the schedule kms:Decrypt on its key.
        role = iam.Role(self, "ScheduleRole", description="Daily pipeline schedule: starts the state machine",
                        assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={"StringEquals": {
                            "aws:SourceAccount": Aws.ACCOUNT_ID,
                            "aws:SourceArn": arn("scheduler", f"schedule/default/{name}")}}))
        return scheduler.Schedule(
            self, "Schedule", schedule_name=name,
            description="Runs the AML daily pipeline", key=self.key, time_window=scheduler.TimeWindow.off(),
            schedule=scheduler.ScheduleExpression.expression(cfg.schedule_cron),
            target=targets.StepFunctionsStartExecution(self.state_machine, role=role, input=scheduler.ScheduleTargetInput.from_object({
                "scheduled_time": scheduler.ContextAttribute.scheduled_time, "lookback_days": cfg.lookback_days})))
