"""Fixed FX table (units of USD per unit of currency), kept as data so amount_base is reproducible.

The generator books each transaction in the currency of our customer's account and derives
amount_base (USD) from this table; tests recompute it from the same table.
"""
from __future__ import annotations

import numpy as np

from aml_contract.schema import BASE_CURRENCY

USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.085, "GBP": 1.265, "CHF": 1.125, "JPY": 0.0067, "CAD": 0.735,
    "AUD": 0.655, "SGD": 0.745, "HKD": 0.128, "AED": 0.2723, "MXN": 0.0585, "INR": 0.012,
}
CURRENCIES = tuple(USD_PER_UNIT)  # every currency the generator books
assert set(USD_PER_UNIT) == set(CURRENCIES) and USD_PER_UNIT[BASE_CURRENCY] == 1.0

# Currencies of our customers' accounts, with their share (mostly a US bank). JPY is left out:
# whole-yen amounts would too often look like round amounts.
ACCOUNT_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD", "SGD", "MXN")
ACCOUNT_CURRENCY_WEIGHTS = (0.76, 0.07, 0.05, 0.04, 0.02, 0.02, 0.02, 0.02)

CURRENCY_CODES = np.array(CURRENCIES, dtype=object)
RATE_BY_CODE = np.array([USD_PER_UNIT[c] for c in CURRENCIES])


def currency_code(currency: str) -> int:
    return CURRENCIES.index(currency)
