"""Currencies of the public datasets, as ISO 4217 codes, and what happens to each on import.

The source contract accepts a fixed list of currencies today (`aml_contract.schema.CURRENCIES`;
issue 19 widens it). An importer never drops a row for its currency without saying so:
- a currency the contract accepts is kept as is;
- a currency it does not accept, but whose rate is known here, is converted into the base
  currency (USD): `currency` becomes USD and `amount` the converted amount, and the row is
  counted per original code in the import report (`currencies.converted`);
- a currency nobody here knows is refused: the row is left out and counted
  (`currencies.unknown`), so the report says exactly how many rows are missing and why.

Rates are fixed, approximate USD per unit (late 2025), kept as data so a backtest is
reproducible; they only matter for the USD thresholds of the scenarios (amount_base).
"""
from __future__ import annotations

from aml_contract.schema import CURRENCIES

# USD per unit of each currency the datasets use.
USD_PER_UNIT: dict[str, float] = {
    # accepted by the contract
    "USD": 1.0, "EUR": 1.085, "GBP": 1.265, "CHF": 1.125, "JPY": 0.0067, "CAD": 0.735,
    "AUD": 0.655, "SGD": 0.745, "HKD": 0.128, "AED": 0.2723, "MXN": 0.0585, "INR": 0.012,
    # not accepted by the contract today (converted to USD on import)
    "ALL": 0.0108, "MAD": 0.099, "NGN": 0.00065, "PKR": 0.0036, "TRY": 0.029, "CNY": 0.138,
    "RUB": 0.0125, "BRL": 0.18, "SAR": 0.2666, "ILS": 0.27, "BTC": 90_000.0,
}
assert set(CURRENCIES) <= set(USD_PER_UNIT)

# Names the datasets write, lower-cased -> ISO code. SAML-D (e.g. "UK pounds", "Naira") and
# AMLworld (e.g. "US Dollar", "Bitcoin") spell currencies out; ISO codes are accepted as well.
NAMES: dict[str, str] = {
    # SAML-D
    "uk pounds": "GBP", "us dollar": "USD", "euro": "EUR", "yen": "JPY", "swiss franc": "CHF",
    "indian rupee": "INR", "mexican peso": "MXN", "dirham": "AED", "albanian lek": "ALL",
    "moroccan dirham": "MAD", "naira": "NGN", "pakistani rupee": "PKR", "turkish lira": "TRY",
    # AMLworld
    "uk pound": "GBP", "canadian dollar": "CAD", "australian dollar": "AUD", "rupee": "INR",
    "yuan": "CNY", "ruble": "RUB", "brazil real": "BRL", "saudi riyal": "SAR", "shekel": "ILS",
    "bitcoin": "BTC",
}


def iso_code(raw: object) -> str | None:
    """The ISO code of a currency as a dataset writes it, or None when unknown."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    text = str(raw).strip()
    if text.upper() in USD_PER_UNIT:
        return text.upper()
    return NAMES.get(text.lower())


def accepted(code: str) -> bool:
    return code in CURRENCIES
