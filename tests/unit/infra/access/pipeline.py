"""The daily pipeline's calls, declared: what Step Functions makes with the state machine's role
for its steps, what Athena makes with it for the scenario queries, what EventBridge Scheduler
makes with the schedule's role, and what the four handlers make with theirs, from the contract
(aml_contract.daily_pipeline: each step's inputs and outputs) since their code is written apart."""
from __future__ import annotations

from aml_contract import daily_pipeline, names, schema
from aml_contract import key_reconciliation as reconciliation
from aml_contract.glue_job import RUNS_PREFIX
from infra.access import services
from infra.access.actions import Call
from infra.access.templates import Templates, arn
from stacks.daily_pipeline import (
    DATA_KEY_ENV,
    LOG_DELIVERY_ACTIONS,
    PROCESSED_FILES_KEY,
    VPC_ACTIONS,
    XRAY_ACTIONS,
    tables_queried,
)

STEP_FUNCTIONS = "Step Functions (declared)"
ATHENA = "Athena for the state machine (declared)"
SCHEDULER = "EventBridge Scheduler (declared)"
HANDLERS = "pipeline handlers (declared from the contract)"
LAMBDA = "Lambda service (declared)"
QUERY_ID = "0000-query-id"


def _role_by_arn(templates: Templates, role_arn: str) -> str:
    return next(name for name, role in templates.roles.items() if role.arn == role_arn)


def state_machine(templates: Templates) -> tuple[str, dict]:
    """(concern, resolved properties) of the daily pipeline's state machine."""
    for concern, _, res in templates.resources("AWS::StepFunctions::StateMachine"):
        return concern, templates.resolve(concern, res["Properties"])
    raise LookupError("no state machine")


def functions(templates: Templates) -> dict[str, dict]:
    """step -> resolved properties of its function (by the contract's handler)."""
    found = {}
    for concern, _, res in templates.resources("AWS::Lambda::Function"):
        handler = res["Properties"].get("Handler")
        for step, name in daily_pipeline.HANDLERS.items():
            if handler == name:
                found[step] = templates.resolve(concern, res["Properties"])
    assert set(found) == set(daily_pipeline.HANDLERS), found
    return found


def _env(props: dict, field: str) -> str:
    return str(props["Environment"]["Variables"][daily_pipeline.FUNCTION_ENV[field]])


def step_functions(templates: Templates) -> list[Call]:
    """The state machine's role, per the Step Functions service integration pages: Lambda invoke
    (https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html), glue:startJobRun.sync
    (https://docs.aws.amazon.com/step-functions/latest/dg/glue-iam.html: StartJobRun, GetJobRun,
    GetJobRuns, BatchStopJobRun), athena:startQueryExecution.sync
    (https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html: StartQueryExecution,
    GetQueryExecution, StopQueryExecution on the workgroup), sns:publish
    (https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html), logging to CloudWatch Logs
    (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy) and
    X-Ray tracing (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html).
    Athena then reads the queried tables and writes the results with the same role
    (https://docs.aws.amazon.com/athena/latest/ug/managed-policies.html)."""
    _, machine = state_machine(templates)
    role = _role_by_arn(templates, machine["RoleArn"])
    definition = machine["DefinitionString"]
    calls = [Call(role, "lambda", "InvokeFunction", {"FunctionName": props["FunctionName"]}, STEP_FUNCTIONS)
             for props in functions(templates).values()]
    job = services._props(templates, "AWS::Glue::Job")["Name"]
    assert f'"JobName":"{job}"' in definition
    calls += [Call(role, "glue", op, {"Resources": [arn("glue", f"job/{job}")]}, STEP_FUNCTIONS)
              for op in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun")]
    group = services._props(templates, "AWS::Athena::WorkGroup")
    assert f'"WorkGroup":"{group["Name"]}"' in definition
    calls += [Call(role, "athena", op, {"WorkGroup": group["Name"]}, STEP_FUNCTIONS)
              for op in ("StartQueryExecution", "GetQueryExecution", "StopQueryExecution")]
    # The workgroup's enforced output location and key: Athena writes there, as the caller.
    results = group["WorkGroupConfiguration"]["ResultConfiguration"]
    bucket, prefix = results["OutputLocation"].removeprefix("s3://").rstrip("/").split("/", 1)
    key, sse = f"{prefix}/{QUERY_ID}.csv", results["EncryptionConfiguration"]["KmsKey"]
    calls += [services._s3(role, ATHENA, "GetBucketLocation", bucket, via="athena"),
              services._s3(role, ATHENA, "PutObject", bucket, key, via="athena", sse_key=sse),
              services._s3(role, ATHENA, "GetObject", bucket, key, via="athena"),
              services._s3(role, ATHENA, "AbortMultipartUpload", bucket, key, via="athena")]
    calls += services.athena_engine(templates, role, ATHENA, tables_queried())
    topics = {names.RESOURCES[f].suffix: services._props(
        templates, "AWS::SNS::Topic", lambda p, f=f: p.get("TopicName", "").endswith(f"-{names.RESOURCES[f].suffix}"))
        for f in ("alerts_topic_arn", "alarm_topic")}
    for topic in topics.values():
        topic_arn = arn("sns", topic["TopicName"])
        assert topic_arn in definition
        calls.append(Call(role, "sns", "Publish", {"TopicArn": topic_arn}, STEP_FUNCTIONS))
    calls += [Call(role, "logs", action.split(":")[1], {"Resource": "*"}, STEP_FUNCTIONS) for action in LOG_DELIVERY_ACTIONS]
    calls += [Call(role, "xray", action.split(":")[1], {}, STEP_FUNCTIONS) for action in XRAY_ACTIONS]
    return calls


def schedule(templates: Templates) -> list[Call]:
    """The schedule's target role starts the state machine and decrypts the schedule's payload with
    its customer-managed key (https://docs.aws.amazon.com/scheduler/latest/UserGuide/encryption-rest.html)."""
    props = services._props(templates, "AWS::Scheduler::Schedule")
    role = _role_by_arn(templates, props["Target"]["RoleArn"])
    return [Call(role, "states", "StartExecution", {"stateMachineArn": props["Target"]["Arn"]}, SCHEDULER),
            Call(role, "kms", "Decrypt", {"KeyId": props["KmsKeyArn"]}, SCHEDULER)]


def handlers(templates: Templates) -> list[Call]:
    """Each handler's calls from the contract: plan lists the raw zone's DMS files and reads the
    curation job's processed-files manifest (asking whether it exists first); batch_alerts reads
    each query's result CSV, merges the hits into the alerts table (reads, a query of an index,
    conditional puts and updates inside TransactWriteItems) and publishes and delivers the new
    alerts; load_profiles reads the profiles query's result CSV, the stored profiles (BatchGetItem)
    and writes the changed ones (BatchWriteItem); report writes the day's JSON and HTML reports under
    reports/, reading the report queries' result CSVs, the curation runs' manifests and the run reports;
    reconcile reads its two queries' result CSVs and the pseudonymisation key, logs in to the source
    as the read-only login named in its environment with an IAM token (rds-db:connect on that
    database user of the cluster the database template declares) and puts its metrics."""
    fns = functions(templates)
    calls: list[Call] = []
    plan = fns["plan"]
    role = _role_by_arn(templates, plan["Role"])
    raw, curated = _env(plan, "raw_bucket"), _env(plan, "curated_bucket")
    calls += [services._s3(role, HANDLERS, "ListObjectsV2", raw, Prefix=f"{schema.RAW_PREFIX}/{schema.SOURCE_SCHEMA}/"),
              services._s3(role, HANDLERS, "ListObjectsV2", curated, Prefix=PROCESSED_FILES_KEY),
              services._s3(role, HANDLERS, "GetObject", curated, PROCESSED_FILES_KEY)]

    alerts = fns["batch_alerts"]
    role = _role_by_arn(templates, alerts["Role"])
    table, results = _env(alerts, "alerts_table"), _env(alerts, "athena_results_bucket")
    item = {"TableName": table, "Key": {"alert_id": {"S": "a"}}}
    calls += [services._s3(role, HANDLERS, "GetObject", results, f"{names.ATHENA_RESULTS_PREFIX}/{QUERY_ID}.csv"),
              Call(role, "dynamodb", "BatchGetItem", {"RequestItems": {table: {}}}, HANDLERS),
              Call(role, "dynamodb", "GetItem", item, HANDLERS),
              Call(role, "dynamodb", "Query", {"TableName": table}, HANDLERS),
              Call(role, "dynamodb", "Query", {"TableName": table, "IndexName": names.ALERTS_SUBJECT_INDEX["name"]}, HANDLERS),
              Call(role, "dynamodb", "PutItem", item, HANDLERS),
              Call(role, "dynamodb", "UpdateItem", item, HANDLERS),
              Call(role, "dynamodb", "TransactWriteItems", {"TransactItems": [
                  {"Put": {"TableName": table}}, {"Update": {"TableName": table}}]}, HANDLERS),
              Call(role, "sns", "Publish", {"TopicArn": _env(alerts, "alerts_topic_arn")}, HANDLERS),
              Call(role, "firehose", "PutRecordBatch", {"DeliveryStreamName": _env(alerts, "alerts_delivery_stream")},
                   HANDLERS)]

    loader = fns["load_profiles"]
    role = _role_by_arn(templates, loader["Role"])
    table, results = _env(loader, "profiles_table"), _env(loader, "athena_results_bucket")
    calls += [services._s3(role, HANDLERS, "GetObject", results, f"{names.ATHENA_RESULTS_PREFIX}/{QUERY_ID}.csv"),
              Call(role, "dynamodb", "BatchGetItem", {"RequestItems": {table: {}}}, HANDLERS),
              Call(role, "dynamodb", "BatchWriteItem", {"RequestItems": {table: []}}, HANDLERS)]

    report = fns["report"]
    role = _role_by_arn(templates, report["Role"])
    curated, sse = _env(report, "curated_bucket"), report["Environment"]["Variables"][DATA_KEY_ENV]
    day = f"{daily_pipeline.REPORTS_PREFIX}/run_date=2025-11-03"
    calls += [services._s3(role, HANDLERS, "PutObject", curated, f"{day}/{name}", sse_key=sse)
              for name in daily_pipeline.REPORT_FILES.values()]
    # the HTML report's inputs (aml_report.documents, lambdas/daily_pipeline/report.py): the report
    # queries' result CSVs, the curation runs' manifests and the run reports of its week
    calls += [services._s3(role, HANDLERS, "GetObject", _env(report, "athena_results_bucket"),
                           f"{names.ATHENA_RESULTS_PREFIX}/{QUERY_ID}.csv"),
              services._s3(role, HANDLERS, "ListObjectsV2", curated, Prefix=f"{RUNS_PREFIX}/"),
              services._s3(role, HANDLERS, "GetObject", curated, f"{RUNS_PREFIX}/20251103T020000-run.json"),
              services._s3(role, HANDLERS, "ListObjectsV2", curated, Prefix=f"{daily_pipeline.REPORTS_PREFIX}/"),
              services._s3(role, HANDLERS, "GetObject", curated, f"{day}/{daily_pipeline.REPORT_FILES['json']}")]

    recon = fns["reconcile"]
    role = _role_by_arn(templates, recon["Role"])
    variables = recon["Environment"]["Variables"]
    (cluster,) = [lid for lid, res in templates.raw["database"]["Resources"].items() if res["Type"] == "AWS::RDS::DBCluster"]
    resource_id = templates.resolve("database", {"Fn::GetAtt": [cluster, "DBClusterResourceId"]})
    user = variables[daily_pipeline.SOURCE_DB_ENV["user"]]
    assert user == reconciliation.READER_ROLE and variables[daily_pipeline.SOURCE_DB_ENV["iam_auth"]] == "true"
    calls += [services._s3(role, HANDLERS, "GetObject", _env(recon, "athena_results_bucket"),
                           f"{names.ATHENA_RESULTS_PREFIX}/{QUERY_ID}.csv"),
              Call(role, "secretsmanager", "GetSecretValue",
                   {"SecretId": variables[daily_pipeline.PSEUDONYMIZATION_SECRET_ENV]}, HANDLERS),
              Call(role, "rds-db", "connect", {"Resource": arn("rds-db", f"dbuser:{resource_id}/{user}")}, HANDLERS),
              Call(role, "cloudwatch", "PutMetricData", {"Namespace": reconciliation.METRICS_NAMESPACE}, HANDLERS)]

    # What Lambda makes with each role: logs, active tracing, the VPC network interfaces
    # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
    for props in fns.values():
        role = _role_by_arn(templates, props["Role"])
        group = props["LoggingConfig"]["LogGroup"]
        calls += [Call(role, "logs", op, {"Resource": arn("logs", f"log-group:{group}:log-stream:2025/11/03/x")}, LAMBDA)
                  for op in ("CreateLogStream", "PutLogEvents")]
        calls += [Call(role, "xray", op, {}, LAMBDA) for op in ("PutTraceSegments", "PutTelemetryRecords")]
        calls += [Call(role, "ec2", action.split(":")[1], {}, LAMBDA) for action in VPC_ACTIONS]
    return calls


def calls(templates: Templates) -> list[Call]:
    return [*step_functions(templates), *schedule(templates), *handlers(templates)]
