"""Every Task resource of the synthesized daily pipeline has a local binding (issue 25), its
definition passes asl-validator, and its functions and Glue job are the local runtime's."""
from __future__ import annotations

import pytest

from aml.pipeline.bindings import (
    ATHENA_START_QUERY_SYNC,
    GLUE_START_JOB_RUN_SYNC,
    LAMBDA_INVOKE,
    SNS_PUBLISH,
    Bindings,
    TaskError,
    function_name,
    local_bindings,
)
from aml.pipeline.definition import STATE_MACHINE_TYPE, load_definition, states, task_resources
from aml.pipeline.run import run_local, validate
from aml_contract import daily_pipeline, names


@pytest.fixture(scope="module")
def pipeline(synth):
    machines = synth.resources(STATE_MACHINE_TYPE)
    if not machines:
        pytest.fail("the app has no daily pipeline state machine (stacks/daily_pipeline.py)")
    env = next(iter(synth.stacks.values())).stack_name.split("-")[1]
    return env, load_definition(synth.outdir, names.name_of(env, "daily_pipeline"))


def test_every_task_resource_has_a_local_binding(pipeline, tmp_path):
    from aml.local.resources import LocalResources

    env, definition = pipeline
    res = LocalResources(env_name=env, source="created",
                         **{f: names.name_of(env, f) for f in names.STACK_OUTPUTS.values()})
    assert local_bindings(res, tmp_path).unbound(task_resources(definition)) == {}


def test_the_definition_passes_asl_validator(pipeline):
    assert validate(pipeline[1]) == []


def test_the_lambda_steps_call_the_pipeline_functions(pipeline):
    env, definition = pipeline
    local = {names.name_of(env, field) for field in daily_pipeline.FUNCTIONS.values()}
    called = {function_name(s["Parameters"]["FunctionName"]) for _, s in states(definition)
              if s.get("Type") == "Task" and LAMBDA_INVOKE.match(s["Resource"])}
    assert called and called <= local


class _Steps:
    """Fake stand-ins for the synthesized definition's Tasks, recording every call; `glue_fails`
    makes every Glue run fail."""

    def __init__(self, new_files: int, glue_fails: bool = False):
        self.calls: dict[str, list[dict]] = {"plan": [], "batch_alerts": [], "load_profiles": [], "report": [],
                                             "reconcile": [], "glue": [], "athena": [], "sns": []}
        self.new_files, self.glue_fails = new_files, glue_fails

    def invoke(self, task_input):
        step = next(s for s, f in daily_pipeline.FUNCTIONS.items() if task_input["FunctionName"].endswith(
            names.RESOURCES[f].suffix))
        self.calls[step].append(task_input["Payload"])
        outcome = {"hits": 1, "new": 1, "merged": 0, "joined": 0, "already_raised": 0, "unusable": {},
                   "per_rule": {}, "delivery_failed": 0}
        payload = {
            "plan": lambda p: {"run_date": p["input"]["run_date"], "run_id": p["run_id"],
                               "window": {"start_date": "2025-02-01", "end_date": p["input"]["run_date"]},
                               "report_window": {"start_date": "2025-02-27", "end_date": p["input"]["run_date"]},
                               "raw": {"new_files": self.new_files}, "queries": [
                                   {"name": "structuring", "query_string": "SELECT 1", "execution_parameters": ["'a'"]},
                                   {"name": "cycles", "query_string": "SELECT 2", "execution_parameters": ["'b'"]},
                                   {"name": "account_profiles", "query_string": "SELECT 3",
                                    "execution_parameters": ["'c'"]}]},
            "batch_alerts": lambda p: outcome,
            "load_profiles": lambda p: {"profiles": 2, "written": 2, "unchanged": 0, "older_than_stored": 0,
                                        "unusable": {}, "as_of": p["plan"]["run_date"]},
            "report": lambda p: {"report_uri": "s3://c/r.json", "html_report_uri": "s3://c/report.html",
                                 "summary": f"run {p['plan']['run_id']}: 1 new alert"},
            "reconcile": lambda p: {
                "digests": {"high_water_mark": None, "tables": {}, "list_keys": True, "keys_query": "SELECT 4"},
                "keys": {"clean": False, "key_mismatches": 1, "high_water_mark": None, "tables": {},
                         "summary": "Key reconciliation: KEY MISMATCHES."}}[p["phase"]],
        }[step](task_input["Payload"])
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}

    def glue(self, task_input):
        self.calls["glue"].append(task_input)
        if self.glue_fails:
            raise TaskError("States.TaskFailed", '{"JobRunState": "FAILED", "ErrorMessage": "out of memory"}')
        return {"Id": "jr_1", "JobName": task_input["JobName"], "JobRunState": "SUCCEEDED"}

    def athena(self, task_input):
        self.calls["athena"].append(task_input)
        given = task_input.get("ExecutionParameters")  # the reconciliation's two queries take none
        qid = "q" + (given[0].strip("'") if given else task_input["QueryString"].split()[-1])
        return {"QueryExecution": {"QueryExecutionId": qid, "Status": {"State": "SUCCEEDED"},
                                   "ResultConfiguration": {"OutputLocation": f"s3://results/results/{qid}.csv"}}}

    def sns(self, task_input):
        self.calls["sns"].append(task_input)
        return {"MessageId": "m"}

    def bindings(self) -> Bindings:
        return (Bindings().add(LAMBDA_INVOKE, self.invoke).add(GLUE_START_JOB_RUN_SYNC, self.glue)
                .add(ATHENA_START_QUERY_SYNC, self.athena).add(SNS_PUBLISH, self.sns))


def _execute(pipeline, steps, tmp_path):
    return run_local(pipeline[1], {"run_date": "2025-03-05", "lookback_days": 35}, bindings=steps.bindings(),
                     work_dir=tmp_path, execution_name="2025-03-05-r1")


def test_the_synthesized_pipeline_runs_its_steps_in_order(pipeline, tmp_path):
    steps = _Steps(new_files=3)
    execution = _execute(pipeline, steps, tmp_path)
    assert execution.status == "SUCCEEDED", execution.cause
    assert [c["state"] for c in execution.task_calls] == [
        "Plan", "CurateRaw", "RunQuery", "RunQuery", "RunQuery", "BatchAlerts", "LoadProfiles", "CuratedKeyDigest",
        "ReconcileDigests", "ListCuratedKeys", "ReconcileKeys", "Report", "Summary"]
    digests, keys = steps.calls["reconcile"]
    assert (digests["phase"], keys["phase"]) == ("digests", "keys")
    assert keys["state"]["curated_keys"]["output_location"] == "s3://results/results/q4.csv"
    assert steps.calls["athena"][-1]["QueryString"] == "SELECT 4"
    assert steps.calls["report"][0]["reconciliation"]["key_mismatches"] == 1
    assert steps.calls["plan"] == [{"run_id": "2025-03-05-r1", "input": {"run_date": "2025-03-05", "lookback_days": 35}}]
    batch_input = steps.calls["batch_alerts"][0]
    assert [q["name"] for q in batch_input["queries"]] == ["structuring", "cycles", "account_profiles"]
    assert batch_input["queries"][1]["output_location"] == "s3://results/results/qb.csv"
    (profiles_input,) = steps.calls["load_profiles"]  # the whole state: the plan and every query's result
    assert profiles_input["queries"][2]["output_location"] == "s3://results/results/qc.csv"
    assert steps.calls["report"][0]["profiles"]["written"] == 2
    (summary,) = steps.calls["sns"]
    assert summary["Message"] == "run 2025-03-05-r1: 1 new alert"
    assert execution.output["alerts"]["new"] == 1 and execution.output["profiles"]["as_of"] == "2025-03-05"
    assert execution.output["report"]["html_report_uri"] == "s3://c/report.html"  # kept by the Report state
    assert steps.calls["report"][0]["plan"]["report_window"]["start_date"] == "2025-02-27"


def test_no_new_raw_file_skips_the_glue_job(pipeline, tmp_path):
    steps = _Steps(new_files=0)
    execution = _execute(pipeline, steps, tmp_path)
    assert execution.status == "SUCCEEDED" and steps.calls["glue"] == []
    assert "CurateRaw" not in execution.states


def test_a_step_failing_after_its_retries_notifies_operations_and_fails(pipeline, tmp_path):
    env, _ = pipeline
    steps = _Steps(new_files=1, glue_fails=True)
    execution = _execute(pipeline, steps, tmp_path)
    assert execution.status == "FAILED" and execution.error == "DailyPipelineFailed"
    assert len(steps.calls["glue"]) == 1 + execution.retries("CurateRaw") > 1  # retried with backoff first
    assert steps.calls["athena"] == [] and steps.calls["batch_alerts"] == []
    (notice,) = steps.calls["sns"]
    assert notice["TopicArn"].endswith(names.name_of(env, "alarm_topic"))
    assert "States.TaskFailed" in notice["Message"] and "out of memory" in notice["Message"]
    assert execution.states[-2:] == ["NotifyFailure", "Failed"]
