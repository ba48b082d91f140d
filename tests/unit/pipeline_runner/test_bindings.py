"""The local bindings' shapes: Lambda invoke with injected handlers, Athena's parameters and
result CSV, dispatch on the resource ARN; and the real SNS binding on the emulator."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from aml.errors import AmlError
from aml.pipeline.athena_binding import result_csv, substitute_parameters
from aml.pipeline.bindings import (
    TaskError,
    function_name,
    lambda_invoke_binding,
    sns_publish_binding,
)
from aml.pipeline.glue_binding import job_run


class PlanFailed(Exception):
    pass


def _handlers(seen):
    def plan(event, context):
        seen.append((event, context.function_name, __import__("os").environ["RAW_BUCKET"]))
        return {"run_id": event["id"]}

    def report(event, context):
        raise PlanFailed("no data for 2024-03-01")
    return {"plan": plan, "report": report}


def test_lambda_invoke_calls_the_handler_of_the_named_function_in_its_environment():
    seen = []
    invoke = lambda_invoke_binding("t", {"RAW_BUCKET": "aml-t-raw"}, _handlers(seen))

    by_arn = invoke({"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:aml-t-pipeline-plan",
                     "Payload": {"id": "r1"}})
    by_name = invoke({"FunctionName": "aml-t-pipeline-plan:$LATEST", "Payload": {"id": "r2"}})

    assert by_arn["Payload"] == {"run_id": "r1"} and by_name["Payload"] == {"run_id": "r2"}
    assert (by_arn["StatusCode"], by_arn["ExecutedVersion"]) == (200, "$LATEST")
    assert seen[0] == ({"id": "r1"}, "aml-t-pipeline-plan", "aml-t-raw")


def test_a_handler_exception_is_an_error_named_like_lambdas_error_type():
    invoke = lambda_invoke_binding("t", {}, _handlers([]))

    with pytest.raises(TaskError) as raised:
        invoke({"FunctionName": "aml-t-pipeline-report", "Payload": {}})

    assert raised.value.error == "PlanFailed"
    cause = json.loads(raised.value.cause)
    assert (cause["errorType"], cause["errorMessage"]) == ("PlanFailed", "no data for 2024-03-01")


def test_an_unknown_function_is_lambdas_resource_not_found():
    invoke = lambda_invoke_binding("t", {}, _handlers([]))
    with pytest.raises(TaskError) as raised:
        invoke({"FunctionName": "aml-other-pipeline-plan", "Payload": {}})
    assert raised.value.error == "Lambda.ResourceNotFoundException"


@pytest.mark.parametrize(("given", "name"), [
    ("f", "f"), ("f:prod", "f"), ("arn:aws:lambda:us-east-1:1:function:f", "f"),
    ("arn:aws-cn:lambda:cn-north-1:1:function:f:3", "f"), ("123456789012:function:f", "f")])
def test_function_names(given, name):
    assert function_name(given) == name


def test_execution_parameters_replace_the_question_marks_outside_strings_and_comments():
    sql = "SELECT '?' AS q, \"a?\" FROM t -- why?\nWHERE dt BETWEEN ? AND ? /* ? */"
    assert substitute_parameters(sql, ["'2024-01-01'", "'2024-01-31'"]) == \
        "SELECT '?' AS q, \"a?\" FROM t -- why?\nWHERE dt BETWEEN '2024-01-01' AND '2024-01-31' /* ? */"
    with pytest.raises(AmlError, match="1 `\\?` but 2"):
        substitute_parameters("SELECT ?", ["1", "2"])


def test_result_csv_is_athenas_every_value_quoted_null_empty():
    frame = pd.DataFrame({"account": ["a\"1", None], "n": [3, 4], "flag": [True, False],
                          "at": [pd.Timestamp("2024-03-01 10:00", tz="UTC"), pd.NaT]})
    assert result_csv(frame) == ('"account","n","flag","at"\n'
                                 '"a""1","3","true","2024-03-01 10:00:00.000 UTC"\n'
                                 ',"4","false",\n')


def test_a_job_run_has_getjobruns_shape():
    run = job_run("jr_1", "job", {"--x": "1"}, "FAILED", 0, "Traceback ...")
    assert {"Id", "JobName", "JobRunState", "StartedOn", "CompletedOn", "ErrorMessage"} <= set(run)


@pytest.mark.integration
def test_sns_publish_on_the_emulator(emulator, unique_name):
    from aml.local import aws

    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    queue = sqs.create_queue(QueueName=unique_name("queue"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    result = sns_publish_binding()({"TopicArn": topic, "Subject": "States.TaskFailed", "Message": {"step": "x"}})

    assert result["MessageId"]
    (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    assert json.loads(message["Body"]) == {"step": "x"}
    with pytest.raises(TaskError) as raised:
        sns_publish_binding()({"TopicArn": topic + "-missing", "Message": "m"})
    assert raised.value.error.startswith("SNS.")


def test_a_handler_that_cannot_be_imported_is_lambdas_import_module_error():
    invoke = lambda_invoke_binding("t", {}, {"plan": "lambdas.no_such_module.handler.plan"})
    with pytest.raises(TaskError) as raised:
        invoke({"FunctionName": "aml-t-pipeline-plan", "Payload": {}})
    assert raised.value.error == "Runtime.ImportModuleError"


@pytest.mark.integration
def test_athena_binding_runs_on_duckdb_and_writes_athenas_csv(emulator, unique_name, tmp_path):
    import types

    from aml.local import aws
    from aml.pipeline.athena_binding import athena_query_binding

    part = tmp_path / "transactions" / "dt=2024-03-01"
    part.mkdir(parents=True)
    pd.DataFrame({"account": ["a", "b", None], "amount": [1.5, 2.0, 3.0]}).to_parquet(part / "p.parquet")
    bucket = unique_name("results")
    aws.client("s3").create_bucket(Bucket=bucket)
    res = types.SimpleNamespace(athena_results_bucket=bucket, athena_workgroup="aml-t-analysts")
    query = athena_query_binding(res, types.SimpleNamespace(ready=lambda: tmp_path))

    out = query({"QueryString": "SELECT account, amount FROM transactions WHERE dt = ? ORDER BY amount",
                 "ExecutionParameters": ["'2024-03-01'"], "WorkGroup": "aml-t-analysts"})["QueryExecution"]

    assert out["Status"]["State"] == "SUCCEEDED" and out["WorkGroup"] == "aml-t-analysts"
    location = out["ResultConfiguration"]["OutputLocation"]
    assert location == f"s3://{bucket}/results/{out['QueryExecutionId']}.csv"
    body = aws.client("s3").get_object(Bucket=bucket, Key=location.split("/", 3)[3])["Body"].read().decode()
    assert body == '"account","amount"\n"a","1.5"\n"b","2.0"\n,"3.0"\n'
    with pytest.raises(TaskError) as raised:
        query({"QueryString": "SELECT * FROM no_such_table"})
    assert raised.value.error == "States.TaskFailed"
    assert json.loads(raised.value.cause)["QueryExecution"]["Status"]["State"] == "FAILED"
