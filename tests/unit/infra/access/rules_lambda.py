"""The rules Lambda's calls, recorded: the handler runs in-process, configured exactly as the
streaming template configures the function (its environment, resolved), against moto holding the
resources the template declares. The batches raise alerts (state, alert store, SNS, Firehose),
send a poison record to the dead-letter queue, are redelivered (the idempotency record), and one
fails (the idempotency record is dropped)."""
from __future__ import annotations

import base64
import json
import os
from datetime import date
from decimal import Decimal
from unittest import mock

import boto3

from aml.reference import publish
from aml_contract import names, reference, rules, segments
from infra.access.actions import Call
from infra.access.recording import recorded_calls
from infra.access.templates import REGION, Templates

HANDLER = "lambdas.realtime_rules.handler.lambda_handler"
SOURCE = "rules Lambda (recorded)"


def function(templates: Templates) -> tuple[str, dict]:
    """(concern, resolved properties) of the rules function."""
    for concern, _, res in templates.resources("AWS::Lambda::Function"):
        if res["Properties"].get("Handler") == HANDLER:
            return concern, templates.resolve(concern, res["Properties"])
    raise LookupError(f"no function with handler {HANDLER}")


def role_of(templates: Templates, role_arn: str) -> str:
    return next(name for name, role in templates.roles.items() if role.arn == role_arn)


def _create_resources(templates: Templates, concern: str, environment: dict[str, str]) -> None:
    """The tables, topic, queue, secret and delivery stream the function's environment names,
    created with the template's own properties where moto needs them (key schemas)."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    wanted = {environment[names.RULES_LAMBDA_ENV[f]] for f in ("rule_state_table", "alerts_table", "idempotency_table",
                                                                    "profiles_table")}
    for _, _, res in templates.resources("AWS::DynamoDB::Table"):
        props = templates.resolve(concern, res["Properties"])
        if props["TableName"] in wanted:
            ddb.create_table(TableName=props["TableName"], KeySchema=props["KeySchema"],
                             AttributeDefinitions=props["AttributeDefinitions"], BillingMode="PAY_PER_REQUEST",
                             **{k: props[k] for k in ("GlobalSecondaryIndexes",) if k in props})
    boto3.client("sns", region_name=REGION).create_topic(
        Name=environment[names.RULES_LAMBDA_ENV["alerts_topic_arn"]].rsplit(":", 1)[1])
    boto3.client("sqs", region_name=REGION).create_queue(
        QueueName=environment[names.RULES_LAMBDA_ENV["dlq_url"]].rsplit("/", 1)[1])
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=environment[names.RULES_LAMBDA_ENV["pseudonymization_secret_id"]],
        SecretString=json.dumps({"key": "k" * 64}))
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="firehose-destination")
    reference_bucket = environment[names.RULES_LAMBDA_ENV["curated_bucket"]]
    s3.create_bucket(Bucket=reference_bucket)
    publish.to_s3(s3, reference_bucket)
    for key, body in segment_statistics().items():  # as the Glue job publishes them
        s3.put_object(Bucket=reference_bucket, Key=key, Body=body)
    boto3.client("firehose", region_name=REGION).create_delivery_stream(
        DeliveryStreamName=environment[names.RULES_LAMBDA_ENV["alerts_delivery_stream"]],
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/x",
                                            "BucketARN": "arn:aws:s3:::firehose-destination"})


def segment_statistics() -> dict[str, bytes]:
    """A small segment_amounts dataset (aml_contract.segments), key -> bytes."""
    sides = [("KE", Decimal("50.00")), ("US", Decimal("9000.00")), (None, Decimal("700.00"))]
    rows = segments.statistics_rows(sides, rules.load(), window_start=date(2025, 9, 4), window_end=date(2025, 11, 2))
    return reference.encode(segments.DATASET, rows, version="2025-11-02", source="access proof",
                            coverage_start=date(2025, 9, 4), coverage_end=date(2025, 11, 2), review_by=date(2025, 11, 4))


def _read_reference_data(environment: dict[str, str]) -> None:
    """Every dataset read as the function reads it: the contract's loader on the bucket its
    REFERENCE_BUCKET names (aml_contract.reference.ReferenceData.from_s3), the segment statistics
    (a derived dataset, under statistics/) included."""
    data = reference.ReferenceData.from_s3(boto3.client("s3", region_name=REGION),
                                           environment[names.RULES_LAMBDA_ENV["curated_bucket"]])
    data.usd_per_unit("EUR", date(2025, 11, 3))  # the FX table is read when first needed
    assert data.segment_floors.amounts  # read when first needed
    assert set(data.manifests) == {*reference.DATASETS, *reference.DERIVED_DATASETS}


def _transaction(tid: str, **fields) -> bytes:
    row = {"transaction_id": tid, "booked_at": "2025-11-03T12:00:00+00:00", "originator_account_id": "CASH",
           "beneficiary_account_id": "ACC-1", "amount": 12500, "currency": "USD", "amount_base": 12500,
           "transaction_type": "cash_deposit", "channel": "branch", "status": "booked", **fields}
    return json.dumps(row).encode()


def _event(payloads: list[bytes], stream_arn: str) -> dict:
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "ACC-1", "sequenceNumber": str(1000 + i),
                    "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1762171200.0},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{1000 + i}",
        "eventName": "aws:kinesis:record", "awsRegion": REGION, "eventSourceARN": stream_arn,
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/rules"} for i, data in enumerate(payloads)]}


class _Context:
    function_name = "rules"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rules"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def calls(templates: Templates) -> list[Call]:
    concern, props = function(templates)
    environment = {k: str(v) for k, v in props["Environment"]["Variables"].items()}
    role = role_of(templates, props["Role"])
    alerting = [_transaction("t1"), _transaction("t2", amount=9500, amount_base=9500),
                _transaction("t3", transaction_type="wire", originator_account_id="ACC-1",
                             beneficiary_account_id="ACC-2", amount=700, amount_base=700, channel="online"),
                b"{not json"]
    with recorded_calls() as made, mock.patch.dict(os.environ, {**environment, "POWERTOOLS_TRACE_DISABLED": "true"}):
        _create_resources(templates, concern, environment)
        from lambdas.realtime_rules import handler

        handler.forget_runtime()
        made.clear()
        stream = "arn:aws:kinesis:us-east-1:123456789012:stream/transactions"
        first = handler.lambda_handler(_event(alerting, stream), _Context())
        handler.lambda_handler(_event(alerting[:3], stream), _Context())  # a clean batch: stored for idempotency
        handler.lambda_handler(_event(alerting[:3], stream), _Context())  # its redelivery: answered from the store
        # A batch that fails (its poison record cannot reach the deleted DLQ): Powertools drops the
        # batch's in-progress idempotency record, so the retry is processed again.
        boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=environment[names.RULES_LAMBDA_ENV["dlq_url"]])
        made.pop()  # the test's own call
        failed = handler.lambda_handler(_event([b"{still not json"], stream), _Context())
        handler.forget_runtime()
        _read_reference_data(environment)
    assert first["batchItemFailures"] == [], first  # the poison record went to the DLQ, not back to Lambda
    assert failed["batchItemFailures"], failed
    return [Call(role, m.service, m.operation, m.params, SOURCE) for m in made]
