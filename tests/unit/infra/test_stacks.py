"""aws_cdk.assertions over each synthesized stack: the security and behaviour properties the
issue asks for, read from the templates `cdk deploy` would use."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from aws_cdk.assertions import Match

from aml_contract import glue_job, names, schema
from aml_contract.named_queries import QUERIES_DIR
from stacks import assets
from stacks.database import ddl_statements

CONCERNS = {"network", "data-lake", "database", "etl", "streaming", "replication", "analytics", "monitoring"}


def test_one_stack_per_concern_named_for_discovery(synth):
    assert set(synth.stacks) == CONCERNS
    assert {s.stack_name for s in synth.stacks.values()} == {f"aml-dev-{c}" for c in CONCERNS}


def test_every_output_the_local_runtime_needs_is_declared(synth):
    outputs = {key for t in synth.templates.values() for key in t.get("Outputs", {})}
    assert set(names.STACK_OUTPUTS) <= outputs


def test_network_is_private_with_flow_logs_and_endpoints(synth):
    t = synth.template("network")
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    t.resource_count_is("AWS::EC2::InternetGateway", 0)
    t.has_resource_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    t.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
    t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": 365})
    endpoints = synth.resources("AWS::EC2::VPCEndpoint")
    assert sum(r["Properties"].get("VpcEndpointType") == "Interface" for _, _, r in endpoints) >= 8
    assert len({json.dumps(r["Properties"]["ServiceName"]) for _, _, r in endpoints}) == len(endpoints)
    subnets = synth.resources("AWS::EC2::Subnet")
    assert len({json.dumps(r["Properties"]["AvailabilityZone"]) for _, _, r in subnets}) >= 2


def test_data_buckets_are_kms_ssl_private_versioned_logged_and_retained(synth):
    t = synth.template("data-lake")
    buckets = t.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 4
    data = {lid: b for lid, b in buckets.items() if not lid.startswith("AccessLogs")}
    assert len(data) == 3
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert bucket["DeletionPolicy"] == "Retain", lid
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, lid
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, lid
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(r.get("AbortIncompleteMultipartUpload") for r in rules), lid
    for lid, bucket in data.items():
        sse = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", lid
        assert sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"], lid
        assert sse["BucketKeyEnabled"] is True, lid
        assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"], lid
    results = next(b for lid, b in data.items() if lid.startswith("AthenaResults"))
    assert any(r.get("ExpirationInDays") == 30 for r in results["Properties"]["LifecycleConfiguration"]["Rules"])
    access_logs = next(b for lid, b in buckets.items() if lid.startswith("AccessLogs"))
    sse = access_logs["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    policies = t.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 4
    for lid, policy in policies.items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                   for s in statements), lid
    data_policies = [p for lid, p in policies.items() if not lid.startswith("AccessLogs")]
    for policy in data_policies:
        sids = {s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"}
        assert {"DenyOtherEncryptionKeys", "DenyNonKmsEncryption"} <= sids


def test_keys_rotate_and_secret_is_generated(synth):
    for concern, lid, key in synth.resources("AWS::KMS::Key"):
        assert key["Properties"]["EnableKeyRotation"] is True, (concern, lid)
        assert key["DeletionPolicy"] == "Retain", (concern, lid)
    t = synth.template("data-lake")
    t.has_resource_properties("AWS::SecretsManager::Secret", {
        "GenerateSecretString": Match.object_like({"GenerateStringKey": "key", "PasswordLength": 64}),
        "KmsKeyId": Match.any_value()})


def test_database_cluster(synth):
    t = synth.template("database")
    t.has_resource_properties("AWS::RDS::DBCluster", {
        "Engine": "aurora-postgresql", "StorageEncrypted": True, "KmsKeyId": Match.any_value(),
        "EnableIAMDatabaseAuthentication": True, "DeletionProtection": True, "Port": 5433,
        "EnableHttpEndpoint": True, "BackupRetentionPeriod": 7,
        "EnableCloudwatchLogsExports": ["postgresql"],
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4},
        "MasterUserPassword": Match.object_like({"Fn::Join": Match.any_value()}),  # a dynamic reference
    })
    t.has_resource_properties("AWS::RDS::DBClusterParameterGroup", {
        "Parameters": Match.object_like({"rds.logical_replication": "1", "rds.force_ssl": "1"})})
    t.has_resource_properties("AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless"})
    t.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "HostedRotationLambda": Match.object_like({"RotationType": "PostgreSQLSingleUser"})})
    cluster = next(iter(t.find_resources("AWS::RDS::DBCluster").values()))
    password = json.dumps(cluster["Properties"]["MasterUserPassword"])
    assert "resolve:secretsmanager" in password  # never a literal password


def test_schema_custom_resources_run_every_ddl_statement_in_order(synth):
    t = synth.template("database")
    statements = ddl_statements()
    assert statements[0].startswith("CREATE SCHEMA IF NOT EXISTS core")
    resources = t.find_resources("Custom::AWS")
    assert len(resources) == len(statements)
    created = [json.loads(json.dumps(r["Properties"]["Create"])) for r in resources.values()]
    assert all("ExecuteStatement" in json.dumps(c) for c in created)
    for i, _ in enumerate(statements[1:], start=1):
        dependent = next(r for lid, r in resources.items() if lid.startswith(f"CoreSchema{i}"))
        assert any(d.startswith(f"CoreSchema{i - 1}") for d in dependent.get("DependsOn", []))


def test_replication_endpoints_and_tasks(synth):
    t = synth.template("replication")
    source = t.find_resources("AWS::DMS::Endpoint", {"Properties": {"EndpointType": "source"}})
    (source,) = source.values()
    props = source["Properties"]
    assert "Password" not in props and "Username" not in props
    assert props["PostgreSqlSettings"]["SecretsManagerSecretId"]
    assert props["PostgreSqlSettings"]["SecretsManagerAccessRoleArn"]
    assert props["SslMode"] == "require"
    t.has_resource_properties("AWS::DMS::Endpoint", {"EngineName": "s3", "S3Settings": Match.object_like({
        "DataFormat": "parquet", "IncludeOpForFullLoad": True,
        "TimestampColumnName": schema.DMS_COMMIT_TS_COLUMN, "DatePartitionEnabled": True,
        "DatePartitionSequence": "YYYYMMDD", "DatePartitionDelimiter": "SLASH",
        "BucketFolder": schema.RAW_PREFIX, "EncryptionMode": "SSE_KMS",
        "ServerSideEncryptionKmsKeyId": Match.any_value()})})
    t.has_resource_properties("AWS::DMS::Endpoint", {"EngineName": "kinesis", "KinesisSettings": Match.object_like({
        "MessageFormat": "json", "StreamArn": Match.any_value()})})
    t.has_resource_properties("AWS::DMS::ReplicationInstance", {"PubliclyAccessible": False,
                                                                "KmsKeyId": Match.any_value()})
    t.has_resource_properties("AWS::DMS::ReplicationSubnetGroup", {"SubnetIds": Match.any_value()})
    tasks = {r["Properties"]["MigrationType"]: r["Properties"] for r in t.find_resources("AWS::DMS::ReplicationTask").values()}
    assert set(tasks) == {"full-load-and-cdc", "cdc"}
    raw_rules = json.loads(tasks["full-load-and-cdc"]["TableMappings"])["rules"]
    assert raw_rules[0]["object-locator"] == {"schema-name": "core", "table-name": "%"}
    stream_rules = json.loads(tasks["cdc"]["TableMappings"])["rules"]
    mapping = next(r for r in stream_rules if r["rule-type"] == "object-mapping")
    assert mapping["mapping-parameters"] == {"partition-key-type": "attribute-name",
                                             "partition-key-name": names.REALTIME_PARTITION_KEY}
    roles = {r["Properties"]["RoleName"] for r in t.find_resources("AWS::IAM::Role").values() if "RoleName" in r["Properties"]}
    assert roles == {"dms-vpc-role", "dms-cloudwatch-logs-role"}


def test_etl_catalog_and_job(synth):
    t = synth.template("etl")
    t.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {
        "Name": schema.CURATED_DATABASE, "Description": Match.any_value()}})
    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in t.find_resources("AWS::Glue::Table").values()}
    assert set(tables) == set(schema.CURATED_TABLES)
    for name, columns in schema.CURATED_TABLES.items():
        declared = [(c["Name"], c["Type"]) for c in tables[name]["StorageDescriptor"]["Columns"]]
        assert declared == [(c, schema.glue_type(t)) for c, t in columns], name
        params = tables[name]["Parameters"]
        if name in schema.PARTITIONED_TABLES:
            assert [k["Name"] for k in tables[name]["PartitionKeys"]] == [schema.PARTITION_COLUMN]
            assert params["projection.enabled"] == "true"
            assert params[f"projection.{schema.PARTITION_COLUMN}.type"] == "date"
            assert params[f"projection.{schema.PARTITION_COLUMN}.format"] == "yyyy-MM-dd"
        else:
            assert not tables[name].get("PartitionKeys")
    t.has_resource_properties("AWS::Glue::Job", {
        "GlueVersion": "5.1", "Command": Match.object_like({"Name": "glueetl", "PythonVersion": "3"}),
        "SecurityConfiguration": Match.any_value(), "WorkerType": "G.1X", "NumberOfWorkers": 2,
        "DefaultArguments": Match.object_like({
            "--enable-metrics": "", "--enable-continuous-cloudwatch-log": "true",
            "--extra-py-files": Match.any_value(),
            **{name: Match.any_value() for name in glue_job.default_arguments("raw", "curated", "secret")}})})
    # One incrementality story: the job's processed-files manifest, never Glue job bookmarks.
    arguments = next(iter(t.find_resources("AWS::Glue::Job").values()))["Properties"]["DefaultArguments"]
    assert "--job-bookmark-option" not in arguments
    t.has_resource_properties("AWS::Glue::SecurityConfiguration", {"EncryptionConfiguration": {
        "S3Encryptions": [Match.object_like({"S3EncryptionMode": "SSE-KMS"})],
        "CloudWatchEncryption": Match.object_like({"CloudWatchEncryptionMode": "SSE-KMS"}),
        "JobBookmarksEncryption": Match.absent()}})
    t.has_resource_properties("AWS::Glue::Trigger", {"Type": "SCHEDULED", "StartOnCreation": True,
                                                     "Schedule": Match.string_like_regexp(r"^cron\(")})


def test_streaming_event_source_mapping(synth):
    t = synth.template("streaming")
    t.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "StartingPosition": "TRIM_HORIZON", "BatchSize": 500, "MaximumBatchingWindowInSeconds": 5,
        "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": 3600,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}}})
    t.has_resource_properties("AWS::Kinesis::Stream", {
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": Match.any_value()},
        "Name": "aml-dev-transactions"})
    t.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_streaming_tables_follow_the_contract_key_schemas(synth):
    t = synth.template("streaming")
    expected = {"aml-dev-rule-state": names.RULE_STATE_TABLE_KEYS, "aml-dev-alerts": names.ALERTS_TABLE_KEYS,
                "aml-dev-idempotency": names.IDEMPOTENCY_TABLE_KEYS}
    tables = {r["Properties"]["TableName"]: r["Properties"] for r in t.find_resources("AWS::DynamoDB::Table").values()}
    assert set(tables) == set(expected)
    for name, keys in expected.items():
        props = tables[name]
        schema_ = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
        assert schema_["HASH"] == keys["partition"] and schema_.get("RANGE") == keys.get("sort"), name
        assert props["TimeToLiveSpecification"] == {"AttributeName": keys["ttl"], "Enabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["KMSMasterKeyId"], name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name


def test_rules_lambda(synth):
    t = synth.template("streaming")
    functions = t.find_resources("AWS::Lambda::Function", {"Properties": {"FunctionName": "aml-dev-realtime-rules"}})
    (function,) = functions.values()
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    # The handler resolves inside the bundle, which holds assets.LAMBDA_PACKAGES at its root, as here.
    module, attribute = props["Handler"].rsplit(".", 1)
    assert module.split(".")[0] in assets.LAMBDA_PACKAGES
    assert callable(getattr(importlib.import_module(module), attribute)), props["Handler"]
    assert props["ReservedConcurrentExecutions"] == 10
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["KmsKeyArn"] and props["VpcConfig"]["SubnetIds"] and props["DeadLetterConfig"]["TargetArn"]
    assert set(names.RULES_LAMBDA_ENV.values()) <= set(props["Environment"]["Variables"])
    layer = json.dumps(props["Layers"])
    assert "017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:" in layer


def rules_lambda_bundle(synth) -> Path:
    manifest = json.loads((synth.outdir / "aml-dev-streaming.assets.json").read_text())
    folders = [synth.outdir / f["source"]["path"] for f in manifest["files"].values()
               if f["source"].get("packaging") == "zip" and (synth.outdir / f["source"]["path"]).is_dir()]
    bundles = [d for d in folders if (d / "lambdas" / "realtime_rules" / "handler.py").exists()]
    assert len(bundles) == 1, folders
    return bundles[0]


def test_rules_lambda_asset_bundles_handler_and_contract(synth):
    bundle = rules_lambda_bundle(synth)
    assert (bundle / "aml_contract" / "schema.py").exists()
    assert not list(bundle.rglob("__pycache__"))


def test_rules_lambda_asset_holds_the_pinned_wheels_for_python313_arm64(synth):
    bundle = rules_lambda_bundle(synth)
    pins = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
            for line in assets.LAMBDA_REQUIREMENTS.read_text().splitlines() if "==" in line}
    installed = {}
    for dist_info in bundle.glob("*.dist-info"):
        meta = dict(line.split(": ", 1) for line in (dist_info / "METADATA").read_text().splitlines()
                    if line.startswith(("Name: ", "Version: ")))
        installed[meta["Name"].lower().replace("_", "-")] = meta["Version"]
    assert installed == pins  # exactly the pinned set: nothing unpinned pulled in, nothing missing
    # pydantic's compiled core, built for the function's interpreter and architecture (not this machine's)
    wheel = (next(bundle.glob("pydantic_core-*.dist-info")) / "WHEEL").read_text()
    assert "Tag: cp313-cp313-manylinux_2_17_aarch64" in wheel, wheel
    (core,) = (bundle / "pydantic_core").glob("_pydantic_core*.so")
    assert core.name == "_pydantic_core.cpython-313-aarch64-linux-gnu.so"
    assert core.read_bytes()[18:20] == (183).to_bytes(2, "little")  # ELF e_machine: EM_AARCH64
    assert not [p for p in bundle.rglob("*.so") if "x86_64" in p.name or "cpython-311" in p.name]


def test_alerts_firehose_converts_to_parquet_partitioned_by_dt(synth):
    t = synth.template("streaming")
    t.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "DeliveryStreamType": "DirectPut",
        "DeliveryStreamEncryptionConfigurationInput": Match.object_like({"KeyType": "CUSTOMER_MANAGED_CMK"}),
        "ExtendedS3DestinationConfiguration": Match.object_like({
            "Prefix": f"{names.ALERTS_S3_PREFIX}/dt=!{{partitionKeyFromQuery:dt}}/",
            "DynamicPartitioningConfiguration": Match.object_like({"Enabled": True}),
            "DataFormatConversionConfiguration": Match.object_like({
                "Enabled": True, "SchemaConfiguration": Match.object_like({"TableName": Match.any_value()})}),
            "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": Match.any_value()}}})})


def test_analytics_workgroup_and_named_queries(synth):
    t = synth.template("analytics")
    t.has_resource_properties("AWS::Athena::WorkGroup", {"WorkGroupConfiguration": Match.object_like({
        "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": 10 * 1024**3,
        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
        "ResultConfiguration": Match.object_like({"EncryptionConfiguration": {
            "EncryptionOption": "SSE_KMS", "KmsKey": Match.any_value()}})})})
    sql_files = sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))
    queries = t.find_resources("AWS::Athena::NamedQuery")
    assert len(queries) == len(sql_files) > 0
    assert sorted(q["Properties"]["Name"] for q in queries.values()) == sql_files
    policy = next(iter(t.find_resources("AWS::IAM::ManagedPolicy").values()))
    text = json.dumps(policy)
    assert "-raw-" not in text and "aml-dev-curated" in text  # curated zone only, never the raw (PII) zone


def test_monitoring_alarms_notify(synth):
    t = synth.template("monitoring")
    alarms = t.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 8
    for lid, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"], lid
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {"GetRecords.IteratorAgeMilliseconds", "IteratorAge", "Errors", "Throttles",
            "ApproximateNumberOfMessagesVisible", "TriggeredRules", names.SCHEMA_CHANGES_METRIC} <= metrics
    # A DMS control record that changes a column fires it at one (the Lambda's metric, its namespace).
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": names.SCHEMA_CHANGES_METRIC, "Namespace": names.RULES_METRICS_NAMESPACE,
        "Dimensions": [{"Name": "service", "Value": names.RULES_SERVICE}], "Threshold": 1})
    t.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({"source": ["aws.glue"]})})
    t.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({"source": ["aws.dms"]})})
    t.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_glue_libraries_zip_is_importable_as_the_entry_script_imports_it():
    import zipfile

    from stacks import assets

    path = assets.glue_extra_python_zip()
    names_ = zipfile.ZipFile(path).namelist()
    assert "glue_jobs/__init__.py" in names_ and "glue_jobs/curation/__init__.py" in names_
    assert "aml_contract/schema.py" in names_ and "glue_jobs/curate_transactions.py" not in names_
    assert not [n for n in names_ if "__pycache__" in n]
    assert path.read_bytes() == assets.glue_extra_python_zip().read_bytes()  # deterministic asset hash
    entry = assets.GLUE_ENTRY_SCRIPT.read_text()
    assert "from glue_jobs.curation" in entry
