"""A small hand-written definition with the daily pipeline's four Task resource types, and fake
bindings that record their calls."""
from __future__ import annotations

import copy

import pytest

from aml.pipeline.bindings import (
    ATHENA_START_QUERY_SYNC,
    GLUE_START_JOB_RUN_SYNC,
    LAMBDA_INVOKE,
    SNS_PUBLISH,
    Bindings,
    TaskError,
)

TOPIC = "arn:aws:sns:us-east-1:000000000000:aml-t-alerts"
CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "NotifyFailure"}]

DEFINITION = {
    "StartAt": "Plan",
    "States": {
        "Plan": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:aml-t-pipeline-plan",
                           "Payload": {"run_date.$": "$.run_date", "run_id.$": "$$.Execution.Name"}},
            "ResultSelector": {"run_id.$": "$.Payload.run_id", "queries.$": "$.Payload.queries"},
            "ResultPath": "$.plan",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2}],
            "Catch": CATCH, "Next": "CurateRaw"},
        "CurateRaw": {
            "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": "aml-t-curate-transactions"},
            "ResultSelector": {"state.$": "$.JobRunState"}, "ResultPath": "$.curate",
            "Catch": CATCH, "Next": "ScenarioQueries"},
        "ScenarioQueries": {
            "Type": "Map", "ItemsPath": "$.plan.queries", "ResultPath": "$.queries", "MaxConcurrency": 2,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Query",
                "States": {"Query": {
                    "Type": "Task", "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                    "Parameters": {"QueryString.$": "$.query_string", "ExecutionParameters.$": "$.execution_parameters",
                                   "WorkGroup": "aml-t-analysts"},
                    "ResultSelector": {"query_execution_id.$": "$.QueryExecution.QueryExecutionId",
                                       "output_location.$": "$.QueryExecution.ResultConfiguration.OutputLocation"},
                    "End": True}}},
            "Catch": CATCH, "Next": "Summary"},
        "Summary": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": TOPIC, "Message.$": "States.Format('run {} done', $.plan.run_id)"},
            "ResultPath": None, "End": True},
        "NotifyFailure": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": TOPIC, "Subject.$": "$.failure.Error", "Message.$": "$.failure.Cause"},
            "ResultPath": None, "Next": "Failed"},
        "Failed": {"Type": "Fail", "Error": "PipelineFailed", "Cause": "a step failed; see the notification"},
    },
}


@pytest.fixture
def definition():
    return copy.deepcopy(DEFINITION)


class Fakes:
    """Fake bindings: each records its inputs; `fail[kind]` lists the errors to raise, in order."""

    def __init__(self):
        self.calls: dict[str, list[dict]] = {"lambda": [], "glue": [], "athena": [], "sns": []}
        self.fail: dict[str, list[TaskError]] = {k: [] for k in self.calls}

    def _record(self, kind: str, task_input: dict) -> None:
        self.calls[kind].append(task_input)
        if self.fail[kind]:
            raise self.fail[kind].pop(0)

    def plan(self, task_input):
        self._record("lambda", task_input)
        payload = task_input["Payload"]
        return {"ExecutedVersion": "$LATEST", "StatusCode": 200, "Payload": {
            "run_id": payload["run_id"], "queries": [
                {"name": "q1", "query_string": "SELECT ?", "execution_parameters": ["'a'"]},
                {"name": "q2", "query_string": "SELECT ?", "execution_parameters": ["'b'"]}]}}

    def glue(self, task_input):
        self._record("glue", task_input)
        return {"Id": "jr_1", "JobName": task_input["JobName"], "JobRunState": "SUCCEEDED"}

    def athena(self, task_input):
        self._record("athena", task_input)
        qid = f"id-{task_input['ExecutionParameters'][0].strip(chr(39))}"
        return {"QueryExecution": {"QueryExecutionId": qid, "Status": {"State": "SUCCEEDED"},
                                   "ResultConfiguration": {"OutputLocation": f"s3://results/results/{qid}.csv"}}}

    def sns(self, task_input):
        self._record("sns", task_input)
        return {"MessageId": f"m{len(self.calls['sns'])}"}

    def bindings(self) -> Bindings:
        return (Bindings().add(LAMBDA_INVOKE, self.plan).add(GLUE_START_JOB_RUN_SYNC, self.glue)
                .add(ATHENA_START_QUERY_SYNC, self.athena).add(SNS_PUBLISH, self.sns))


@pytest.fixture
def fakes():
    return Fakes()


@pytest.fixture(scope="session")
def emulator():
    """The moto server only (these tests need no PostgreSQL): reused when running, else started
    and stopped at the end."""
    from aml.local import aws, services

    aws.use_local_endpoint()
    server = services.Emulator()
    running = server.status().running
    server.start()
    yield
    if not running:
        server.stop()
