"""The local replicator's calls, recorded, as the calls of DMS's roles: the raw-zone writer (DMS
task 1's S3 target) as the raw-zone role, the stream writer (task 2's Kinesis target) as the
stream role. It runs against moto holding the bucket and stream the templates name: a full load,
a smaller reload (which removes the stale LOAD file, as DROP_AND_CREATE does), and a CDC batch."""
from __future__ import annotations

from datetime import UTC, datetime

import boto3

from aml.replicate.decoding import Change, Transaction
from aml.replicate.dms_kinesis import TransactionStream, envelopes
from aml.replicate.dms_s3 import RawZone
from aml_contract import schema
from infra.access.actions import Call, sse_kms
from infra.access.recording import recorded_calls
from infra.access.templates import REGION, Templates

SOURCE = "replicator as DMS (recorded)"
# The stand-in checks its stream with DescribeStreamSummary where DMS calls DescribeStream (the
# action DMS documents for its Kinesis target): recorded as the call DMS makes.
AS_DMS = {("kinesis", "DescribeStreamSummary"): "DescribeStream"}


def _endpoint(templates: Templates, type_: str) -> tuple[dict, str]:
    """(resolved settings, role name) of the DMS endpoint of that engine."""
    for concern, _, res in templates.resources("AWS::DMS::Endpoint"):
        props = templates.resolve(concern, res["Properties"])
        settings = props.get(type_)
        if settings:
            role_arn = settings["ServiceAccessRoleArn"]
            return settings, next(name for name, role in templates.roles.items() if role.arn == role_arn)
    raise LookupError(type_)


def _row(table: schema.Table, key: str) -> tuple:
    return tuple(key if c == table.primary_key else None for c in table.column_names)


def calls(templates: Templates) -> list[Call]:
    s3_settings, s3_role = _endpoint(templates, "S3Settings")
    kinesis_settings, kinesis_role = _endpoint(templates, "KinesisSettings")
    bucket, stream_arn = s3_settings["BucketName"], kinesis_settings["StreamArn"]
    committed = datetime(2025, 11, 3, 12, tzinfo=UTC)
    cdc = [Transaction(7, 0x1000, committed, [Change(t.name, "U", _row(t, "k1")) for t in schema.SOURCE_TABLES.values()])]
    with recorded_calls() as made:
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        boto3.client("kinesis", region_name=REGION).create_stream(StreamName=stream_arn.rsplit("/", 1)[1], ShardCount=1)
        made.clear()
        # moto in-process, not the local emulator (the writers' own clients point at it, and
        # creating them sets AWS_ENDPOINT_URL: so these are created first)
        s3, kinesis = boto3.client("s3", region_name=REGION), boto3.client("kinesis", region_name=REGION)
        raw, stream = RawZone(bucket), TransactionStream(stream_arn.rsplit("/", 1)[1])
        raw.s3, stream.kinesis = s3, kinesis
        raw.check()
        stream.check()
        roles = {}
        for table in schema.SOURCE_TABLES.values():
            raw.write_load(table, iter([[_row(table, "k1"), _row(table, "k2")]]), file_rows=1)
            raw.write_load(table, iter([[_row(table, "k1")]]), file_rows=1)
        raw.write_cdc(cdc)
        s3_calls = len(made)
        stream.put(envelopes(cdc))
        for i, m in enumerate(made):
            roles[i] = kinesis_role if m.service == "kinesis" else s3_role
    assert s3_calls and len(made) > s3_calls
    # DMS asks for SSE-KMS on every upload as its endpoint says; the stand-in relies on the
    # bucket's default encryption, which moto does not enforce either way.
    sse = sse_kms(s3_settings["ServerSideEncryptionKmsKeyId"]) if s3_settings.get("EncryptionMode") == "SSE_KMS" else ()
    return [Call(roles[i], m.service, AS_DMS.get((m.service, m.operation), m.operation), m.params, SOURCE,
                 headers=sse if m.service == "s3" else ()) for i, m in enumerate(made)]
