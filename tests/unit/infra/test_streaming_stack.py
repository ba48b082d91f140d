"""The streaming stack: the stream, the rules engine (function, mapping, state tables, DLQ) and
alerts delivery (table, topic, Firehose)."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from aws_cdk.assertions import Match, Template

from aml_contract import names
from infra.conftest import built_reference, cdk_context
from stacks import assets


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
                "aml-dev-idempotency": names.IDEMPOTENCY_TABLE_KEYS, "aml-dev-profiles": names.PROFILES_TABLE_KEYS}
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


def _rules_function(synth) -> dict:
    t = synth.template("streaming")
    (function,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"FunctionName": "aml-dev-realtime-rules"}}).values()
    return function["Properties"]


def test_the_stack_owns_the_rules_lambda_configuration(synth):
    """Powertools' service and namespace and the alert TTL come from the stack (the handler passes
    none), with the values the monitoring alarms and settings expect."""
    from stacks.settings import Settings

    variables = _rules_function(synth)["Environment"]["Variables"]
    for var, value in names.POWERTOOLS_ENV.items():
        assert variables[var] == value
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == names.RULES_METRICS_NAMESPACE  # what the alarms watch
    assert variables["POWERTOOLS_SERVICE_NAME"] == names.RULES_SERVICE
    assert variables[names.ALERT_TTL_DAYS_ENV] == str(Settings.from_cdk_json().streaming.alert_ttl_days)


def test_the_local_poller_sets_the_environment_the_stack_sets(synth):
    """aml.local.resources.lambda_environment: the same variables; the same values where they are
    not resource names (those come from the deployed stack's outputs, or the names table)."""
    import dataclasses

    from aml.local import resources

    fields = {f.name: f"value-of-{f.name}" for f in dataclasses.fields(resources.LocalResources)}
    local = resources.lambda_environment(resources.LocalResources(**fields))
    deployed = _rules_function(synth)["Environment"]["Variables"]
    assert set(local) == set(deployed)
    for field, var in names.RULES_LAMBDA_ENV.items():
        assert local[var] == f"value-of-{field}"
    for var in set(deployed) - set(names.RULES_LAMBDA_ENV.values()):
        assert local[var] == deployed[var], var


def _policy_statements(synth, role_prefix: str) -> list[dict]:
    t = synth.templates["streaming"]
    role = next(lid for lid, r in t["Resources"].items() if r["Type"] == "AWS::IAM::Role" and lid.startswith(role_prefix))
    return [s for r in t["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in r["Properties"]["Roles"] for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_rules_engine_grants_each_table_the_item_actions_it_makes(synth):
    t = synth.templates["streaming"]
    table_names = {lid: r["Properties"]["TableName"] for lid, r in t["Resources"].items()
                   if r["Type"] == "AWS::DynamoDB::Table"}
    granted: dict[str, set[str]] = {}
    for statement in _policy_statements(synth, "RulesRole"):
        for resource in _as_list(statement["Resource"]):
            lid = resource.get("Fn::GetAtt", [None])[0] if isinstance(resource, dict) else None
            if lid in table_names:
                granted.setdefault(table_names[lid], set()).update(_as_list(statement["Action"]))
    assert granted == {
        "aml-dev-rule-state": {"dynamodb:BatchGetItem", "dynamodb:PutItem"},
        "aml-dev-alerts": {"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "aml-dev-idempotency": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        "aml-dev-profiles": {"dynamodb:BatchGetItem"},  # read only: the daily pipeline writes them
    }


def test_alerts_delivery_grant_deliver_gives_publish_and_put_record_batch_only():
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms

    from stacks.alerts_delivery import AlertsDelivery
    from stacks.data_lake import DataLakeStack
    from stacks.settings import Settings

    app, settings = cdk.App(context=cdk_context()), Settings()
    lake = DataLakeStack(app, "aml-dev-data-lake", settings=settings, reference_folder=built_reference())
    stack = cdk.Stack(app, "aml-dev-streaming")
    alerts = AlertsDelivery(stack, "Alerts", settings=settings, key=kms.Key(stack, "Key"), lake=lake)
    producer = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    alerts.grant_deliver(producer)
    template = Template.from_stack(stack)
    (policy,) = [r for lid, r in template.find_resources("AWS::IAM::Policy").items() if lid.startswith("Producer")]
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    assert {"sns:Publish", "firehose:PutRecordBatch"} <= actions
    assert not {a for a in actions if a.startswith(("dynamodb:", "s3:", "glue:"))}
    assert "deliverystream/aml-dev-alerts-delivery" in json.dumps(policy)
    # Firehose reads the schema of the catalog's alerts table only, in a policy of its own.
    (schema_access,) = [r for lid, r in template.find_resources("AWS::IAM::Policy").items()
                        if lid.startswith("AlertsSchemaAccess")]
    assert json.dumps(schema_access).count(":table/") == 1 and "/alerts" in json.dumps(schema_access)
