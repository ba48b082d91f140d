"""Helpers for rule tests: build transactions and feed them, in a chosen order, through the same
state and rule code the engine uses (no AWS; see rule_runner)."""
from __future__ import annotations

import pytest
from rule_runner import run, tx

from aml_contract import rules as contract_rules


@pytest.fixture
def params():
    return contract_rules.load()


@pytest.fixture
def make_tx():
    return tx


@pytest.fixture
def run_rules():
    return run


@pytest.fixture
def lambda_env(monkeypatch):
    """The handler with its environment on moto (see lambda_harness)."""
    from lambda_harness import handler_environment

    yield from handler_environment(monkeypatch)
