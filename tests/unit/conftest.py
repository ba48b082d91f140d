"""Fixtures shared by the unit tests of several parts."""
import pytest


@pytest.fixture()
def repaired_moto(monkeypatch):
    """In-process moto with the local emulator's repairs (aml/local/moto_server.py) applied, not a
    server another test chose through AWS_ENDPOINT_URL."""
    from moto import mock_aws

    from aml.local import moto_server

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_server.apply()
    with mock_aws():
        yield
