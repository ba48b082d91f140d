"""A pandas rendering of the curated zone from source-shaped frames (a generated bank).

The production path is the Glue job (`glue_jobs.curation`); this exists so the benchmark and the
scenario tests can build a curated data directory in seconds without Spark. It applies the
contract's PII classes column by column (drop, generalise, pseudonymise), resolves customer
pseudonyms through the accounts table (null for external accounts and cash) and partitions by
`dt` of booked_at (UTC). It renders a bank whose every row is a single insert (no CDC history):
tests/unit/glue/test_pandas_curation_parity.py holds it to the Glue job's output, row for row and
value for value, on such a bank.

Reference data (aml_contract.reference), as the Glue job applies it:
- a currency (transactions and accounts) must be a code of the `currencies` dataset, else the row
  is refused with the reason `unknown_value:currency` (counted in `Curated.quarantined`, never
  written, like the Glue job's quarantine);
- `amount_base` is `ReferenceData.amount_base` of each row, the one implementation of the rule:
  the source's value when present, else amount times the FX rate of the UTC booking day, else
  null. A null is kept (the row is curated and counted in `Curated.amount_base["unknown"]`).
Pass the ReferenceData of the curated zone (`ReferenceData.from_directory(root)` after
`aml.reference.publish.to_directory(root)`); without one, the datasets built from the pinned
sources (the same objects `publish` writes) are used.
"""
from __future__ import annotations

import logging
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aml_contract import schema
from aml_contract.pseudonym import pseudonymise
from aml_contract.reference import ReferenceData
from aml_contract.schema import Pii

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
DECIMAL_TYPE = pa.decimal128(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE)
UNKNOWN_CURRENCY = "unknown_value:currency"  # the Glue job's reason for an enum or reference miss


class Curated(dict[str, pd.DataFrame]):
    """Curated frames by table, with what curation refused and how amount_base was obtained."""

    def __init__(self, frames: dict[str, pd.DataFrame], quarantined: dict[str, Counter],
                 amount_base: Counter) -> None:
        super().__init__(frames)
        self.quarantined = quarantined  # table -> reason -> rows refused
        self.amount_base = amount_base  # "source" | "derived" | "unknown" -> transactions curated


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
    return pd.to_datetime(values, utc=True)  # naive stamps are UTC; aware ones are converted to it


def _known_currency(frame: pd.DataFrame, ref: ReferenceData, table: str,
                    quarantined: dict[str, Counter]) -> pd.DataFrame:
    """The rows whose currency is a reference code; the others are counted as refused."""
    known = frame["currency"].isin(ref.currencies)
    refused = int((~known).sum())
    if refused:
        quarantined.setdefault(table, Counter())[UNKNOWN_CURRENCY] += refused
        log.warning("%s: %d row(s) refused (%s)", table, refused, UNKNOWN_CURRENCY)
    return frame[known]


def _amount_base(tx: pd.DataFrame, ref: ReferenceData) -> tuple[list[Decimal | None], Counter]:
    """amount_base of every row by ReferenceData.amount_base, and how each was obtained."""
    values, how = [], Counter()
    for amount, currency, booked_at, source in zip(tx["amount"], tx["currency"], tx["booked_at"],
                                                   tx["amount_base"], strict=True):
        given = _cents(source)
        value = ref.amount_base(_cents(amount), currency, booked_at.date(), given)
        how["source" if given is not None else "derived" if value is not None else "unknown"] += 1
        values.append(value)
    if how["unknown"]:
        log.warning("transactions: %d row(s) curated with no amount_base (no FX rate on the booking day)",
                    how["unknown"])
    return values, how


def curate(customers: pd.DataFrame, accounts: pd.DataFrame, transactions: pd.DataFrame,
           key: bytes, reference: ReferenceData | None = None) -> Curated:
    """Curated frames (columns in contract order) for customers, accounts and transactions."""
    if reference is None:
        from aml.reference import build

        reference = build.in_memory()
    quarantined: dict[str, Counter] = {}
    accounts = _known_currency(accounts, reference, "accounts", quarantined)
    owner = dict(zip(accounts["account_id"], accounts["customer_id"], strict=True))
    tx = _known_currency(transactions, reference, "transactions", quarantined).copy()
    tx["booked_at"] = _utc(tx["booked_at"])
    tx["amount_base"], how = _amount_base(tx, reference)
    curated_tx = _apply_pii(tx, schema.TRANSACTIONS, key)
    for side in ("originator", "beneficiary"):
        customer_ids = tx[f"{side}_account_id"].map(owner)
        curated_tx[f"{side}_customer_pid"] = customer_ids.map(
            lambda v: pseudonymise(v, key) if pd.notna(v) else None)
    curated_tx[schema.DMS_COMMIT_TS_COLUMN] = _utc(tx["updated_at"])
    curated_tx["amount"] = curated_tx["amount"].map(_cents)  # exact cents, as the Glue job writes them
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
    return Curated(out, quarantined, how)


def write(frames: dict[str, pd.DataFrame], data_dir: str | Path) -> Path:
    """The data-dir layout: <table>/ (partitioned tables as <table>/dt=YYYY-MM-DD/*.parquet), and
    the reference datasets under reference/ (as the curated bucket holds them)."""
    from aml.reference import publish

    root = Path(data_dir)
    publish.to_directory(root)
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


def curate_bank(bank, key: bytes, reference: ReferenceData | None = None) -> Curated:
    """Curated frames of a generated `aml.generate` Bank (its labels are left out: they only score)."""
    return curate(bank.customers, bank.accounts, bank.transactions, key, reference)
