"""Local resources are created by name when no stack is deployed, idempotently."""
import pytest

from aml.local import aws, resources
from aml.reference import build
from aml_contract import names, reference

pytestmark = pytest.mark.integration


def test_ensure_creates_everything_once(local_services, unique_name):
    env = unique_name("t")
    first = resources.ensure(env)
    second = resources.ensure(env)
    assert first == second and first.source == "created"
    assert aws.client("kinesis").describe_stream_summary(StreamName=first.stream_name)[
        "StreamDescriptionSummary"]["OpenShardCount"] == resources.STREAM_SHARDS
    table = aws.client("dynamodb").describe_table(TableName=first.rule_state_table)["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert len(resources.pseudonymization_key(first)) == 64
    env_vars = resources.lambda_environment(first)
    assert env_vars["ALERTS_TABLE"] == first.alerts_table and env_vars["DLQ_URL"] == first.dlq_url


def test_ensure_publishes_the_reference_data_where_the_lambda_looks(local_services, unique_name):
    found = resources.ensure(unique_name("ref"))
    bucket = resources.lambda_environment(found)[names.RULES_LAMBDA_ENV["curated_bucket"]]
    assert bucket == found.curated_bucket
    s3 = aws.client("s3")
    built = build.build()
    assert sorted(built) == sorted([*map(reference.data_key, reference.DATASETS),
                                    *map(reference.manifest_key, reference.DATASETS)])
    assert all(s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body for key, body in built.items())
    assert "EUR" in reference.ReferenceData.from_s3(s3, bucket).currencies  # as the rules Lambda loads it
    assert resources.ensure_reference_data(bucket) is False  # already current: nothing re-uploaded
