"""One curated data dir per session, built from the hand-made bank with the pandas curation."""
from __future__ import annotations

import handmade_bank
import pytest

from aml.query import curate
from aml_contract import pseudonym

KEY = pseudonym.normalise_key("unit-test-pseudonymisation-key-0123")


@pytest.fixture(scope="session")
def small_bank():
    return handmade_bank.build()


@pytest.fixture(scope="session")
def curated_dir(small_bank, tmp_path_factory):
    customers, accounts, transactions = small_bank.frames()
    return curate.write(curate.curate(customers, accounts, transactions, KEY), tmp_path_factory.mktemp("curated"))


@pytest.fixture(scope="session")
def pid():
    return lambda account_id: pseudonym.pseudonymise(account_id, KEY)
