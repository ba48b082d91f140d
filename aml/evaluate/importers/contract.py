"""A bank's own labelled history already in the source contract: a folder with `customers`,
`accounts` and `transactions` (Parquet or CSV, the columns of `aml_contract.schema.SOURCE_TABLES`)
and one labels file whose name contains `labels` (Parquet or CSV). `aml generate --out DIR`
writes exactly this, so the generator's bank is evaluated with `--format contract DIR`.

The tables pass through unchanged. The labels file may be
- per account: `account_id`, `typology` (an optional `kind` column keeps only `laundering` rows);
- per transaction: `transaction_id`, `typology` (both own accounts of a listed payment are
  laundering accounts);
- the generator's: `typology`, `kind`, `subject_account_ids` (a list): the subjects of every
  `laundering` instance; `near_miss` instances and `benign` look-alikes of the background
  (typology = the kind of legitimate activity) are not laundering, and are counted in the report
  only (`label_kinds`, `benign_typologies`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from aml.errors import AmlError
from aml.evaluate.dataset import Dataset, empty_labels, labels_from_transactions, normalise_labels
from aml_contract import schema
from aml_contract.schema import SOURCE_TABLES


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False,
                                                                                na_values=[""])


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Contract types for text columns (a CSV file): timestamps in UTC, dates, booleans, amounts."""
    frame = frame.copy()
    for col in SOURCE_TABLES[name].columns:
        values = frame[col.name]
        if values.dtype != object:
            continue
        if col.type == schema.TIMESTAMP:
            frame[col.name] = pd.to_datetime(values, utc=True, format="mixed")
        elif col.type == schema.DATE:
            frame[col.name] = pd.to_datetime(values).dt.date
        elif col.type == schema.BOOLEAN:
            frame[col.name] = values.astype(str).str.strip().str.lower().isin(("true", "t", "1", "yes"))
        elif col.type == schema.DECIMAL:
            frame[col.name] = pd.to_numeric(values).round(schema.DECIMAL_SCALE)
        else:
            frame[col.name] = values.where(values.isna(), values.astype(str))
    return frame


def _table(folder: Path, name: str) -> pd.DataFrame:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{name}{suffix}").exists():
            frame = _read(folder / f"{name}{suffix}")
            break
    else:
        if (folder / name).is_dir():  # a folder of Parquet files
            frame = pd.read_parquet(folder / name)
        else:
            raise AmlError(f"{folder} has no {name}.parquet or {name}.csv",
                           "a contract folder holds customers, accounts, transactions and a labels file")
    missing = [c for c in SOURCE_TABLES[name].column_names if c not in frame.columns]
    if missing:
        raise AmlError(f"{name} lacks contract column(s) {', '.join(missing)}", "see aml_contract/schema.py")
    return _typed(frame[SOURCE_TABLES[name].column_names], name)


def read_labels(path: Path, transactions: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    raw = _read(path)
    note: dict = {"labels_file": path.name}
    if "kind" in raw:
        note["label_kinds"] = {str(k): int(v) for k, v in raw["kind"].value_counts().items()}
        if "typology" in raw and (raw["kind"] == "benign").any():
            note["benign_typologies"] = {str(k): int(v) for k, v in
                                         raw.loc[raw["kind"] == "benign", "typology"].value_counts().sort_index().items()}
        raw = raw[raw["kind"] == "laundering"]
    if "subject_account_ids" in raw:
        exploded = raw[["subject_account_ids", "typology"]].explode("subject_account_ids")
        return normalise_labels(exploded.rename(columns={"subject_account_ids": "account_id"})), note
    if "account_id" in raw:
        return normalise_labels(raw[["account_id", "typology"]] if "typology" in raw
                                else raw.assign(typology="unspecified")[["account_id", "typology"]]), note
    if "transaction_id" in raw:
        tx_labels = raw.assign(transaction_id=raw["transaction_id"].astype(str),
                               typology=raw.get("typology", "unspecified"))
        return labels_from_transactions(tx_labels, transactions), note
    raise AmlError(f"{path.name} has none of subject_account_ids, account_id, transaction_id",
                   "label accounts (account_id, typology) or transactions (transaction_id, typology)")


def load(path: Path) -> Dataset:
    if not path.is_dir():
        raise AmlError(f"{path} is not a folder", "point at a folder with customers, accounts, transactions "
                       "and labels files")
    tables = {name: _table(path, name) for name in SOURCE_TABLES}
    found = sorted(p for p in path.iterdir() if "labels" in p.name and p.suffix in (".parquet", ".csv"))
    if len(found) > 1:
        raise AmlError(f"{path} holds {len(found)} labels files ({', '.join(p.name for p in found)})",
                       "keep one")
    labels, note = read_labels(found[0], tables["transactions"]) if found else (empty_labels(), {"labels_file": None})
    accounts = set(tables["accounts"]["account_id"].astype(str))
    outside = ~labels["account_id"].isin(accounts)
    report = {"source": f"contract:{path.name}", "rows_read": len(tables["transactions"]), **note,
              "transactions": len(tables["transactions"]), "accounts": len(accounts),
              "customers": len(tables["customers"])}
    if outside.any():
        report["labels_on_accounts_without_rows"] = int(outside.sum())
    labels = labels[~outside].reset_index(drop=True)
    report["laundering_accounts"] = int(labels["account_id"].nunique())
    report["labelled_typologies"] = {k: int(v) for k, v in labels.groupby("typology")["account_id"].nunique()
                                     .sort_index().items()}
    return Dataset(tables["customers"], tables["accounts"], tables["transactions"], labels, report)
