"""The data lake stack: the buckets, the pseudonymisation secret and the curated catalog."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match

from aml_contract import reference, schema
from infra.conftest import built_reference, cdk_context


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


def test_curated_catalog_follows_the_contract(synth):
    t = synth.template("data-lake")
    t.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {
        "Name": schema.CURATED_DATABASE, "Description": Match.any_value()}})
    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in t.find_resources("AWS::Glue::Table").values()}
    # reference and derived: test_reference_data_stack
    assert set(tables) == {*schema.CURATED_TABLES, *reference.DATASETS, *reference.DERIVED_DATASETS}
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


def test_secret_is_generated(synth):
    t = synth.template("data-lake")
    t.has_resource_properties("AWS::SecretsManager::Secret", {
        "GenerateSecretString": Match.object_like({"GenerateStringKey": "key", "PasswordLength": 64}),
        "KmsKeyId": Match.any_value()})


def test_the_catalog_lives_in_the_lake_stack_only(synth):
    assert synth.template("data-lake").find_resources("AWS::Glue::Database")
    for concern, template in synth.templates.items():
        if concern != "data-lake":
            types = {r["Type"] for r in template.get("Resources", {}).values()}
            assert not types & {"AWS::Glue::Database", "AWS::Glue::Table"}, concern
    assert "CuratedDatabaseName" in synth.templates["data-lake"]["Outputs"]


def _lake_and_consumer():
    import aws_cdk as cdk

    from stacks.data_lake import DataLakeStack
    from stacks.settings import Settings

    app = cdk.App(context=cdk_context())
    lake = DataLakeStack(app, "aml-dev-data-lake", settings=Settings(), reference_folder=built_reference())
    return lake, cdk.Stack(app, "consumer")


def _statements(stack, type_: str) -> list[dict]:
    from aws_cdk.assertions import Template

    documents = [r["Properties"]["PolicyDocument"] for r in Template.from_stack(stack).find_resources(type_).values()]
    return [s for d in documents for s in d["Statement"]]


def _arn_text(resource) -> str:
    """An ARN built from pseudo parameters, as text: ${AWS::Region} for {"Ref": "AWS::Region"}."""
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(_arn_text(p) for p in resource["Fn::Join"][1])
    if isinstance(resource, dict) and "Ref" in resource:
        return "${" + resource["Ref"] + "}"
    return resource


def test_catalog_grant_read_gives_a_principal_the_catalog_database_and_named_tables_only():
    from aws_cdk import aws_iam as iam

    from stacks import catalog

    lake, consumer = _lake_and_consumer()
    role = iam.Role(consumer, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    lake.catalog.grant_read(role, ["alerts", "transactions"])
    (statement,) = _statements(consumer, "AWS::IAM::Policy")
    assert sorted(statement["Action"]) == sorted(catalog.QUERY_ACTIONS)
    glue = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    assert [_arn_text(r) for r in statement["Resource"]] == [
        f"{glue}:catalog", f"{glue}:database/{schema.CURATED_DATABASE}",
        f"{glue}:table/{schema.CURATED_DATABASE}/alerts", f"{glue}:table/{schema.CURATED_DATABASE}/transactions"]
    # by name: the consumer imports nothing from the lake stack
    assert "Fn::ImportValue" not in json.dumps(_statements(consumer, "AWS::IAM::Policy"))


def test_catalog_grant_read_into_a_policy_of_its_own_with_other_actions():
    from aws_cdk import aws_iam as iam

    from stacks import catalog

    lake, consumer = _lake_and_consumer()
    policy = iam.ManagedPolicy(consumer, "People")
    lake.catalog.grant_read(policy, ["alerts"], actions=catalog.SCHEMA_ACTIONS, sid="Schema")
    (statement,) = _statements(consumer, "AWS::IAM::ManagedPolicy")
    assert statement["Sid"] == "Schema" and sorted(statement["Action"]) == sorted(catalog.SCHEMA_ACTIONS)
    assert _arn_text(statement["Resource"][-1]).endswith(f":table/{schema.CURATED_DATABASE}/alerts")


def test_catalog_table_arn_refuses_a_table_the_contract_lacks():
    import pytest

    lake, _ = _lake_and_consumer()
    with pytest.raises(KeyError):
        lake.catalog.table_arn("payments")
