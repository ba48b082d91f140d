"""IBM AMLworld (Altman et al., 2023, "Realistic Synthetic Financial Transactions for Anti-Money
Laundering Models"; Kaggle "IBM Transactions for Anti Money Laundering"): the transaction files
HI-Small_Trans.csv / LI-Small_Trans.csv (and the Medium/Large ones, same layout), one row per payment:

    Timestamp, From Bank, Account, To Bank, Account, Amount Received, Receiving Currency,
    Amount Paid, Payment Currency, Payment Format, Is Laundering

(the second `Account` is the beneficiary's; pandas reads it as `Account.1`). Mapping:
- accounts: an account is (bank, account number), kept as `<bank>-<account>`; every account is one
  of ours with a customer of its own; the files carry no country, so countries are `ZZ` (unknown);
- Payment Format: Wire -> wire, ACH -> ach, Cheque -> check, Credit Card -> card, Bitcoin -> crypto,
  Reinvestment -> internal, Cash -> cash_deposit (originator = the paying account, as a depositor);
- the amount is Amount Paid in Payment Currency (the payer's side);
- labels are per transaction (Is Laundering). When the sibling `<name>_Patterns.txt` exists (same
  rows, grouped under `BEGIN LAUNDERING ATTEMPT - <TYPOLOGY>` lines), its typology names the
  laundering payments it lists; other laundering payments are typology `unspecified`. Both
  accounts of a laundering payment are laundering accounts.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from aml.evaluate.dataset import Dataset, build
from aml.evaluate.importers import mapped, read_csv, single_file, truthy

COLUMNS = ["Timestamp", "From Bank", "Account", "To Bank", "Account.1", "Amount Received", "Receiving Currency",
           "Amount Paid", "Payment Currency", "Payment Format", "Is Laundering"]
PAYMENT_FORMATS = {"wire": "wire", "ach": "ach", "cheque": "check", "credit card": "card", "bitcoin": "crypto",
                   "reinvestment": "internal", "cash": "cash_deposit"}
_BEGIN = re.compile(r"^BEGIN LAUNDERING ATTEMPT\s*-\s*([^:]+)", re.IGNORECASE)
_KEY = ["Timestamp", "From Bank", "Account", "To Bank", "Account.1", "Amount Paid", "Payment Currency"]


def _account(bank: pd.Series, number: pd.Series) -> pd.Series:
    return bank.str.strip() + "-" + number.str.strip()


def patterns_file(trans: Path) -> Path:
    return trans.with_name(trans.name.replace("_Trans.csv", "_Patterns.txt"))


def read_patterns(path: Path) -> pd.DataFrame:
    """The rows of a *_Patterns.txt file with the typology of the attempt each belongs to."""
    rows, typology = [], None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        begin = _BEGIN.match(line)
        if begin:
            typology = begin[1].strip().lower().replace("-", "_").replace(" ", "_")
        elif line.upper().startswith("END LAUNDERING ATTEMPT"):
            typology = None
        elif typology:
            fields = [f.strip() for f in line.split(",")]
            if len(fields) >= len(COLUMNS):
                rows.append([*fields[:len(COLUMNS)], typology])
    return pd.DataFrame(rows, columns=[*COLUMNS, "typology"])


def load(path: Path) -> Dataset:
    path = single_file(path, "*_Trans.csv", "point at one transaction file")
    raw = read_csv(path, COLUMNS)
    types = mapped(raw["Payment Format"], PAYMENT_FORMATS, f"{path.name} Payment Format")
    ledger = pd.DataFrame({
        "transaction_id": "W" + pd.Series(range(1, len(raw) + 1), index=raw.index).astype(str).str.zfill(9),
        "booked_at": pd.to_datetime(raw["Timestamp"].str.strip(), utc=True, errors="coerce", format="%Y/%m/%d %H:%M"),
        "originator_account_id": _account(raw["From Bank"], raw["Account"]),
        "beneficiary_account_id": _account(raw["To Bank"], raw["Account.1"]),
        "amount": raw["Amount Paid"], "currency": raw["Payment Currency"], "transaction_type": types,
        "originator_country": None, "beneficiary_country": None,
    })
    laundering = truthy(raw["Is Laundering"])
    typology = pd.Series("unspecified", index=raw.index)
    notes = {"labels": "per transaction (Is Laundering); both accounts of a laundering payment"}
    patterns = patterns_file(path)
    if patterns.exists():
        named = read_patterns(patterns)
        keyed = raw[_KEY].apply(lambda c: c.str.strip()).reset_index().merge(
            named[[*_KEY, "typology"]].drop_duplicates(_KEY), on=_KEY, how="inner").set_index("index")["typology"]
        typology.loc[keyed.index] = keyed
        notes["patterns_file"] = patterns.name
        notes["laundering_rows_with_typology"] = int((typology[laundering] != "unspecified").sum())
    tx_labels = pd.DataFrame({"transaction_id": ledger.loc[laundering, "transaction_id"],
                              "typology": typology[laundering]})
    return build(ledger, source=f"amlworld:{path.name}", tx_labels=tx_labels, notes=notes)
