"""The daily pipeline stack: the state machine's states in order with what each reads and writes
(the local runner binds to them), retries and catches, the schedule, and each role's grants."""
from __future__ import annotations

import json
import re

import pytest

from aml_contract import daily_pipeline, names
from infra.test_streaming_stack import rules_lambda_bundle
from stacks import assets
from stacks import daily_pipeline as stack
from stacks.settings import Settings

SETTINGS = Settings().pipeline
RECONCILIATION = ("CuratedKeyDigest", "ReconcileDigests", "KeysToList?", "ListCuratedKeys", "ReconcileKeys")
STATES = ("Plan", "NewRawData?", "CurateRaw", "ScenarioQueries", "BatchAlerts", "LoadProfiles", *RECONCILIATION,
          "Report", "Summary", "NotifyFailure", "Failed")


def _resources(synth, type_: str) -> dict[str, dict]:
    return {lid: res for concern, lid, res in synth.resources(type_) if concern == "pipeline"}


def _flatten(value) -> str:
    """A template value as text: intrinsics become <...> placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_flatten(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return f"<{json.dumps(value)}>"


@pytest.fixture(scope="module")
def machine(synth) -> dict:
    (res,) = _resources(synth, "AWS::StepFunctions::StateMachine").values()
    return res


@pytest.fixture(scope="module")
def definition(machine) -> dict:
    return json.loads(_flatten(machine["Properties"]["DefinitionString"]))


def _statements(synth, role_prefix: str) -> list[dict]:
    policies = [r for lid, r in _resources(synth, "AWS::IAM::Policy").items() if lid.startswith(role_prefix)]
    assert len(policies) == 1, role_prefix
    return policies[0]["Properties"]["PolicyDocument"]["Statement"]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_a_standard_state_machine_with_encrypted_logs_and_tracing(synth, machine):
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == names.name_of("dev", "daily_pipeline")
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    (group,) = [g for g in _resources(synth, "AWS::Logs::LogGroup").values()
                if g["Properties"].get("LogGroupName", "").startswith("/aws/vendedlogs/states/")]
    assert "KmsKeyId" in group["Properties"]
    outputs = synth.templates["pipeline"]["Outputs"]
    assert names.output_key("daily_pipeline") in outputs


def test_the_states_in_data_flow_order(definition):
    states = definition["States"]
    assert set(states) == set(STATES)
    assert definition["StartAt"] == "Plan"
    assert states["Plan"]["Next"] == "NewRawData?"
    choice = states["NewRawData?"]
    assert choice["Choices"] == [{"Variable": "$.plan.raw.new_files", "NumericGreaterThan": 0, "Next": "CurateRaw"}]
    assert choice["Default"] == "ScenarioQueries"
    assert states["CurateRaw"]["Next"] == "ScenarioQueries"
    assert states["ScenarioQueries"]["Next"] == "BatchAlerts"
    assert states["BatchAlerts"]["Next"] == "LoadProfiles"  # after the alerts: the profiles load
    assert states["LoadProfiles"]["Next"] == "CuratedKeyDigest"  # then the key reconciliation
    assert states["CuratedKeyDigest"]["Next"] == "ReconcileDigests"
    assert states["ReconcileDigests"]["Next"] == "KeysToList?"
    choice = states["KeysToList?"]
    assert choice["Choices"] == [{"Variable": "$.key_digests.list_keys", "BooleanEquals": True,
                                  "Next": "ListCuratedKeys"}]
    assert choice["Default"] == "ReconcileKeys" and states["ListCuratedKeys"]["Next"] == "ReconcileKeys"
    assert states["ReconcileKeys"]["Next"] == "Report"
    assert states["Report"]["Next"] == "Summary"
    assert states["Summary"]["End"] is True
    assert states["NotifyFailure"]["Next"] == "Failed"
    assert states["Failed"]["Type"] == "Fail"


def test_what_each_state_reads_and_writes(definition):
    """The JSONPaths of the contract (aml_contract.daily_pipeline)."""
    states, keys = definition["States"], daily_pipeline.RESULT_KEYS
    plan = states["Plan"]
    assert plan["Parameters"]["Payload"] == {"run_id.$": "$$.Execution.Name", "input.$": "$"}
    for state, step in (("Plan", "plan"), ("BatchAlerts", "batch_alerts"), ("LoadProfiles", "load_profiles"),
                        ("Report", "report")):
        assert states[state]["ResultPath"] == f"$.{keys[step]}"
        assert states[state]["ResultSelector"] == {f"{f}.$": f"$.Payload.{f}" for f in daily_pipeline.STEP_FIELDS[step]}
    queries = states["ScenarioQueries"]
    assert (queries["ItemsPath"], queries["ResultPath"]) == ("$.plan.queries", f"$.{keys['queries']}")
    assert queries["MaxConcurrency"] == SETTINGS.query_concurrency
    inner = queries["ItemProcessor"]["States"]
    run = inner["RunQuery"]
    assert run["Parameters"]["QueryString.$"] == "$.query_string"
    assert run["Parameters"]["ExecutionParameters.$"] == "$.execution_parameters"
    assert run["Parameters"]["WorkGroup"] == names.name_of("dev", "athena_workgroup")
    assert run["Parameters"]["QueryExecutionContext"] == {"Database": Settings().curated_database}
    assert run["Next"] == "QueryResult"
    assert inner["QueryResult"]["Parameters"] == {
        "name.$": "$.name", "query_execution_id.$": "$.execution.query_execution_id",
        "output_location.$": "$.execution.output_location"}
    assert states["CurateRaw"]["ResultPath"] is None
    summary = states["Summary"]
    assert summary["Parameters"]["Message.$"] == "$.report.summary"
    assert summary["Parameters"]["TopicArn"].endswith(f":{names.name_of('dev', 'alerts_topic_arn')}")
    assert states["NotifyFailure"]["Parameters"]["TopicArn"].endswith(f":{names.name_of('dev', 'alarm_topic')}")
    assert "$.error.Cause" in states["NotifyFailure"]["Parameters"]["Message.$"]


def test_task_resources_are_the_standard_integration_arns(definition):
    states = {**definition["States"], **definition["States"]["ScenarioQueries"]["ItemProcessor"]["States"]}
    resources = {name: s["Resource"] for name, s in states.items() if s["Type"] == "Task"}
    prefix = "arn:<AWS::Partition>:states:::"
    assert resources == {"Plan": f"{prefix}lambda:invoke", "BatchAlerts": f"{prefix}lambda:invoke",
                         "LoadProfiles": f"{prefix}lambda:invoke", "Report": f"{prefix}lambda:invoke", "CurateRaw": f"{prefix}glue:startJobRun.sync",
                         "ReconcileDigests": f"{prefix}lambda:invoke", "ReconcileKeys": f"{prefix}lambda:invoke",
                         "CuratedKeyDigest": f"{prefix}athena:startQueryExecution.sync",
                         "ListCuratedKeys": f"{prefix}athena:startQueryExecution.sync",
                         "RunQuery": f"{prefix}athena:startQueryExecution.sync",
                         "Summary": f"{prefix}sns:publish", "NotifyFailure": f"{prefix}sns:publish"}


def test_every_task_retries_with_backoff_then_notifies(definition):
    states = definition["States"]
    retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": SETTINGS.retry_interval_seconds,
             "MaxAttempts": SETTINGS.retry_attempts, "BackoffRate": SETTINGS.retry_backoff_rate}
    catch_to = {name: [c["Next"] for c in s.get("Catch", [])] for name, s in states.items()}
    for name, state in states.items():
        if state["Type"] == "Task":
            assert state["Retry"] == [retry], name
    for name in ("Plan", "CurateRaw", "ScenarioQueries", "BatchAlerts", "LoadProfiles", "CuratedKeyDigest",
                 "ReconcileDigests", "ListCuratedKeys", "ReconcileKeys", "Report", "Summary"):
        assert catch_to[name] == ["NotifyFailure"], name
        assert states[name]["Catch"][0]["ResultPath"] == "$.error"
    assert catch_to["NotifyFailure"] == ["Failed"]
    # A state inside the Map cannot leave it: the query retries, the Map catches.
    run = states["ScenarioQueries"]["ItemProcessor"]["States"]["RunQuery"]
    assert run["Retry"] == [retry] and "Catch" not in run


def test_the_schedule_starts_the_machine_daily(synth):
    (schedule,) = _resources(synth, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["Name"] == names.name_of("dev", "daily_pipeline_schedule")
    assert props["ScheduleExpression"] == SETTINGS.schedule_cron
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "KmsKeyArn" in props
    machine_lid = next(iter(_resources(synth, "AWS::StepFunctions::StateMachine")))
    assert props["Target"]["Arn"] == {"Ref": machine_lid}
    assert json.loads(props["Target"]["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>",
                                                    "lookback_days": SETTINGS.lookback_days}
    role_lid = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = _statements(synth, f"{role_lid[:-8]}DefaultPolicy")
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("states:StartExecution", {"Ref": machine_lid}), ("kms:Decrypt", {"Fn::GetAtt": [props["KmsKeyArn"]["Fn::GetAtt"][0], "Arn"]})]


def test_the_state_machine_role_is_scoped_by_hand(synth):
    statements = _statements(synth, "StateMachineRole")
    text = json.dumps(statements)
    for forbidden in ("lakeformation:", "glue:Create", "glue:Delete", "glue:Update", "glue:BatchCreate",
                      "s3:CreateBucket", "glue:GetPartitions", "events:"):
        assert forbidden not in text, forbidden
    on_any = {a for s in statements if "*" in _as_list(s["Resource"]) for a in _as_list(s["Action"])}
    # Log delivery and X-Ray: AWS documents these on "*" (no resource-level permissions).
    assert on_any == {*stack.LOG_DELIVERY_ACTIONS, *stack.XRAY_ACTIONS}
    by_sid = {s["Sid"]: sorted(_as_list(s["Action"])) for s in statements}
    assert by_sid["RunCurationJob"] == ["glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"]
    assert _flatten(next(s for s in statements if s["Sid"] == "RunCurationJob")["Resource"]).endswith(
        f":job/{names.name_of('dev', 'glue_job_name')}")
    assert by_sid["RunQueriesInWorkgroup"] == ["athena:GetQueryExecution", "athena:StartQueryExecution",
                                               "athena:StopQueryExecution"]
    assert by_sid["ReadQueriedTableDefinitions"] == ["glue:GetDatabase", "glue:GetTable"]
    assert by_sid["InvokeFunctions"] == ["lambda:InvokeFunction"]
    for statement in statements:  # every object grant is under a named prefix of a named bucket
        for resource in _as_list(statement["Resource"]):
            flat = _flatten(resource)
            if flat.startswith("arn:<AWS::Partition>:s3:::"):
                assert re.fullmatch(r"arn:<AWS::Partition>:s3:::aml-dev-(curated|results)-<AWS::AccountId>-<AWS::Region>"
                                    r"(/[a-z_]+/([a-z_]+/)?\*)?", flat), flat


EXPECTED_FUNCTION_GRANTS = {
    "PlanRole": {
        "ListRawZone": ["s3:ListBucket"], "ReadProcessedFiles": ["s3:GetObject"],
        "ListProcessedFiles": ["s3:ListBucket"], "LakeKeyViaS3": ["kms:Decrypt"],
    },
    "BatchAlertsRole": {
        "ReadQueryResults": ["s3:GetObject"], "LakeKeyViaS3": ["kms:Decrypt"],
        "AlertItems": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                       "dynamodb:UpdateItem"],
        "AlertIndexes": ["dynamodb:Query"], "PublishAlerts": ["sns:Publish"], "DeliverAlerts": ["firehose:PutRecordBatch"],
        "StreamingKeyViaDynamoDbAndSns": ["kms:Decrypt", "kms:GenerateDataKey"],
    },
    "LoadProfilesRole": {
        "ReadQueryResults": ["s3:GetObject"], "LakeKeyViaS3": ["kms:Decrypt"],
        "ProfileItems": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"], "StreamingKeyViaDynamoDb": ["kms:Decrypt"],
    },
    "ReportRole": {"WriteReports": ["s3:PutObject"], "ReadQueryResults": ["s3:GetObject"],
                   "ListRunDocuments": ["s3:ListBucket"], "ReadRunDocuments": ["s3:GetObject"],
                   "LakeKeyViaS3": ["kms:Decrypt", "kms:GenerateDataKey"]},
}
COMMON = {"VpcNetworkInterfaces": sorted(stack.VPC_ACTIONS)}


@pytest.mark.parametrize("role", sorted(EXPECTED_FUNCTION_GRANTS))
def test_each_function_role_holds_exactly_its_grants(synth, role):
    statements = _statements(synth, role)
    by_sid = {s["Sid"]: sorted(_as_list(s["Action"])) for s in statements if "Sid" in s}
    assert by_sid == {**EXPECTED_FUNCTION_GRANTS[role], **COMMON}
    unnamed = sorted(tuple(sorted(_as_list(s["Action"]))) for s in statements if "Sid" not in s)
    # CDK's: active tracing, and the log group's grant_write.
    assert unnamed == [("logs:CreateLogStream", "logs:PutLogEvents"), ("xray:PutTelemetryRecords", "xray:PutTraceSegments")]
    resources = {s["Sid"]: [_flatten(r) for r in _as_list(s["Resource"])] for s in statements if "Sid" in s}
    if role == "PlanRole":
        assert resources["ReadProcessedFiles"] == [
            f"arn:<AWS::Partition>:s3:::aml-dev-curated-<AWS::AccountId>-<AWS::Region>/{stack.PROCESSED_FILES_KEY}"]
    if role == "BatchAlertsRole":
        table = "arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/aml-dev-alerts"
        assert resources["AlertItems"] == [table] and resources["AlertIndexes"] == [f"{table}/index/*"]
    if role == "LoadProfilesRole":  # the profiles table only, and Athena's results only
        assert resources["ProfileItems"] == [
            "arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/aml-dev-profiles"]
        assert resources["ReadQueryResults"] == [
            f"arn:<AWS::Partition>:s3:::aml-dev-results-<AWS::AccountId>-<AWS::Region>/{names.ATHENA_RESULTS_PREFIX}/*"]
        via = next(s for s in statements if s.get("Sid") == "StreamingKeyViaDynamoDb")["Condition"]
        assert _flatten(via["StringEquals"]["kms:ViaService"]) == "dynamodb.<AWS::Region>.amazonaws.com"
    if role == "ReportRole":  # its reports; Athena's results; the run manifests and reports, nothing else curated
        curated = "arn:<AWS::Partition>:s3:::aml-dev-curated-<AWS::AccountId>-<AWS::Region>"
        assert resources["WriteReports"] == [f"{curated}/{daily_pipeline.REPORTS_PREFIX}/*"]
        assert resources["ReadQueryResults"] == [
            f"arn:<AWS::Partition>:s3:::aml-dev-results-<AWS::AccountId>-<AWS::Region>/{names.ATHENA_RESULTS_PREFIX}/*"]
        assert resources["ReadRunDocuments"] == [f"{curated}/_job_state/runs/*", f"{curated}/reports/*"]
        assert resources["ListRunDocuments"] == [curated]
        listing = next(s for s in statements if s.get("Sid") == "ListRunDocuments")["Condition"]
        assert listing == {"StringLike": {"s3:prefix": ["_job_state/runs/*", "reports/*"]}}


def test_the_state_machine_role_reads_the_tables_of_the_report_queries():
    """The ScenarioQueries Map runs the report's queries too (the plan lists them): the state
    machine's role must read every table they name."""
    from aml_report import queries as report_queries

    for query in report_queries.all_queries():
        sql = query.sql.lower()
        ctes = set(re.findall(r"\b([a-z_]+)\s+as\s*\(", sql))
        named = set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\b", sql)) - ctes
        assert named and named <= set(stack.tables_queried()), query.name


def test_the_report_role_reads_what_the_report_generator_reads():
    """The curated prefixes granted are those aml_report.documents lists (run manifests, run reports)."""
    from aml_report import documents

    assert stack.REPORT_DOCUMENT_PREFIXES == documents.PREFIXES


def test_the_functions_run_the_contracts_handlers_like_the_rules_lambda(synth):
    functions = {f["Properties"]["Handler"]: f["Properties"] for f in _resources(synth, "AWS::Lambda::Function").values()}
    assert set(functions) == set(daily_pipeline.HANDLERS.values())
    (rules,) = [r["Properties"] for _, _, r in synth.resources("AWS::Lambda::Function")
                if r["Properties"].get("Handler") == "lambdas.realtime_rules.handler.lambda_handler"]
    for step, handler in daily_pipeline.HANDLERS.items():
        props = functions[handler]
        assert props["FunctionName"] == names.name_of("dev", daily_pipeline.FUNCTIONS[step])
        assert (props["Runtime"], props["Architectures"]) == (rules["Runtime"], rules["Architectures"])
        assert props["TracingConfig"] == {"Mode": "Active"} and "VpcConfig" in props and "KmsKeyArn" in props
        variables = props["Environment"]["Variables"]
        assert set(daily_pipeline.FUNCTION_ENV.values()) | {names.ALERT_TTL_DAYS_ENV} <= set(variables)
        assert (daily_pipeline.DATA_KEY_ENV in variables) == (step == "report")


def _pipeline_bundle(synth):
    keys = {f["Properties"]["Code"]["S3Key"] for f in _resources(synth, "AWS::Lambda::Function").values()}
    assert len(keys) == 1  # one asset for the functions
    return synth.outdir / f"asset.{keys.pop().removesuffix('.zip')}"


def test_the_bundle_carries_the_scenario_queries(synth):
    """The plan handler reads athena_queries/ through aml_contract.named_queries (QUERIES_DIR is
    the folder beside aml_contract/ in the bundle)."""
    bundle = _pipeline_bundle(synth)
    assert (bundle / "lambdas" / "daily_pipeline" / "handler.py").is_file()
    assert sorted(p.name for p in (bundle / "athena_queries").glob("*.sql"))
    assert (bundle / "athena_queries" / "account_profiles.sql").is_file()  # LoadProfiles' query
    assert (bundle / "aml_contract" / "named_queries.py").is_file()


# Lambda's limit on a function's code and layers, unzipped: 250 MB
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The Powertools layer
# is about 15 MB; the bundle must leave room for it and for growth.
BUNDLE_LIMIT_MB = 120


def test_the_bundle_carries_the_report_generator_and_plotly_not_pandas(synth):
    """The Report step draws with aml_report and plotly (requirements-lambda-pipeline.txt) and reads
    the report's queries (athena_queries/report/); pandas and NumPy stay out. The rules Lambda's
    bundle has none of it."""
    bundle = _pipeline_bundle(synth)
    assert (bundle / "aml_report" / "sections.py").is_file() and (bundle / "plotly" / "__init__.py").is_file()
    assert (bundle / "narwhals").is_dir() and (bundle / "plotly" / "package_data" / "plotly.min.js").is_file()
    assert sorted(p.name for p in (bundle / "athena_queries" / "report").glob("*.sql")) == [
        "report_alerts_per_day.sql", "report_zone_rows.sql"]
    assert not [p.name for p in bundle.iterdir() if p.name.split("-")[0] in ("pandas", "numpy", "pyarrow", "duckdb")]
    assert not (bundle / "share").exists() and not (bundle / "bin").exists()  # the wheels' data files and scripts
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    assert size < BUNDLE_LIMIT_MB * 1_000_000, f"{size / 1e6:.1f} MB unzipped"
    pins = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
            for r in assets.PIPELINE_REQUIREMENTS for line in r.read_text().splitlines() if "==" in line}
    installed = {}
    for dist_info in bundle.glob("*.dist-info"):
        meta = dict(line.split(": ", 1) for line in (dist_info / "METADATA").read_text().splitlines()
                    if line.startswith(("Name: ", "Version: ")))
        installed[meta["Name"].lower().replace("_", "-")] = meta["Version"]
    assert installed == pins  # exactly the pinned set: nothing unpinned pulled in (plotly's extras), nothing missing
    rules_bundle = rules_lambda_bundle(synth)
    assert not (rules_bundle / "plotly").exists() and not (rules_bundle / "aml_report").exists()


def test_the_plan_reads_the_manifest_the_glue_job_writes():
    """The plan role's exact key is the job's processed-files manifest (glue_jobs/curation/state.py)."""
    pytest.importorskip("pyspark")
    from glue_jobs.curation.state import Layout

    assert Layout("s3://curated/", "s3://raw/quarantine/", "run").processed_files == f"s3://curated/{stack.PROCESSED_FILES_KEY}"


# ---- the key reconciliation (issue 14) ---------------------------------------------------------
def test_the_reconciliation_states_read_and_write_the_contracts_paths(definition):
    from aml_contract import key_reconciliation

    states, keys = definition["States"], daily_pipeline.RESULT_KEYS
    digest = states["CuratedKeyDigest"]
    assert digest["Parameters"]["QueryString"] == key_reconciliation.curated_digest_sql()
    assert digest["Parameters"]["WorkGroup"] == names.name_of("dev", "athena_workgroup")
    assert digest["ResultPath"] == f"$.{keys['key_digest']}"
    assert states["ListCuratedKeys"]["Parameters"]["QueryString.$"] == "$.key_digests.keys_query"
    assert states["ListCuratedKeys"]["ResultPath"] == f"$.{keys['curated_keys']}"
    for state, phase in (("ReconcileDigests", "digests"), ("ReconcileKeys", "keys")):
        result = daily_pipeline.RECONCILE_PHASES[phase]
        assert states[state]["Parameters"]["Payload"] == {"phase": phase, "state.$": "$"}
        assert states[state]["ResultPath"] == f"$.{keys[result]}"
        assert states[state]["ResultSelector"] == {f"{f}.$": f"$.Payload.{f}" for f in daily_pipeline.STEP_FIELDS[result]}


def _reconcile_function(synth) -> dict:
    (props,) = [r["Properties"] for r in _resources(synth, "AWS::Lambda::Function").values()
                if r["Properties"]["Handler"] == daily_pipeline.HANDLERS["reconcile"]]
    return props


def test_the_reconcile_function_reaches_the_source_as_its_read_only_login(synth):
    from aml_contract import key_reconciliation

    props = _reconcile_function(synth)
    variables = props["Environment"]["Variables"]
    env = daily_pipeline.SOURCE_DB_ENV
    assert variables[env["user"]] == key_reconciliation.READER_ROLE and variables[env["iam_auth"]] == "true"
    assert variables[env["port"]] == str(Settings().database.port)
    assert variables[env["database"]] == Settings().database.database_name
    assert "ReadEndpoint" in json.dumps(variables[env["host"]])  # the cluster's reader endpoint (an import)
    assert variables[daily_pipeline.PSEUDONYMIZATION_SECRET_ENV] == names.name_of("dev", "pseudonymization_secret_id")
    (group,) = props["VpcConfig"]["SecurityGroupIds"]
    assert "ReconciliationSg" in json.dumps(group)  # the database stack's group, admitted on the port
    database = synth.templates["database"]["Resources"]
    ingress = [r["Properties"] for r in database.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"
               and "ReconciliationSg" in json.dumps(r["Properties"].get("SourceSecurityGroupId"))]
    assert [(i["FromPort"], i["ToPort"]) for i in ingress] == [(Settings().database.port,) * 2]
    (sg,) = [r["Properties"] for lid, r in database.items() if lid.startswith("ReconciliationSg")
             and r["Type"] == "AWS::EC2::SecurityGroup"]
    assert [(e["FromPort"], e["ToPort"]) for e in sg["SecurityGroupEgress"]] == [(443, 443)]  # VPC endpoints
    to_database = [r["Properties"] for r in database.values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"
                   and "ReconciliationSg" in json.dumps(r["Properties"]["GroupId"])]
    assert [(e["FromPort"], e["ToPort"]) for e in to_database] == [(Settings().database.port,) * 2]
    assert "DatabaseSg" in json.dumps(to_database[0]["DestinationSecurityGroupId"])


def test_the_reconcile_role_grants_exactly_its_calls(synth):
    from aml_contract import key_reconciliation, pii_access

    statements = _statements(synth, "ReconcileRole")
    by_sid = {s.get("Sid"): s for s in statements if s.get("Sid")}
    connect = by_sid["ConnectAsReadOnlyLogin"]
    assert connect["Action"] == "rds-db:connect"
    assert _flatten(connect["Resource"]).endswith(f"/{key_reconciliation.READER_ROLE}")
    assert ":dbuser:" in _flatten(connect["Resource"])
    metrics = by_sid["PutReconciliationMetrics"]
    assert (metrics["Action"], metrics["Resource"]) == ("cloudwatch:PutMetricData", "*")
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": key_reconciliation.METRICS_NAMESPACE}}
    assert _as_list(by_sid["ReadQueryResults"]["Resource"]) and by_sid["ReadQueryResults"]["Action"] == "s3:GetObject"
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert "secretsmanager:GetSecretValue" in actions
    assert not {a for a in actions if a.startswith(("s3:Put", "dynamodb:", "sns:", "athena:", "rds-data:"))}
    (role,) = [r["Properties"] for lid, r in _resources(synth, "AWS::IAM::Role").items() if lid.startswith("ReconcileRole")]
    assert {"Key": pii_access.WORKLOAD_TAG, "Value": pii_access.KEY_RECONCILIATION} in role["Tags"]


def test_a_key_mismatch_alarm_per_table_to_the_alarm_topic(synth):
    from aml_contract import key_reconciliation

    alarms = {a["Properties"]["Dimensions"][0]["Value"]: a["Properties"]
              for a in _resources(synth, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == key_reconciliation.MISMATCH_METRIC}
    assert set(alarms) == set(key_reconciliation.TABLES)
    for table, props in alarms.items():
        assert props["Namespace"] == key_reconciliation.METRICS_NAMESPACE
        assert props["Dimensions"] == [{"Name": key_reconciliation.TABLE_DIMENSION, "Value": table}]
        assert (props["Statistic"], props["Period"], props["Threshold"], props["EvaluationPeriods"]) == (
            "Maximum", 86400, 1, 1)
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"
        topic = _flatten(props["AlarmActions"][0])
        assert topic.endswith(f":{names.name_of('dev', 'alarm_topic')}") and props["OKActions"] == props["AlarmActions"]


def test_the_database_stack_creates_the_read_only_login_after_the_schema():
    from aml_contract import key_reconciliation
    from stacks.database import ddl_statements

    statements = ddl_statements()
    role = [s.rstrip(";") for s in statements[-len(key_reconciliation.reader_role_sql(True)):]]
    assert role == key_reconciliation.reader_role_sql(True)
    assert all("\n" not in s for s in role)  # one statement per Data API call
