"""A small generated bank shared by the generator's unit tests (generation takes well under a second)."""
from __future__ import annotations

import pandas as pd
import pytest

from aml.generate import BankConfig, generate

SMALL = BankConfig(customers=300, days=60, seed=11)


@pytest.fixture(scope="session")
def bank():
    return generate(SMALL)


@pytest.fixture(scope="session")
def tx(bank) -> pd.DataFrame:
    """Transactions with float USD amounts, for the checks."""
    frame = bank.transactions.copy()
    frame["usd"] = frame["amount_base"].astype("float64")
    frame["local"] = frame["amount"].astype("float64")
    return frame
