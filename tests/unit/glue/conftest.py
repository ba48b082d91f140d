"""Fixtures of the curation tests; the data builders live in glue_dms_fixtures."""
from __future__ import annotations

import os
import sys

import pytest
from glue_dms_fixtures import Bank, Zones, make_zones

from aml_contract.pseudonym import key_from_env

# The job runs no Python UDF (pseudonyms are a Spark expression), but any Python worker a test
# starts must be this interpreter (the venv), not whatever `python3` is first on PATH. Set
# before the session starts.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

@pytest.fixture
def zones(tmp_path) -> Zones:
    return make_zones(tmp_path)


@pytest.fixture
def bank() -> Bank:
    return Bank()


@pytest.fixture(scope="session")
def pkey() -> bytes:
    return key_from_env()
