"""SAML-D (Oztas et al., 2023; Kaggle "Anti Money Laundering Transaction Data (SAML-D)"): one CSV,
one row per payment, with the columns

    Time, Date, Sender_account, Receiver_account, Amount, Payment_currency, Received_currency,
    Sender_bank_location, Receiver_bank_location, Payment_type, Is_laundering, Laundering_type

(an unnamed leading index column, as pandas writes one, is ignored). Mapping:
- accounts: every Sender_account / Receiver_account is one of our accounts, with one customer of
  its own (`C-<account>`), located where its bank is (Sender/Receiver_bank_location);
- Payment_type: Cash Deposit -> cash_deposit (originator = the depositing account), Cash Withdrawal ->
  cash_withdrawal (beneficiary = `CASH`), Cross-border -> wire, ACH -> ach, Cheque -> check,
  Credit card / Debit card -> card;
- Amount is in Payment_currency (names such as "UK pounds" -> GBP; see `aml.evaluate.currencies`);
- labels are per transaction (Is_laundering, Laundering_type); an account is a laundering account
  of a typology when it sends or receives a laundering payment of that type.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from aml.evaluate.dataset import Dataset, build
from aml.evaluate.importers import mapped, read_csv, single_file, truthy
from aml_contract.schema import CASH_ACCOUNT_ID

COLUMNS = ["Time", "Date", "Sender_account", "Receiver_account", "Amount", "Payment_currency",
           "Received_currency", "Sender_bank_location", "Receiver_bank_location", "Payment_type",
           "Is_laundering", "Laundering_type"]
PAYMENT_TYPES = {"cash deposit": "cash_deposit", "cash withdrawal": "cash_withdrawal", "cross-border": "wire",
                 "ach": "ach", "cheque": "check", "credit card": "card", "debit card": "card"}
LOCATIONS = {"uk": "GB", "usa": "US", "uae": "AE", "albania": "AL", "austria": "AT", "france": "FR",
             "germany": "DE", "india": "IN", "italy": "IT", "japan": "JP", "mexico": "MX", "morocco": "MA",
             "netherlands": "NL", "nigeria": "NG", "pakistan": "PK", "spain": "ES", "switzerland": "CH",
             "turkey": "TR"}


def _country(series: pd.Series) -> pd.Series:
    text = series.fillna("").str.strip()
    iso = text.str.lower().map(LOCATIONS)
    return iso.where(iso.notna(), text.where(text.str.len() == 2).str.upper())


def load(path: Path) -> Dataset:
    path = single_file(path, "*.csv", "point at SAML-D's single CSV file")
    raw = read_csv(path, COLUMNS)
    types = mapped(raw["Payment_type"], PAYMENT_TYPES, f"{path.name} Payment_type")
    beneficiary = raw["Receiver_account"].where(types != "cash_withdrawal", CASH_ACCOUNT_ID)
    ledger = pd.DataFrame({
        "transaction_id": "S" + pd.Series(range(1, len(raw) + 1), index=raw.index).astype(str).str.zfill(8),
        "booked_at": pd.to_datetime(raw["Date"].str.strip() + " " + raw["Time"].str.strip(), utc=True,
                                    errors="coerce", format="mixed"),
        "originator_account_id": raw["Sender_account"], "beneficiary_account_id": beneficiary,
        "amount": raw["Amount"], "currency": raw["Payment_currency"], "transaction_type": types,
        "originator_country": _country(raw["Sender_bank_location"]),
        "beneficiary_country": _country(raw["Receiver_bank_location"]),
    })
    laundering = truthy(raw["Is_laundering"])
    tx_labels = pd.DataFrame({"transaction_id": ledger.loc[laundering, "transaction_id"],
                              "typology": raw.loc[laundering, "Laundering_type"].fillna("unspecified")})
    accounts = pd.concat([
        pd.DataFrame({"account_id": raw["Sender_account"], "country": ledger["originator_country"]}),
        pd.DataFrame({"account_id": raw["Receiver_account"].where(types != "cash_withdrawal"),
                      "country": ledger["beneficiary_country"]}),
    ]).dropna(subset=["account_id"])
    notes = {"labels": "per transaction (Is_laundering, Laundering_type); both accounts of a laundering payment"}
    return build(ledger, source=f"saml-d:{path.name}", account_info=accounts, tx_labels=tx_labels, notes=notes)
