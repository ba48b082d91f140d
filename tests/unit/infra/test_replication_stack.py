"""The replication stack: DMS endpoints and tasks."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match

from aml_contract import names, schema


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
