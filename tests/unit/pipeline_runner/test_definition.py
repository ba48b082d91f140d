"""The definition resolver: a CDK-style Fn::Join DefinitionString from a template, and the Task
resources of nested states."""
from __future__ import annotations

import json

import pytest

from aml.errors import AmlError
from aml.pipeline.definition import Resolver, load_definition, task_resources

TEMPLATE = {
    "Resources": {
        "PlanFn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "aml-t-pipeline-plan"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "aml-t-alerts"}},
        "Anonymous": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": "aml-t-daily-pipeline",
            "DefinitionString": {"Fn::Join": ["", [
                '{"StartAt":"Plan","States":{"Plan":{"Type":"Task","Resource":"arn:',
                {"Ref": "AWS::Partition"},
                ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                {"Fn::GetAtt": ["PlanFn", "Arn"]},
                '","Payload.$":"$"},"Next":"Other"},"Other":{"Type":"Task","Resource":"arn:',
                {"Ref": "AWS::Partition"},
                ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                {"Ref": "Anonymous"},
                '"},"Next":"Notify"},"Notify":{"Type":"Task","Resource":"arn:',
                {"Ref": "AWS::Partition"},
                ':states:::sns:publish","Parameters":{"TopicArn":"',
                {"Ref": "Topic"},
                '","Message":"',
                {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}/${ImportedJob}"},
                '"},"End":true}}}',
            ]]}}},
    },
}


def test_resolves_a_fn_join_definition_string_from_a_template(tmp_path):
    (tmp_path / "aml-t-pipeline.template.json").write_text(json.dumps(TEMPLATE))

    definition = load_definition(tmp_path, region="eu-west-1")

    states = definition["States"]
    assert states["Plan"]["Resource"] == "arn:aws:states:::lambda:invoke"
    assert states["Plan"]["Parameters"]["FunctionName"] == \
        "arn:aws:lambda:eu-west-1:000000000000:function:aml-t-pipeline-plan"
    assert states["Other"]["Parameters"]["FunctionName"] == "Anonymous"  # no physical name: stable placeholder
    assert states["Notify"]["Parameters"]["TopicArn"] == "arn:aws:sns:eu-west-1:000000000000:aml-t-alerts"
    assert states["Notify"]["Parameters"]["Message"] == "eu-west-1/000000000000/ImportedJob"


def test_imports_resolve_to_the_exporting_stacks_value(tmp_path):
    etl = {"Resources": {"Job": {"Type": "AWS::Glue::Job", "Properties": {"Name": "aml-t-curate-transactions"}}},
           "Outputs": {"ExportJob": {"Value": {"Ref": "Job"}, "Export": {"Name": "aml-t-etl:ExportsOutputRefJob"}}}}
    machine = {"Resources": {"M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "DefinitionString": {"Fn::Join": ["", [
            '{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::glue:startJobRun.sync",'
            '"Parameters":{"JobName":"', {"Fn::ImportValue": "aml-t-etl:ExportsOutputRefJob"}, '"},"End":true}}}']]}}}}}
    (tmp_path / "aml-t-etl.template.json").write_text(json.dumps(etl))
    (tmp_path / "aml-t-pipeline.template.json").write_text(json.dumps(machine))

    definition = load_definition(tmp_path)

    assert definition["States"]["C"]["Parameters"]["JobName"] == "aml-t-curate-transactions"


def test_no_state_machine_is_one_clear_error(tmp_path):
    (tmp_path / "x.template.json").write_text(json.dumps({"Resources": {}}))
    with pytest.raises(AmlError, match="expected one AWS::StepFunctions::StateMachine"):
        load_definition(tmp_path)


def test_task_resources_include_map_and_parallel_branches(definition):
    definition["States"]["Both"] = {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}}}]}

    tasks = task_resources(definition)

    assert tasks["Query"] == "arn:aws:states:::athena:startQueryExecution.sync"
    assert tasks["B1"] == "arn:aws:states:::sns:publish"
    assert set(tasks) == {"Plan", "CurateRaw", "Query", "Summary", "NotifyFailure", "B1"}


def test_pseudo_parameters_and_partition_agnostic_values():
    resolver = Resolver({}, region="us-gov-west-1")
    assert resolver.resolve({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}]]}) == \
        "arn:aws:us-gov-west-1"
