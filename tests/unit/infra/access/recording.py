"""Record the AWS calls our code makes, where it makes them: every boto3 call in this process,
against moto in-process (no server, no network), with its operation and parameters."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import botocore.client

from infra.access.templates import ACCOUNT, REGION


@dataclass(frozen=True)
class Made:
    service: str
    operation: str
    params: dict


@contextmanager
def recorded_calls() -> Iterator[list[Made]]:
    """moto's in-process mock for every service, and the list of calls made meanwhile. Endpoint
    variables are cleared so no client goes to the local emulator."""
    from moto import mock_aws

    made: list[Made] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        made.append(Made(client.meta.service_model.service_name, operation_name, dict(api_params)))
        return original(client, operation_name, api_params)

    cleared = {k: "" for k in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST") if k in os.environ}
    environment = {**cleared, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "MOTO_ACCOUNT_ID": ACCOUNT}
    with mock.patch.dict(os.environ, environment), mock_aws(), \
            mock.patch.object(botocore.client.BaseClient, "_make_api_call", recording):
        for key in cleared:
            del os.environ[key]
        yield made
