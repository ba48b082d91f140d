"""Local resources are created by name when no stack is deployed, idempotently."""
import pytest

from aml.local import aws, resources

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
