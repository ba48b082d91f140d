"""A labelled dataset in the source contract: the three `core` tables, plus labels kept apart.

Every importer ends here. `build` turns a normalised ledger (one row per payment, ids and
amounts as the dataset gives them) into contract rows, and says in `report` what it had to
decide: currencies kept without a rate or refused, rows left out and why, dates shifted. Labels are an
account-level frame (`account_id`, `typology`) and never a column of a contract table: the
pipeline gets the tables, the scoring gets the labels, after detection has run.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aml.errors import AmlError
from aml.evaluate import currencies
from aml_contract import schema

# Columns an importer hands to `build` (one row per payment).
LEDGER_COLUMNS = ("transaction_id", "booked_at", "originator_account_id", "beneficiary_account_id",
                  "amount", "currency", "transaction_type", "originator_country", "beneficiary_country")
LABEL_COLUMNS = ("account_id", "typology")
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned code: the dataset does not say
# Neutral values for the customer and account fields the public datasets do not have.
DEFAULTS = {"risk_rating": "low", "is_pep": False, "kyc_status": "verified", "customer_type": "individual",
            "account_type": "checking", "status": "active"}
CHANNEL_OF_TYPE = {"cash_deposit": "branch", "cash_withdrawal": "branch", "card": "pos"}  # else online


@dataclass
class Dataset:
    customers: pd.DataFrame
    accounts: pd.DataFrame
    transactions: pd.DataFrame
    labels: pd.DataFrame  # account_id, typology: one row per laundering account and typology
    report: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The contract tables only (what detection sees)."""
        return {"customers": self.customers, "accounts": self.accounts, "transactions": self.transactions}


def empty_labels() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})


def labels_from_transactions(tx_labels: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """Account labels from transaction labels (`transaction_id`, `typology`): both own accounts of
    a laundering payment (originator and beneficiary; never `CASH`) are laundering accounts."""
    if tx_labels.empty:
        return empty_labels()
    sides = transactions[["transaction_id", "originator_account_id", "beneficiary_account_id"]].merge(
        tx_labels[["transaction_id", "typology"]], on="transaction_id")
    frame = pd.concat([sides.rename(columns={"originator_account_id": "account_id"})[["account_id", "typology"]],
                       sides.rename(columns={"beneficiary_account_id": "account_id"})[["account_id", "typology"]]])
    return normalise_labels(frame)


def normalise_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.dropna(subset=["account_id"])
    frame = frame[frame["account_id"].astype(str) != schema.CASH_ACCOUNT_ID]
    frame = frame.assign(account_id=frame["account_id"].astype(str),
                         typology=frame["typology"].fillna("unspecified").astype(str).str.strip())
    return frame[list(LABEL_COLUMNS)].drop_duplicates().sort_values(list(LABEL_COLUMNS)).reset_index(drop=True)


def _shift_weeks(first: pd.Timestamp) -> int:
    """Whole weeks to move a history that starts before the first projected day to after it (the
    Glue job quarantines earlier rows as out_of_projection); weekdays are kept."""
    start = pd.Timestamp(schema.PROJECTION_START_DATE, tz="UTC")
    if first >= start:
        return 0
    return int(np.ceil((start - first) / pd.Timedelta(weeks=1)))


def build(ledger: pd.DataFrame, *, source: str, account_info: pd.DataFrame | None = None,
          labels: pd.DataFrame | None = None, tx_labels: pd.DataFrame | None = None,
          notes: dict | None = None) -> Dataset:
    """Contract tables from a normalised ledger.

    `account_info` (optional): account_id plus any of customer_id, country, customer_type, currency.
    `labels`: account-level labels; `tx_labels`: transaction-level labels (turned into account
    labels by `labels_from_transactions`). Accounts are every account id of the ledger (but
    `CASH`) and of account_info: the dataset is the bank's own book.
    """
    missing = [c for c in LEDGER_COLUMNS if c not in ledger]
    if missing:
        raise AmlError(f"internal: ledger lacks {', '.join(missing)}")
    report: dict = {"source": source, "rows_read": len(ledger), **(notes or {})}
    tx = ledger[list(LEDGER_COLUMNS)].copy()
    for col in ("transaction_id", "originator_account_id", "beneficiary_account_id"):
        tx[col] = tx[col].astype(str).str.strip()
    tx["booked_at"] = pd.to_datetime(tx["booked_at"], utc=True)
    tx["amount"] = pd.to_numeric(tx["amount"], errors="coerce")

    left_out: Counter = Counter()
    bad_time = tx["booked_at"].isna()
    left_out["unreadable_timestamp"] = int(bad_time.sum())
    tx = tx[~bad_time]

    # Currencies: every code is kept; USD equivalents where a rate is known here (counted either way).
    codes = tx["currency"].map(currencies.iso_code)
    unknown = codes.isna() | ~codes.map(lambda c: bool(c) and currencies.accepted(c))
    rate = codes.map(currencies.USD_PER_UNIT)
    report["currencies"] = {
        "kept": {k: int(v) for k, v in codes[~unknown].value_counts().sort_index().items()},
        "without_rate": {k: int(v) for k, v in codes[~unknown & rate.isna()].value_counts().sort_index().items()},
        "unknown": {str(k): int(v) for k, v in tx.loc[unknown, "currency"].astype(str).value_counts().items()},
    }
    left_out["unknown_currency"] = int(unknown.sum())
    tx, codes, rate = tx[~unknown], codes[~unknown], rate[~unknown]
    tx["amount"] = tx["amount"].round(2)
    tx["currency"] = codes
    tx["amount_base"] = (tx["amount"] * rate).round(2)  # NaN (null) without a rate: the pipeline's to derive

    not_positive = ~(tx["amount"] > 0) | (tx["amount_base"].notna() & ~(tx["amount_base"] > 0))
    left_out["amount_not_positive"] = int(not_positive.sum())
    tx = tx[~not_positive]
    duplicate = tx["transaction_id"].duplicated()
    left_out["duplicate_transaction_id"] = int(duplicate.sum())
    tx = tx[~duplicate]
    bad_type = ~tx["transaction_type"].isin(schema.TRANSACTION_TYPES)
    if bad_type.any():
        raise AmlError(f"internal: unmapped transaction types {sorted(set(tx.loc[bad_type, 'transaction_type']))}")
    report["left_out"] = {k: v for k, v in left_out.items() if v}

    weeks = _shift_weeks(tx["booked_at"].min()) if len(tx) else 0
    if weeks:
        tx["booked_at"] = tx["booked_at"] + pd.Timedelta(weeks=weeks)
        report["dates_shifted_weeks"] = weeks
    tx = tx.sort_values(["booked_at", "transaction_id"], kind="stable").reset_index(drop=True)

    # Accounts: every id the ledger names (but CASH) and every id account_info lists.
    ids = pd.unique(pd.concat([tx["originator_account_id"], tx["beneficiary_account_id"]]))
    info = (account_info.copy() if account_info is not None else pd.DataFrame({"account_id": []}))
    info["account_id"] = info["account_id"].astype(str).str.strip()
    info = info.drop_duplicates("account_id")
    all_ids = pd.Index(ids).union(pd.Index(info["account_id"])).difference([schema.CASH_ACCOUNT_ID])
    acc = pd.DataFrame({"account_id": all_ids.astype(str)}).merge(info, on="account_id", how="left")
    # An account's country and currency, where the dataset does not give them: those of its own
    # payments (as originator first, then as beneficiary).
    seen_country = pd.concat([
        tx[["originator_account_id", "originator_country"]].set_axis(["account_id", "country"], axis=1),
        tx[["beneficiary_account_id", "beneficiary_country"]].set_axis(["account_id", "country"], axis=1),
    ]).dropna().drop_duplicates("account_id").set_index("account_id")["country"]
    seen_currency = pd.concat([
        tx[["originator_account_id", "currency"]].set_axis(["account_id", "currency"], axis=1),
        tx[["beneficiary_account_id", "currency"]].set_axis(["account_id", "currency"], axis=1),
    ]).drop_duplicates("account_id").set_index("account_id")["currency"]
    if "country" not in acc:
        acc["country"] = None
    country = acc["country"].astype(object)
    country = country.where(country.notna(), acc["account_id"].map(seen_country))
    acc["country"] = country.where(country.notna(), UNKNOWN_COUNTRY)
    if "currency" not in acc:
        acc["currency"] = None
    acc["currency"] = acc["currency"].map(currencies.iso_code)
    acc["currency"] = acc["currency"].where(acc["currency"].map(lambda c: bool(c) and currencies.accepted(c)))
    acc["currency"] = acc["currency"].fillna(acc["account_id"].map(seen_currency)).fillna(schema.BASE_CURRENCY)
    if "customer_id" not in acc:
        acc["customer_id"] = None
    acc["customer_id"] = acc["customer_id"].astype(object).where(acc["customer_id"].notna(), "C-" + acc["account_id"])
    acc["customer_id"] = acc["customer_id"].astype(str)
    if "customer_type" not in acc:
        acc["customer_type"] = None
    acc["customer_type"] = acc["customer_type"].where(acc["customer_type"].isin(schema.CUSTOMER_TYPES),
                                                      DEFAULTS["customer_type"])
    first_seen = pd.concat([tx[["originator_account_id", "booked_at"]].set_axis(["account_id", "t"], axis=1),
                            tx[["beneficiary_account_id", "booked_at"]].set_axis(["account_id", "t"], axis=1)]
                           ).groupby("account_id")["t"].min()
    start = tx["booked_at"].min() if len(tx) else pd.Timestamp(schema.PROJECTION_START_DATE, tz="UTC")
    opened = (acc["account_id"].map(first_seen).fillna(start) - pd.Timedelta(days=1)).dt.floor("D")
    long_ids = acc["account_id"].str.len() > schema.ID_LENGTH
    if long_ids.any():
        raise AmlError(f"{int(long_ids.sum())} account ids are longer than {schema.ID_LENGTH} characters "
                       f"(e.g. {acc.loc[long_ids, 'account_id'].iloc[0][:80]!r})")

    accounts = pd.DataFrame({
        "account_id": acc["account_id"], "customer_id": acc["customer_id"],
        "account_type": np.where(acc["customer_type"] == "business", "business", DEFAULTS["account_type"]),
        "currency": acc["currency"], "status": DEFAULTS["status"], "branch_country": acc["country"],
        "opened_at": opened, "updated_at": opened,
    })[schema.ACCOUNTS.column_names]
    cust = acc.assign(opened=opened).sort_values(["opened", "account_id"]).drop_duplicates("customer_id")
    customers = pd.DataFrame({
        "customer_id": cust["customer_id"], "full_name": "Customer " + cust["customer_id"],
        "email": None, "phone": None, "date_of_birth": None, "national_id": None, "address_line": None,
        "city": None, "postal_code": None, "country": cust["country"], "customer_type": cust["customer_type"],
        "risk_rating": DEFAULTS["risk_rating"], "is_pep": DEFAULTS["is_pep"], "kyc_status": DEFAULTS["kyc_status"],
        "onboarded_at": cust["opened"], "updated_at": cust["opened"],
    })[schema.CUSTOMERS.column_names].sort_values("customer_id").reset_index(drop=True)

    tx["originator_country"] = tx["originator_country"].fillna(tx["originator_account_id"].map(acc.set_index(
        "account_id")["country"])).fillna(UNKNOWN_COUNTRY)
    tx["beneficiary_country"] = tx["beneficiary_country"].fillna(tx["beneficiary_account_id"].map(acc.set_index(
        "account_id")["country"])).fillna(UNKNOWN_COUNTRY)
    transactions = pd.DataFrame({
        "transaction_id": tx["transaction_id"], "booked_at": tx["booked_at"],
        "originator_account_id": tx["originator_account_id"], "originator_name": None,
        "originator_country": tx["originator_country"], "beneficiary_account_id": tx["beneficiary_account_id"],
        "beneficiary_name": None, "beneficiary_country": tx["beneficiary_country"],
        "amount": tx["amount"], "currency": tx["currency"], "amount_base": tx["amount_base"],
        "transaction_type": tx["transaction_type"],
        "channel": tx["transaction_type"].map(CHANNEL_OF_TYPE).fillna("online"),
        "ip_address": None, "device_id": None, "memo": None, "status": "booked", "updated_at": tx["booked_at"],
    })[schema.TRANSACTIONS.column_names]

    account_labels = [normalise_labels(labels)] if labels is not None and len(labels) else []
    if tx_labels is not None and len(tx_labels):
        tx_labels = tx_labels.assign(transaction_id=tx_labels["transaction_id"].astype(str).str.strip())
        account_labels.append(labels_from_transactions(tx_labels, transactions))
    all_labels = normalise_labels(pd.concat(account_labels)) if account_labels else empty_labels()
    outside = ~all_labels["account_id"].isin(set(accounts["account_id"]))
    if outside.any():
        report["labels_on_accounts_without_rows"] = int(outside.sum())
    all_labels = all_labels[~outside].reset_index(drop=True)

    report.update({"transactions": len(transactions), "accounts": len(accounts), "customers": len(customers),
                   "transaction_types": {k: int(v) for k, v in transactions["transaction_type"].value_counts()
                                         .sort_index().items()},
                   "laundering_accounts": int(all_labels["account_id"].nunique()),
                   "labelled_typologies": {k: int(v) for k, v in all_labels.groupby("typology")["account_id"]
                                           .nunique().sort_index().items()}})
    return Dataset(customers, accounts, transactions.reset_index(drop=True), all_labels, report)
