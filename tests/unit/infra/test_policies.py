"""Policy checks over every synthesized template: the IAM walk, cdk-nag's canary, cfn-lint."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from stacks import nag_suppressions

# Actions AWS grants only on Resource "*" (no resource-level permissions). Keep this short.
STAR_RESOURCE_ALLOWLIST = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords",  # Lambda active tracing
    "cloudwatch:PutMetricData",  # Glue job metrics (conditioned on the namespace)
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSubnets",  # Lambda in a VPC
    # Step Functions: X-Ray sampling and CloudWatch Logs delivery (stacks/daily_pipeline.py, AWS documents them on "*")
    "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}
# Resource policies whose "*" means the resource itself: a key policy always governs one key.
SELF_RESOURCE_POLICIES = {"AWS::KMS::Key": "KeyPolicy"}
POLICY_PROPERTIES = {
    "AWS::IAM::Policy": "PolicyDocument", "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument", "AWS::KMS::Key": "KeyPolicy",
}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict):
    for lid, res in template.get("Resources", {}).items():
        type_ = res["Type"]
        props = res.get("Properties", {})
        if type_ in POLICY_PROPERTIES and POLICY_PROPERTIES[type_] in props:
            yield lid, type_, props[POLICY_PROPERTIES[type_]]
        if type_ == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield lid, type_, policy["PolicyDocument"]


def violations(templates: dict[str, dict]) -> list[str]:
    found = []
    for concern, template in templates.items():
        for lid, type_, document in policy_documents(template):
            for statement in _as_list(document.get("Statement", [])):
                if statement.get("Effect") != "Allow":
                    continue
                actions = _as_list(statement.get("Action", []))
                where = f"{concern}/{lid}"
                if any(a in ("*", "*:*") for a in actions):
                    found.append(f"{where}: Action '*'")
                if "*" in _as_list(statement.get("Resource", [])) and type_ not in SELF_RESOURCE_POLICIES:
                    extra = sorted(set(actions) - STAR_RESOURCE_ALLOWLIST)
                    if extra:
                        found.append(f"{where}: Resource '*' for {extra}")
    return found


def test_no_wildcard_actions_or_resources_outside_the_allowlist(synth):
    assert violations(synth.templates) == []
    walked = sum(1 for t in synth.templates.values() for _ in policy_documents(t))
    assert walked > 20  # the walk really saw the policies


def test_iam_walk_catches_a_wildcard():
    template = {"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                      {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}]}}}}}
    assert sorted(violations({"x": template})) == ["x/P: Action '*'", "x/P: Resource '*' for ['s3:GetObject']"]


def test_nag_packs_are_active_canary(tmp_path):
    """An admin policy must fail synthesis although every acknowledgement is registered."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "aml-canary-streaming")
    iam.ManagedPolicy(stack, "Admin", statements=[iam.PolicyStatement(actions=["*"], resources=["*"])])
    nag_suppressions.register(app)
    with pytest.raises(Exception, match="Validation failed|ValidationFailed"):
        app.synth()


def test_every_pack_is_registered():
    names = {pack.__name__ for pack in nag_suppressions.PACKS}
    assert names == {"AwsSolutionsChecks", "NIST80053R5Checks", "PCIDSS321Checks", "HIPAASecurityChecks",
                     "ServerlessChecks"}


def test_every_acknowledgement_has_a_reason():
    for ack in nag_suppressions.ACKS:
        assert len(ack.reason) > 30, ack


# cfn-lint checks skipped, with why. Both come from constructs aws-cdk-lib generates itself.
CFN_LINT_IGNORED = {
    "W3005": "CDK adds an explicit DependsOn beside a Ref/GetAtt (custom resource providers, Lambda "
             "roles) to order deletion; redundant, not wrong",
    "W7001": "the Firehose L2 always declares a CIDR mapping used only by Redshift/HTTP destinations",
}


def test_cfn_lint_clean(synth):
    templates = sorted(str(p) for p in Path(synth.outdir).glob("*.template.json"))
    assert len(templates) == 9
    proc = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable",
                           "--ignore-checks", *CFN_LINT_IGNORED, "--", *templates],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
