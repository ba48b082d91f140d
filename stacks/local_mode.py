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
)

KEYS = frozenset(o.key for o in OMISSIONS)


def omitted(local: bool, key: str) -> bool:
    """True when this resource is left out of a local deployment."""
    if key not in KEYS:
        raise KeyError(f"{key!r} is not a documented local omission")
    return local
