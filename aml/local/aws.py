"""Where the local runtime's AWS calls go: moto server on localhost:4566 by default, or the
endpoint in AWS_ENDPOINT_URL (LocalStack, another moto). boto3, awswrangler and the CDK CLI all
honour AWS_ENDPOINT_URL, so setting the environment once routes every client."""
from __future__ import annotations

import os
from functools import cache
from urllib.parse import urlparse

import boto3
from botocore.config import Config

DEFAULT_PORT = 4566
ACCOUNT_ID = "000000000000"  # moto server's account for this project (MOTO_ACCOUNT_ID)
DEFAULT_REGION = "us-east-1"


def endpoint_url() -> str:
    """AWS_ENDPOINT_URL if set; else LocalStack's edge endpoint when LOCALSTACK_HOST names one
    (resolved by localstack-client, LocalStack's own convention); else the local moto server."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"]
    if os.environ.get("LOCALSTACK_HOST"):
        from localstack_client.config import get_service_endpoint

        return get_service_endpoint("edge")
    return f"http://localhost:{DEFAULT_PORT}"


def endpoint_host_port() -> tuple[str, int]:
    url = urlparse(endpoint_url())
    return url.hostname or "localhost", url.port or (443 if url.scheme == "https" else 80)


def local_env() -> dict[str, str]:
    """Environment for anything that talks to the local emulator (also child processes such as
    the CDK CLI). Real credentials are never needed nor used against the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url(),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION),
        "AWS_REGION": os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION)),
    }


def use_local_endpoint() -> None:
    """Point this process (and its children) at the local emulator."""
    for key, value in local_env().items():
        os.environ.setdefault(key, value)


@cache
def session() -> boto3.session.Session:
    use_local_endpoint()
    return boto3.session.Session(region_name=os.environ["AWS_DEFAULT_REGION"])


_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60)


@cache
def client(service: str):
    """One boto3 client per service for this process, bound to the local endpoint."""
    return session().client(service, endpoint_url=endpoint_url(), config=_CONFIG)


def account_id() -> str:
    """The emulator's account id, asked of STS rather than assumed (LocalStack and moto differ)."""
    return client("sts").get_caller_identity()["Account"]
