"""`cdk deploy --all` of the app into moto server (with -c aml:local=true): every stack reaches
CREATE_COMPLETE and the local runtime discovers every resource it needs from the stack outputs.

The test runs its own moto server on a free port, so it neither depends on nor disturbs the
shared emulator other tests restart."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aml_contract import names, reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CONCERNS = ("network", "data-lake", "database", "etl", "streaming", "replication", "analytics", "monitoring",
            "pipeline")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_emulator(monkeypatch, tmp_path):
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=(tmp_path / "moto.log").open("w"), stderr=subprocess.STDOUT,
                              env={**os.environ, "MOTO_ACCOUNT_ID": "000000000000"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    from aml.local import aws

    # "localhost", not an IP: moto resolves CloudFormation template URLs by host name.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{port}")
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    aws.client.cache_clear()
    aws.session.cache_clear()
    yield aws
    aws.client.cache_clear()
    aws.session.cache_clear()
    server.terminate()
    server.wait(timeout=10)


def test_deploy_all_stacks_into_moto(private_emulator, unique_name, tmp_path):
    from aml.infra.deploy import deploy_local
    from aml.local import resources

    env_name = unique_name("it").replace("-", "")[:16]
    deploy_local(env_name, tmp_path / "cdk.out")

    cfn = private_emulator.client("cloudformation")
    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    expected = {f"aml-{env_name}-{c}" for c in CONCERNS}
    assert {name: statuses.get(name) for name in expected} == dict.fromkeys(expected, "CREATE_COMPLETE")

    found = resources.discover(env_name)
    assert found is not None and found.source == "cloudformation"
    assert set(names.STACK_OUTPUTS.values()) <= set(vars(found))
    assert found.stream_name == f"aml-{env_name}-{names.STREAM_NAME_SUFFIX}"
    assert found.raw_bucket.startswith(f"aml-{env_name}-raw-")
    # The local runtime uses what CloudFormation created: the resources exist in the emulator.
    private_emulator.client("s3").head_bucket(Bucket=found.curated_bucket)
    # The BucketDeployment is left out locally; deploy_local published the reference data instead.
    data = reference.ReferenceData.from_s3(private_emulator.client("s3"), found.curated_bucket)
    assert set(data.manifests) >= {"currencies", "fatf_lists"} and "USD" in data.currencies
    private_emulator.client("kinesis").describe_stream_summary(StreamName=found.stream_name)
    # The daily pipeline's state machine (moto models it; it does not model the schedule, which it skips).
    machine = f"arn:aws:states:us-east-1:000000000000:stateMachine:{names.name_of(env_name, 'daily_pipeline')}"
    definition = private_emulator.client("stepfunctions").describe_state_machine(stateMachineArn=machine)["definition"]
    assert '"ScenarioQueries"' in definition
    table = private_emulator.client("dynamodb").describe_table(TableName=found.rule_state_table)["Table"]
    assert {k["AttributeName"] for k in table["KeySchema"]} == {names.RULE_STATE_TABLE_KEYS["partition"],
                                                                names.RULE_STATE_TABLE_KEYS["sort"]}
