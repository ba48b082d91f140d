"""The local runner's control flow with fake bindings: data passing, Retry, Catch and the failure
notification, unbound resources, and definitions asl-validator rejects."""
from __future__ import annotations

import json
import time

import pytest

from aml.pipeline.bindings import Bindings, TaskError, UnboundTaskError
from aml.pipeline.run import DefinitionError, run_local, validate


def _run(definition, fakes, tmp_path, **kwargs):
    return run_local(definition, {"run_date": "2024-03-01"}, bindings=fakes.bindings(), work_dir=tmp_path,
                     execution_name="2024-03-01-r1", **kwargs)


def test_a_successful_run_passes_data_along(definition, fakes, tmp_path):
    execution = _run(definition, fakes, tmp_path)

    assert execution.status == "SUCCEEDED", execution.cause
    assert fakes.calls["lambda"][0]["Payload"] == {"run_date": "2024-03-01", "run_id": "2024-03-01-r1"}
    assert fakes.calls["lambda"][0]["FunctionName"].endswith(":function:aml-t-pipeline-plan")
    assert fakes.calls["glue"] == [{"JobName": "aml-t-curate-transactions"}]
    assert sorted(c["ExecutionParameters"][0] for c in fakes.calls["athena"]) == ["'a'", "'b'"]
    output = execution.output
    assert output["plan"]["run_id"] == "2024-03-01-r1"
    assert output["curate"] == {"state": "SUCCEEDED"}
    assert output["queries"] == [  # Map keeps the items' order
        {"query_execution_id": "id-a", "output_location": "s3://results/results/id-a.csv"},
        {"query_execution_id": "id-b", "output_location": "s3://results/results/id-b.csv"}]
    assert fakes.calls["sns"] == [{"TopicArn": fakes.calls["sns"][0]["TopicArn"], "Message": "run 2024-03-01-r1 done"}]
    assert execution.states == ["Plan", "CurateRaw", "ScenarioQueries", "Query", "Query", "Summary"]
    assert [c["state"] for c in execution.task_calls] == ["Plan", "CurateRaw", "Query", "Query", "Summary"]


def test_a_hook_after_the_glue_binding_runs_before_the_next_state(definition, fakes, tmp_path):
    """Bindings.after (the demo: the states after curation wait for the stream to be drained)."""
    from aml.pipeline.bindings import GLUE_START_JOB_RUN_SYNC

    order: list[str] = []
    glue, athena = fakes.glue, fakes.athena
    fakes.glue = lambda task_input: (order.append("glue"), glue(task_input))[1]
    fakes.athena = lambda task_input: (order.append("athena"), athena(task_input))[1]
    bindings = fakes.bindings().after(GLUE_START_JOB_RUN_SYNC, lambda: order.append("hook"))

    execution = run_local(definition, {"run_date": "2024-03-01"}, bindings=bindings, work_dir=tmp_path,
                          execution_name="2024-03-01-r1")

    assert execution.status == "SUCCEEDED", execution.cause
    assert order == ["glue", "hook", "athena", "athena"]
    with pytest.raises(ValueError, match="no binding"):
        Bindings().after(GLUE_START_JOB_RUN_SYNC, lambda: None)

def test_a_task_failing_twice_is_retried_without_sleeping(definition, fakes, tmp_path):
    fakes.fail["lambda"] = [TaskError("Flaky", "once"), TaskError("Flaky", "twice")]
    started = time.monotonic()

    execution = _run(definition, fakes, tmp_path)

    assert execution.status == "SUCCEEDED"
    assert len(fakes.calls["lambda"]) == 3
    assert execution.retries("Plan") == 2
    assert time.monotonic() - started < 20  # IntervalSeconds 30 (then 60) replaced by retry_interval_ms=0


def test_a_task_failing_for_good_is_caught_notified_and_fails_the_execution(definition, fakes, tmp_path):
    fakes.fail["glue"] = [TaskError("States.TaskFailed", '{"JobRunState": "FAILED", "ErrorMessage": "boom"}')]

    execution = _run(definition, fakes, tmp_path)

    assert execution.status == "FAILED"
    assert (execution.error, execution.cause) == ("PipelineFailed", "a step failed; see the notification")
    assert fakes.calls["athena"] == []
    (notice,) = fakes.calls["sns"]
    assert notice["Subject"] == "States.TaskFailed"
    assert json.loads(notice["Message"])["ErrorMessage"] == "boom"
    assert execution.states[-3:] == ["CurateRaw", "NotifyFailure", "Failed"]


def test_retries_exhausted_then_caught(definition, fakes, tmp_path):
    fakes.fail["lambda"] = [TaskError("Flaky", str(n)) for n in range(3)]

    execution = _run(definition, fakes, tmp_path)

    assert len(fakes.calls["lambda"]) == 3  # the first attempt and MaxAttempts 2
    assert execution.status == "FAILED"
    assert fakes.calls["sns"][0]["Subject"] == "Flaky" and fakes.calls["sns"][0]["Message"] == "2"


def test_an_unexpected_binding_exception_is_a_task_failure(definition, fakes, tmp_path):
    fakes.fail["athena"] = [RuntimeError("bug in a stand-in")]

    execution = _run(definition, fakes, tmp_path)

    assert execution.status == "FAILED"
    assert fakes.calls["sns"][0]["Subject"] == "States.TaskFailed"
    assert "bug in a stand-in" in fakes.calls["sns"][0]["Message"]


def test_an_unbound_task_resource_fails_before_running(definition, fakes, tmp_path):
    definition["States"]["ScenarioQueries"]["ItemProcessor"]["States"]["Query"]["Resource"] = \
        "arn:aws:states:::athena:getQueryResults"

    with pytest.raises(UnboundTaskError) as raised:
        _run(definition, fakes, tmp_path)

    assert raised.value.unbound == {"Query": "arn:aws:states:::athena:getQueryResults"}
    assert not any(fakes.calls.values())


def test_asl_validator_rejects_an_invalid_definition(definition, fakes, tmp_path):
    definition["States"]["CurateRaw"]["Next"] = "NoSuchState"

    errors = validate(definition)
    assert any("NoSuchState" in e for e in errors)
    with pytest.raises(DefinitionError, match="NoSuchState"):
        _run(definition, fakes, tmp_path)
    assert not any(fakes.calls.values())


def test_the_hand_written_definition_is_valid(definition):
    assert validate(definition) == []


def test_a_fail_state_without_a_cause_reports_none(definition, fakes, tmp_path):
    del definition["States"]["Failed"]["Cause"]
    fakes.fail["glue"] = [TaskError("States.TaskFailed", "x")]

    execution = _run(definition, fakes, tmp_path)

    assert (execution.status, execution.error, execution.cause) == ("FAILED", "PipelineFailed", None)
