"""A state machine as CDK renders it (LambdaInvoke, GlueStartJobRun.sync, a Map of
AthenaStartQueryExecution.sync, SnsPublish, Catch to a notification): resolved from the cloud
assembly, valid for asl-validator, every Task bound locally, and run."""
from __future__ import annotations

import json

import pytest

from aml.local.resources import LocalResources
from aml.pipeline.bindings import TaskError, function_name, local_bindings
from aml.pipeline.definition import load_definition, task_resources
from aml.pipeline.run import run_local, validate
from aml_contract import names

pytestmark = pytest.mark.slow  # jsii starts a Node process (about 8 s)


def _synth(outdir) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import aws_stepfunctions_tasks as tasks

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "aml-t-pipeline")
    fn = lambda_.Function(stack, "Plan", function_name="aml-t-pipeline-plan", runtime=lambda_.Runtime.PYTHON_3_13,
                          handler="x.y", code=lambda_.Code.from_inline("x"))
    topic = sns.Topic(stack, "Topic", topic_name="aml-t-alerts")
    plan = tasks.LambdaInvoke(stack, "Plan step", state_name="Plan", lambda_function=fn, result_path="$.plan",
                              payload=sfn.TaskInput.from_object({"run_id": sfn.JsonPath.execution_name}),
                              result_selector={"queries.$": "$.Payload.queries"})
    curate = tasks.GlueStartJobRun(stack, "CurateRaw", glue_job_name="aml-t-curate-transactions",
                                   integration_pattern=sfn.IntegrationPattern.RUN_JOB, result_path=sfn.JsonPath.DISCARD)
    query = tasks.AthenaStartQueryExecution(
        stack, "Query", query_string=sfn.JsonPath.string_at("$.query_string"), work_group="aml-t-analysts",
        execution_parameters=sfn.JsonPath.list_at("$.execution_parameters"),
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        result_selector={"query_execution_id.$": "$.QueryExecution.QueryExecutionId"})
    queries = sfn.Map(stack, "ScenarioQueries", items_path="$.plan.queries", result_path="$.queries")
    queries.item_processor(query)
    summary = tasks.SnsPublish(stack, "Summary", topic=topic, message=sfn.TaskInput.from_text("done"),
                               result_path=sfn.JsonPath.DISCARD)
    notify = tasks.SnsPublish(stack, "NotifyFailure", topic=topic, result_path=sfn.JsonPath.DISCARD,
                              message=sfn.TaskInput.from_json_path_at("$.failure.Cause")
                              ).next(sfn.Fail(stack, "Failed", error="PipelineFailed"))
    for step in (plan, curate, queries):
        step.add_catch(notify, result_path="$.failure")
    sfn.StateMachine(stack, "Machine", state_machine_name="aml-t-daily-pipeline",
                     definition_body=sfn.DefinitionBody.from_chainable(plan.next(curate).next(queries).next(summary)))
    app.synth()


@pytest.fixture(scope="module")
def cdk_definition(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    _synth(outdir)
    return load_definition(outdir, "aml-t-daily-pipeline")


def _resources(env: str) -> LocalResources:
    fields = {f: names.name_of(env, f) for f in names.STACK_OUTPUTS.values()}
    return LocalResources(env_name=env, source="created", **fields)


def test_the_cdk_definition_resolves_validates_and_is_fully_bound(cdk_definition, tmp_path):
    assert validate(cdk_definition) == []
    plan = cdk_definition["States"]["Plan"]
    assert function_name(plan["Parameters"]["FunctionName"]) == "aml-t-pipeline-plan"
    tasks = task_resources(cdk_definition)
    assert set(tasks) == {"Plan", "CurateRaw", "Query", "Summary", "NotifyFailure"}
    assert local_bindings(_resources("t"), tmp_path).unbound(tasks) == {}


def test_the_cdk_definition_runs_and_notifies_a_failure(cdk_definition, fakes, tmp_path):
    fakes.fail["glue"] = [TaskError("States.TaskFailed", json.dumps({"ErrorMessage": "spark died"}))]
    seen = []

    def plan(event, context):
        seen.append(event)
        return {"queries": []}
    bindings = local_bindings(_resources("t"), tmp_path, handlers={"plan": plan})
    bindings.table = [(p, b) for p, b in bindings.table if "lambda" in p.pattern] + fakes.bindings().table[1:]

    execution = run_local(cdk_definition, {}, bindings=bindings, work_dir=tmp_path, execution_name="2024-03-01-r2")

    assert seen == [{"run_id": "2024-03-01-r2"}]  # $$.Execution.Name
    assert execution.status == "FAILED" and execution.error == "PipelineFailed"
    assert json.loads(fakes.calls["sns"][0]["Message"]) == {"ErrorMessage": "spark died"}
