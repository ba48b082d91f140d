"""Fixed FX table (units of USD per unit of currency), kept as data so amount_base is reproducible.

The generator books each transaction in the currency of our customer's account and derives
amount_base (USD) from this table, the way a core-banking system books its own equivalent;
tests recompute it from the same table. Some international wires are booked in the foreign
party's currency instead (several are currencies the ECB does not publish in every period, or
that the old contract refused), and a share of those leave amount_base to the pipeline, which
derives it from the dated reference rates (aml_contract.reference).
"""
from __future__ import annotations

import numpy as np

from aml_contract.schema import BASE_CURRENCY

USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.085, "GBP": 1.265, "CHF": 1.125, "JPY": 0.0067, "CAD": 0.735,
    "AUD": 0.655, "SGD": 0.745, "HKD": 0.128, "AED": 0.2723, "MXN": 0.0585, "INR": 0.012,
    "SEK": 0.095, "NOK": 0.093, "DKK": 0.1455, "NZD": 0.59,
}
CURRENCIES = tuple(USD_PER_UNIT)  # every currency the generator books
assert set(USD_PER_UNIT) == set(CURRENCIES) and USD_PER_UNIT[BASE_CURRENCY] == 1.0

# Currencies of our customers' accounts, with their share (mostly a US bank). JPY is left out:
# whole-yen amounts would too often look like round amounts.
ACCOUNT_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD", "SGD", "MXN")
ACCOUNT_CURRENCY_WEIGHTS = (0.76, 0.07, 0.05, 0.04, 0.02, 0.02, 0.02, 0.02)

# Currency of each foreign country our external parties live in (ISO 3166 -> ISO 4217).
COUNTRY_CURRENCY = {
    "GB": "GBP", "CA": "CAD", "CH": "CHF", "SE": "SEK", "AU": "AUD", "JP": "JPY", "SG": "SGD",
    "NZ": "NZD", "DK": "DKK", "NO": "NOK",
    **dict.fromkeys(("DE", "FR", "NL", "IE", "ES", "IT", "AT", "BE", "FI"), "EUR"),
}
FOREIGN_WIRE_PERCENT = 50  # of background wires with a foreign external party, booked in its currency
NO_BASE_PERCENT = 25  # of those, sent without amount_base (the pipeline derives it, or counts it unknown)

CURRENCY_CODES = np.array(CURRENCIES, dtype=object)
RATE_BY_CODE = np.array([USD_PER_UNIT[c] for c in CURRENCIES])


def currency_code(currency: str) -> int:
    return CURRENCIES.index(currency)


def country_currency_codes(countries: np.ndarray) -> np.ndarray:
    """Code (into CURRENCIES) of each country's currency; -1 for the home country and unknown ones."""
    codes = {country: currency_code(ccy) for country, ccy in COUNTRY_CURRENCY.items()}
    return np.array([codes.get(c, -1) for c in countries.tolist()], dtype=np.int64)


def spread(keys: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic 0-99 per key (which rows a percentage picks, without drawing from the rng,
    so the other columns of a seed stay as they were)."""
    return ((keys.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(4294967296)
            % np.uint64(100)).astype(np.int64)
