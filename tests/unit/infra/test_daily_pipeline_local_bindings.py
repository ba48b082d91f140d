"""Every Task resource of the synthesized daily pipeline has a local binding (issue 25), its
definition passes asl-validator, and its functions and Glue job are the local runtime's."""
from __future__ import annotations

import pytest

from aml.pipeline.bindings import LAMBDA_INVOKE, function_name, local_bindings
from aml.pipeline.definition import STATE_MACHINE_TYPE, load_definition, states, task_resources
from aml.pipeline.run import validate
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
