"""The database stack: the Aurora PostgreSQL cluster and the `core` schema."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match

from stacks.database import ddl_statements


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
