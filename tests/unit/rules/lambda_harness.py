"""The rules Lambda's handler on moto (in-process): the environment it runs in, the Kinesis event
Lambda builds, and small readers of what it wrote. Imported by name (pytest puts this folder on
sys.path); the `lambda_env` fixture is registered in conftest.py."""
import base64
import importlib
import json
import sys
from functools import cache

import boto3
from moto import mock_aws

from aml.reference import build, publish
from aml_contract import names

REGION = "us-east-1"
HANDLER = "lambdas.realtime_rules.handler"
ALERT_TTL_DAYS = "400"
REFERENCE_BUCKET = "curated"


@cache
def reference_objects() -> dict[str, bytes]:
    """The reference datasets built from the sources, once per test run (the FX table takes seconds)."""
    return build.build()


def handler_environment(monkeypatch):
    """Yields the handler module with moto tables, queue, topic, delivery stream, secret and the
    reference data published in the curated bucket (as `cdk deploy` and `aml reference publish` do)."""
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        ddb = boto3.client("dynamodb", region_name=REGION)
        tables = {"rule_state_table": "state", "alerts_table": "alerts", "idempotency_table": "idem",
                  "profiles_table": "profiles"}
        for field, name in tables.items():
            ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **names.table_definition(field))
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=REFERENCE_BUCKET)
        publish.to_s3(s3, REFERENCE_BUCKET, reference_objects())
        firehose = boto3.client("firehose", region_name=REGION)
        firehose.create_delivery_stream(DeliveryStreamName="alerts", DeliveryStreamType="DirectPut",
                                        ExtendedS3DestinationConfiguration={
                                            "RoleARN": "arn:aws:iam::123456789012:role/f",
                                            "BucketARN": "arn:aws:s3:::curated", "Prefix": "alerts/"})
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        watch = sqs.create_queue(QueueName="watch")["QueueUrl"]
        watch_arn = sqs.get_queue_attributes(QueueUrl=watch, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=watch_arn)
        boto3.client("secretsmanager", region_name=REGION).create_secret(Name="key", SecretString="k" * 32)
        env = {**tables, "alerts_topic_arn": topic, "dlq_url": dlq, "alerts_delivery_stream": "alerts",
               "pseudonymization_secret_id": "key", "curated_bucket": REFERENCE_BUCKET}
        for field, var in names.RULES_LAMBDA_ENV.items():
            monkeypatch.setenv(var, env[field])
        monkeypatch.setenv(names.ALERT_TTL_DAYS_ENV, ALERT_TTL_DAYS)
        for var, value in names.POWERTOOLS_ENV.items():
            monkeypatch.setenv(var, value)
        # The handler module loaded after its environment, as in a new container: Powertools reads
        # its service and namespace when the module is loaded. The previous one is put back after.
        package = importlib.import_module(HANDLER.rpartition(".")[0])
        monkeypatch.delitem(sys.modules, HANDLER, raising=False)
        monkeypatch.delattr(package, "handler", raising=False)
        handler = importlib.import_module(HANDLER)
        try:
            yield {"handler": handler, "sqs": sqs, "dlq": dlq, "watch": watch, "ddb": ddb, "s3": s3}
        finally:
            handler.forget_runtime()
            sys.modules.pop(HANDLER, None)
            vars(package).pop("handler", None)


def _event(payloads, first_seq=1):
    records = []
    for i, payload in enumerate(payloads):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        seq = str(first_seq + i)
        records.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "A", "sequenceNumber": seq,
                                    "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1.0},
                        "eventSource": "aws:kinesis", "eventID": f"shardId-0:{seq}", "awsRegion": REGION,
                        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"})
    return {"Records": records}


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "f", 128, "req"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

    def get_remaining_time_in_millis(self):
        return 60_000


def _row(tid, day, amount=9000):
    return {"transaction_id": tid, "booked_at": f"2025-03-0{day}T10:00:00Z", "originator_account_id": "CASH",
            "beneficiary_account_id": "ACC", "amount": str(amount), "currency": "USD", "amount_base": amount,
            "transaction_type": "cash_deposit", "channel": "branch", "status": "booked"}


def _envelope(row, operation="insert", table="transactions"):
    """A DMS data record; an update carries its before image (the key), as the deployed task sends it."""
    envelope = {"data": row, "metadata": {"operation": operation, "schema-name": "core", "table-name": table}}
    if operation == "update":
        envelope["before-image"] = {"transaction_id": row.get("transaction_id")}
    return envelope


def _drain(sqs, url):
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies += [json.loads(m["Body"]) for m in got]


def metric_documents(text: str) -> list[dict]:
    """The CloudWatch embedded-metric documents Powertools printed."""
    documents = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [d for d in documents if "_aws" in d]


def _alerts(ddb):
    return ddb.scan(TableName="alerts")["Items"]


