"""Currencies of the public datasets, as ISO 4217 (or crypto-asset) codes, and what happens to each
on import.

The contract takes every code of the currencies reference dataset (ISO 4217 plus the crypto codes
payment data uses, aml_contract.reference). An importer never drops a row for its currency
without saying so:
- a currency the dataset spells out ("Naira", "Bitcoin") is mapped to its code and kept, with
  `amount` as given;
- `amount_base` (USD) comes from the fixed rate below when one is known here, the way a bank's
  ledger books its own equivalent; otherwise it is left null for the pipeline, which derives it
  from the dated reference rates or counts it unknown (`currencies.without_rate`);
- a currency that is no code at all is left out and counted (`currencies.unknown`): the Glue job
  would quarantine it, so the report says exactly how many rows are missing and why.

Rates are fixed, approximate USD per unit (late 2025), kept as data so a backtest is
reproducible; they only matter for the USD thresholds of the scenarios (amount_base).
"""
from __future__ import annotations

from aml.reference.build import in_memory

# USD per unit of each currency the datasets use.
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.085, "GBP": 1.265, "CHF": 1.125, "JPY": 0.0067, "CAD": 0.735,
    "AUD": 0.655, "SGD": 0.745, "HKD": 0.128, "AED": 0.2723, "MXN": 0.0585, "INR": 0.012,
    "ALL": 0.0108, "MAD": 0.099, "NGN": 0.00065, "PKR": 0.0036, "TRY": 0.029, "CNY": 0.138,
    "RUB": 0.0125, "BRL": 0.18, "SAR": 0.2666, "ILS": 0.27, "BTC": 90_000.0,
}

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
    if text.upper() in USD_PER_UNIT or accepted(text.upper()):
        return text.upper()
    return NAMES.get(text.lower())


def accepted(code: str) -> bool:
    """A code of the currencies reference dataset (what the Glue job and the Lambda take)."""
    return code in in_memory().currencies
