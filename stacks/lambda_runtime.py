"""The rules Lambda's runtime in one place: Python version, architecture, the wheel platform its
bundle is built for and the Powertools layer that matches them.

python3.13 on arm64 (Graviton): Amazon Linux 2023, deprecated by Lambda on 2029-06-30
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), and arm64 is billed less per
GB-second than x86_64 (https://aws.amazon.com/lambda/pricing/). python3.14 exists too; 3.13 is the
newest interpreter the machine image carries, so the Lambda's tests run on exactly the runtime's
minor version (`make test`, .venv-lambda313). Moving on means changing the constants below, the
Makefile's LAMBDA_PYTHON and lambdas/ruff.toml together; tests/unit/infra/test_lambda_runtime.py
fails until all agree.
"""
from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_lambda as lambda_

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's guidance for .zip packages with compiled dependencies: manylinux2014 wheels of the
# function's architecture (https://docs.aws.amazon.com/lambda/latest/dg/python-package.html);
# the runtime's glibc (AL2023: 2.34) runs them, and manylinux_2_28 ones too (glibc 2.28 <= 2.34):
# psycopg-binary publishes its aarch64 wheels for Python 3.13 only under that tag.
WHEEL_PLATFORM = "manylinux2014_aarch64"
WHEEL_PLATFORMS = (WHEEL_PLATFORM, "manylinux_2_28_aarch64")
PIP_TARGET_ARGS = (*(arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)),
                   "--python-version", PYTHON_VERSION, "--implementation", "cp", "--only-binary=:all:")

POWERTOOLS_ACCOUNT = "017000801446"  # the AWS account publishing the Powertools layers


def powertools_layer_arn(version: int) -> str:
    """The AWS-managed Powertools v3 layer built for this Python and architecture; its version
    number is the same for every Python/architecture flavour of one Powertools release
    (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer)."""
    flavour = f"python{PYTHON_VERSION.replace('.', '')}-{ARCHITECTURE.name}"
    return (f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{flavour}:{version}")
