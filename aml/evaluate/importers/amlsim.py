"""IBM AMLSim output (https://github.com/IBM/AMLSim): a folder with accounts, transactions and alerts
CSVs. Two published layouts are read:

- the example data set (Kaggle "IBM AMLSim Example Dataset"):
  `accounts.csv` ACCOUNT_ID, CUSTOMER_ID, INIT_BALANCE, COUNTRY, ACCOUNT_TYPE, IS_FRAUD, TX_BEHAVIOR_ID;
  `transactions.csv` TX_ID, SENDER_ACCOUNT_ID, RECEIVER_ACCOUNT_ID, TX_TYPE, TX_AMOUNT, TIMESTAMP,
  IS_FRAUD, ALERT_ID; `alerts.csv` ALERT_ID, ALERT_TYPE, IS_FRAUD, TX_ID, SENDER_ACCOUNT_ID,
  RECEIVER_ACCOUNT_ID, TX_TYPE, TX_AMOUNT, TIMESTAMP;
- what `scripts/convert_logs.py` writes with the repository's `schema.json`: `accounts.csv` (acct_id,
  country, prior_sar_count, ...), `transactions.csv` (tran_id, tran_timestamp, base_amt, tx_type,
  orig_acct, bene_acct, is_sar or is_fraud, alert_id) and `alert_transactions.csv` (alert_id,
  alert_type, is_sar or is_fraud, tran_id, orig_acct, bene_acct, ...).

Mapping:
- accounts: ACCOUNT_ID as is; CUSTOMER_ID when given (several accounts may share a customer), else
  one customer per account; COUNTRY (ISO-2) for the customer and the account's branch;
- TIMESTAMP: a simulation step (a whole number) is that many days after `BASE_DATE` (AMLSim's
  default base_date, 2017-01-01), at midnight UTC; a date-time is read as UTC. The history is then
  moved forward by whole weeks past the first projected day (2020-01-01), as every importer does;
- TX_TYPE: TRANSFER / WIRE -> wire, CASH-IN / DEPOSIT -> cash_deposit, CASH-OUT / WITHDRAWAL ->
  cash_withdrawal (beneficiary `CASH`), CHECK / CHEQUE -> check, PAYMENT / DEBIT -> card;
- amounts have no currency in AMLSim: they are taken as USD;
- labels are per alert: every account that sends or receives a transaction of an alert whose
  IS_FRAUD is true is a laundering account of that alert's ALERT_TYPE (AMLSim's own definition of
  a SAR account); accounts flagged IS_FRAUD in accounts.csv without such an alert are typology
  `unspecified`. Alerts whose IS_FRAUD is false (AMLSim's false alerts) are not laundering.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from aml.errors import AmlError
from aml.evaluate.dataset import Dataset, build
from aml.evaluate.importers import mapped, read_csv, truthy
from aml_contract.schema import CASH_ACCOUNT_ID

BASE_DATE = pd.Timestamp("2017-01-01", tz="UTC")
TX_TYPES = {"transfer": "wire", "wire": "wire", "cash-in": "cash_deposit", "deposit": "cash_deposit",
            "cash-out": "cash_withdrawal", "withdrawal": "cash_withdrawal", "check": "check", "cheque": "check",
            "payment": "card", "debit": "card"}
# Our name <- the names of each layout, first found wins.
TX_ALIASES = {"tx_id": ["TX_ID", "tran_id"], "sender": ["SENDER_ACCOUNT_ID", "orig_acct"],
              "receiver": ["RECEIVER_ACCOUNT_ID", "bene_acct"], "tx_type": ["TX_TYPE", "tx_type"],
              "amount": ["TX_AMOUNT", "base_amt"], "timestamp": ["TIMESTAMP", "tran_timestamp"]}
ACCOUNT_ALIASES = {"account_id": ["ACCOUNT_ID", "acct_id"]}
ACCOUNT_OPTIONAL = {"customer_id": ["CUSTOMER_ID"], "country": ["COUNTRY", "country"],
                    "is_fraud": ["IS_FRAUD", "is_sar", "prior_sar_count"], "account_type": ["ACCOUNT_TYPE"]}
ALERT_ALIASES = {"alert_type": ["ALERT_TYPE", "alert_type"], "is_fraud": ["IS_FRAUD", "is_sar", "is_fraud"],
                 "tx_id": ["TX_ID", "tran_id"]}
ALERT_FILES = ("alerts.csv", "alert_transactions.csv")
CUSTOMER_TYPES = {"i": "individual", "individual": "individual", "o": "business", "b": "business",
                  "business": "business", "organization": "business"}


def _pick(frame: pd.DataFrame, aliases: dict[str, list[str]], name: str, required: bool = True) -> pd.DataFrame:
    out = {}
    for ours, theirs in aliases.items():
        found = next((c for c in theirs if c in frame.columns), None)
        if found is None:
            if required:
                raise AmlError(f"{name} lacks a column for {ours} (one of {', '.join(theirs)})",
                               f"found: {', '.join(frame.columns)}")
            continue
        out[ours] = frame[found]
    return pd.DataFrame(out, index=frame.index)


def _timestamps(values: pd.Series) -> pd.Series:
    text = values.fillna("").str.strip()
    steps = pd.to_numeric(text, errors="coerce")
    is_step = steps.notna() & (steps == steps.round())
    stamps = pd.to_datetime(text.where(~is_step), utc=True, errors="coerce", format="mixed")
    return stamps.where(~is_step, BASE_DATE + pd.to_timedelta(steps.where(is_step), unit="D"))


def load(path: Path) -> Dataset:
    if not path.is_dir():
        raise AmlError(f"{path} is not a folder", "point at the AMLSim output folder (accounts.csv, transactions.csv, "
                       "alerts.csv)")
    for name in ("accounts.csv", "transactions.csv"):
        if not (path / name).exists():
            raise AmlError(f"{path} has no {name}", "point at the AMLSim output folder")
    alerts_file = next((path / n for n in ALERT_FILES if (path / n).exists()), None)
    if alerts_file is None:
        raise AmlError(f"{path} has neither {' nor '.join(ALERT_FILES)}", "AMLSim writes its labels there")

    tx = _pick(read_csv(path / "transactions.csv", []), TX_ALIASES, "transactions.csv")
    types = mapped(tx["tx_type"], TX_TYPES, "transactions.csv TX_TYPE")
    sender = tx["sender"].fillna(CASH_ACCOUNT_ID).str.strip()
    receiver = tx["receiver"].fillna(CASH_ACCOUNT_ID).str.strip()
    ledger = pd.DataFrame({
        "transaction_id": tx["tx_id"].str.strip(), "booked_at": _timestamps(tx["timestamp"]),
        "originator_account_id": sender.where(~sender.isin(["", "-1"]), CASH_ACCOUNT_ID),
        "beneficiary_account_id": receiver.where(types != "cash_withdrawal", CASH_ACCOUNT_ID),
        "amount": tx["amount"], "currency": "USD", "transaction_type": types,
        "originator_country": None, "beneficiary_country": None,
    })

    acc_raw = read_csv(path / "accounts.csv", [])
    accounts = _pick(acc_raw, ACCOUNT_ALIASES, "accounts.csv").join(
        _pick(acc_raw, ACCOUNT_OPTIONAL, "accounts.csv", required=False))
    if "account_type" in accounts:
        accounts["customer_type"] = accounts["account_type"].fillna("").str.strip().str.lower().map(CUSTOMER_TYPES)
    if "country" in accounts:
        accounts["country"] = accounts["country"].str.strip().str.upper().where(
            accounts["country"].str.strip().str.len() == 2)

    alerts = _pick(read_csv(alerts_file, []), ALERT_ALIASES, alerts_file.name)
    sar = truthy(alerts["is_fraud"])
    tx_labels = pd.DataFrame({"transaction_id": alerts.loc[sar, "tx_id"].str.strip(),
                              "typology": alerts.loc[sar, "alert_type"].fillna("unspecified").str.strip()})
    flagged = accounts[truthy(accounts["is_fraud"]) if "is_fraud" in accounts else pd.Series(False, accounts.index)]
    labels = pd.DataFrame({"account_id": flagged["account_id"].str.strip(), "typology": "unspecified"})
    labelled_by_alert = set(ledger.loc[ledger["transaction_id"].isin(set(tx_labels["transaction_id"])),
                                       ["originator_account_id", "beneficiary_account_id"]].stack())
    labels = labels[~labels["account_id"].isin(labelled_by_alert)]
    notes = {"labels": "per alert (alerts with IS_FRAUD true: every account of its transactions), plus "
                       "accounts flagged IS_FRAUD without such an alert (typology unspecified)",
             "alerts_file": alerts_file.name, "false_alert_rows": int((~sar).sum()),
             "timestamps": "simulation steps as days after 2017-01-01" if
             pd.to_numeric(tx["timestamp"], errors="coerce").notna().all() else "date-times (UTC)"}
    return build(ledger, source=f"amlsim:{path.name}", account_info=accounts[[c for c in (
        "account_id", "customer_id", "country", "customer_type") if c in accounts]], labels=labels,
        tx_labels=tx_labels, notes=notes)
