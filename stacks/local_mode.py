"""What `-c aml:local=true` leaves out, in one place, and what the local runtime does instead.

moto (the local emulator) models most resource types and skips the ones it cannot, but it cannot
run the Lambda functions behind CloudFormation custom resources (its Lambda needs Docker), so a
stack holding one would wait forever. Only such resources are left out; everything else is
deployed exactly as in AWS.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalOmission:
    key: str
    resource: str
    why: str
    instead: str


OMISSIONS: tuple[LocalOmission, ...] = (
    LocalOmission(
        "core-schema",
        "database stack: custom resources running the `core` DDL through the RDS Data API",
        "custom resource (AwsCustomResource Lambda)",
        "the local replicator creates the schema itself from aml_contract.schema.postgres_ddl() "
        "in the embedded PostgreSQL server",
    ),
    LocalOmission(
        "restrict-default-sg",
        "network stack: the custom resource that strips the VPC default security group's rules",
        "custom resource (Custom::VpcRestrictDefaultSG Lambda)",
        "nothing: no traffic flows through the emulator's VPC",
    ),
    LocalOmission(
        "auto-delete-objects",
        "data lake stack: the custom resource emptying buckets on destroy (only with removal_policy_destroy)",
        "custom resource (Custom::S3AutoDeleteObjects Lambda)",
        "nothing: the emulator's state is discarded with `aml local down`",
    ),
    LocalOmission(
        "reference-deployment",
        "data lake stack: the BucketDeployment publishing the reference datasets under the curated bucket's reference/",
        "custom resource (Custom::CDKBucketDeployment Lambda)",
        "the local runtime publishes the same objects itself (aml.reference.publish.to_s3) when it "
        "creates its resources and after `aml infra deploy`",
    ),
    LocalOmission(
        "kms-key-tags",
        "every stack: the project/environment/concern tags on KMS keys (the keys themselves stay)",
        "moto 5.2 fails creating a tagged AWS::KMS::Key from CloudFormation (KeyError 'TagKey') "
        "and leaves the stack empty",
        "nothing: tags only label resources for cost and ownership",
    ),
    LocalOmission(
        "aurora-instance-engine-version",
        "database stack: nothing left out; the Aurora instances get an explicit EngineVersion",
        "moto 5.2 creates AWS::RDS::DBInstance without reading its cluster's version (KeyError on "
        "aurora-postgresql); AWS takes the version from the cluster, so AWS templates omit it",
        "nothing: the local runtime uses the embedded PostgreSQL server, not the emulated cluster",
    ),
    LocalOmission(
        "aurora-cluster-attributes",
        "database stack: the cluster's reader endpoint and resource id, which the daily pipeline's "
        "reconciliation function takes (its host variable and its rds-db:connect resource)",
        "moto 5.2 does not model AWS::RDS::DBCluster in CloudFormation, so an export of its "
        "Fn::GetAtt fails the stack (validate_outputs: 'NoneType' object has no attribute 'has_cfn_attr')",
        "literal stand-ins (stacks.database.LOCAL_READER_HOST, LOCAL_CLUSTER_RESOURCE_ID); the local "
        "bindings point the function at the embedded PostgreSQL server",
    ),
    LocalOmission(
        "daily-pipeline-schedule",
        "pipeline stack: nothing left out; the template keeps the EventBridge schedule and moto skips it",
        "moto 5.2 models AWS::StepFunctions::StateMachine but not AWS::Scheduler::Schedule in CloudFormation "
        "(tests/integration/test_cdk_deploy_local.py deploys the stack)",
        "the daily pipeline runs on demand locally (the local runner executes the synthesized definition)",
    ),
)

KEYS = frozenset(o.key for o in OMISSIONS)


def omitted(local: bool, key: str) -> bool:
    """True when this resource is left out of a local deployment."""
    if key not in KEYS:
        raise KeyError(f"{key!r} is not a documented local omission")
    return local
