"""Shared fixtures of the pipeline steps' tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from aml_contract import names


@pytest.fixture()
def contract_table(monkeypatch):
    """contract_table(field, name): in-process moto holding the `field` table (names.table_definition)
    under `name`, as a context manager yielding the DynamoDB client."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    @contextmanager
    def make(field: str, table: str) -> Iterator:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **names.table_definition(field))
            yield client
    return make
