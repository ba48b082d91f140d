"""Shared fixtures: the local services and one Spark session per test run.

Services already running (a developer's `aml local up`) are reused and left running; services
the fixture started are stopped at the end. Tests must not rely on a clean emulator or database:
they create uniquely named databases, buckets and streams (see `unique_name`).
"""
from __future__ import annotations

import os
import sys
import uuid

import pytest

os.environ.setdefault("AML_PSEUDONYMIZATION_KEY", "test-pseudonymization-key-0123456789")


@pytest.fixture(scope="session")
def local_services():
    from aml.local import aws, services

    aws.use_local_endpoint()
    before = {s.name: s.running for s in services.status()}
    statuses = services.up()
    yield {s.name: s for s in statuses}
    if not before.get("aws-emulator"):
        services.Emulator().stop()
    if not before.get("postgres"):
        services.Postgres().stop()


@pytest.fixture
def unique_name():
    """A fresh name: the prefix and 10 hex digits, no separator, so a prefix of up to 6 lowercase
    letters makes a valid environment name (aml_contract.names.ENV_NAME) as well."""
    def make(prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:10]}"
    return make


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # pandas UDF workers need the venv's pandas
    session = (SparkSession.builder.master("local[2]").appName("aml-tests")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", "2g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
