"""The caller's AWS account, for the commands that act on a deployment (`aml query run --engine
athena`, `aml pipeline start`): the standard credential chain, and the region as the AWS SDKs and
the AWS CLI resolve it: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html,
https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html). boto3 itself reads
only AWS_DEFAULT_REGION and the profile, so AWS_REGION (what docs/runbook.md exports) is handed to
it here. AWS_ENDPOINT_URL, when set, points the calls at an emulator, as for every boto3 client.
"""
from __future__ import annotations

import os

from aml.errors import AmlError

REGION_HINT = "set AWS_REGION to the region the app is deployed in (or a profile's region with `aws configure`)"


def session(what: str):
    """A boto3 session with a region, or one error line naming `what` needs it."""
    import boto3

    found = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    if not found.region_name:
        raise AmlError(f"{what} needs an AWS region", REGION_HINT)
    return found
