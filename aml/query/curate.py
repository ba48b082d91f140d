"""A pandas rendering of the curated zone from source-shaped frames (a generated bank).

The production path is the Glue job (`glue_jobs.curation`); this exists so the benchmark and the
scenario tests can build a curated data directory in seconds without Spark. It applies the
contract's PII classes column by column (drop, generalise, pseudonymise), resolves customer
pseudonyms through the accounts table (null for external accounts and cash) and partitions by
`dt` of booked_at (UTC). It renders a bank whose every row is a single insert (no CDC history,
no quarantine): tests/unit/glue/test_pandas_curation_parity.py holds it to the Glue job's output,
row for row and value for value, on such a bank.
"""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aml_contract import schema
from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import Pii

CENT = Decimal("0.01")
DECIMAL_TYPE = pa.decimal128(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE)


def _arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    """The frame with the contract's DECIMAL(18,2) columns typed as such (not inferred per file)."""
    data = pa.Table.from_pandas(frame, preserve_index=False)
    for name, kind in schema.CURATED_TABLES[table]:
        if kind == schema.DECIMAL:
            data = data.set_column(data.schema.get_field_index(name), name, data[name].cast(DECIMAL_TYPE))
    return data


def _apply_pii(frame: pd.DataFrame, table: schema.Table, key: bytes) -> pd.DataFrame:
    out = {}
    for col in table.columns:
        if col.curated_name is None or col.name not in frame:
            continue
        values = frame[col.name]
        if col.pii is Pii.PSEUDONYMISE:
            values = values.map(lambda v: pseudonymise(v, key) if pd.notna(v) else None)
        elif col.pii is Pii.GENERALISE:
            values = pd.to_datetime(values).dt.year.astype("Int32")
        out[col.curated_name] = values
    return pd.DataFrame(out, index=frame.index)


def _cents(value) -> Decimal | None:
    return None if pd.isna(value) else Decimal(str(value)).quantize(CENT)


def _utc(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    return stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")


def curate(customers: pd.DataFrame, accounts: pd.DataFrame, transactions: pd.DataFrame,
           key: bytes) -> dict[str, pd.DataFrame]:
    """Curated frames (columns in contract order) for customers, accounts and transactions."""
    owner = dict(zip(accounts["account_id"], accounts["customer_id"], strict=True))
    tx = transactions.copy()
    tx["booked_at"] = _utc(tx["booked_at"])
    curated_tx = _apply_pii(tx, schema.TRANSACTIONS, key)
    for side in ("originator", "beneficiary"):
        customer_ids = tx[f"{side}_account_id"].map(owner)
        curated_tx[f"{side}_customer_pid"] = customer_ids.map(
            lambda v: pseudonymise(v, key) if pd.notna(v) else None)
    curated_tx[schema.DMS_COMMIT_TS_COLUMN] = _utc(tx["updated_at"])
    for column in ("amount", "amount_base"):  # exact cents, as the Glue job writes them
        curated_tx[column] = curated_tx[column].map(_cents)
    frames = {
        "customers": _apply_pii(customers, schema.CUSTOMERS, key),
        "accounts": _apply_pii(accounts, schema.ACCOUNTS, key),
        "transactions": curated_tx,
    }
    out = {}
    for name, frame in frames.items():
        columns = [c for c, _ in schema.CURATED_TABLES[name]]
        out[name] = frame[columns].copy()
    out["transactions"][schema.PARTITION_COLUMN] = out["transactions"]["booked_at"].dt.strftime("%Y-%m-%d")
    return out


def write(frames: dict[str, pd.DataFrame], data_dir: str | Path) -> Path:
    """The data-dir layout: <table>/ (partitioned tables as <table>/dt=YYYY-MM-DD/*.parquet)."""
    root = Path(data_dir)
    for name, frame in frames.items():
        target = root / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        data = _arrow(frame, name)
        if name in schema.PARTITIONED_TABLES:
            pq.write_to_dataset(data, target, partition_cols=[schema.PARTITION_COLUMN])
        else:
            pq.write_table(data, target / "part-0.parquet")
    return root


def curate_bank(bank, key: bytes) -> dict[str, pd.DataFrame]:
    """Curated frames of a generated `aml.generate` Bank (its labels are left out: they only score)."""
    return curate(bank.customers, bank.accounts, bank.transactions, key)
