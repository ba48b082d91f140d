"""The pandas curation (`aml.query.curate`, which builds curated data dirs for the query tests and
the benchmark without Spark) against the Glue job on one small bank: the same rows and values in
every table it produces, so scenario tests over it test what the job publishes."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import T0, Bank, change, make_zones

from aml.query import curate
from aml_contract.schema import CASH_ACCOUNT_ID, CURATED_TABLES, PARTITION_COLUMN, SOURCE_TABLES

KEYS = {"customers": "customer_pid", "accounts": "account_pid", "transactions": "transaction_id"}


def small_bank() -> dict[str, list[dict]]:
    """Customers with several accounts, own, external and cash counterparties, three days, a
    transaction without device, amounts with cents."""
    bank = Bank(seed=13)
    customers = [bank.customer(f"C{i}", risk_rating=["low", "medium", "high"][i % 3], is_pep=i == 2,
                               customer_type="business" if i == 4 else "individual") for i in range(1, 6)]
    accounts = [bank.account(f"A{i}", f"C{i}") for i in range(1, 6)]
    accounts.append(bank.account("A6", "C1", account_type="savings", status="dormant"))
    counterparties = ["A2", "EXT-GB-1", CASH_ACCOUNT_ID, "A6", "A5", "EXT-US-7"]
    transactions = []
    for i in range(18):
        source = f"A{1 + i % 6}"
        target = counterparties[i % len(counterparties)]
        kind = {"EXT-GB-1": "wire", CASH_ACCOUNT_ID: "cash_deposit"}.get(target, "ach")
        transactions.append(bank.transaction(
            f"T{i:03d}", T0 + timedelta(hours=5 * i + 0.25), target if kind == "cash_deposit" else source,
            source if kind == "cash_deposit" else target, amount=f"{(i + 1) * 731}.{i:02d}",
            transaction_type=kind, channel="branch" if kind == "cash_deposit" else "online",
            **({"device_id": None} if i % 5 == 0 else {})))
    return {"customers": customers, "accounts": accounts, "transactions": transactions}


def value(v):
    """One comparable form of a cell as Arrow (the job's files) or pandas gives it."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp | datetime):
        stamp = pd.Timestamp(v)
        return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    if isinstance(v, Decimal):
        return v
    return v.item() if hasattr(v, "item") else v


def rows_by_key(records: list[dict], table: str) -> dict:
    return {r[KEYS[table]]: {k: value(v) for k, v in r.items()} for r in records}


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory, pkey):
    rows, zones = small_bank(), make_zones(tmp_path_factory.mktemp("parity"))
    for table in ("customers", "accounts"):
        zones.raw.load(table, [change(r, "I", T0) for r in rows[table]])
    # Transactions arrive as CDC inserts committed at their update time: the pandas curation takes
    # dms_commit_ts from updated_at (a full-load row's would be the load's start).
    for day in sorted({r["booked_at"].date() for r in rows["transactions"]}):
        zones.raw.cdc("transactions", [change(r, "I", r["updated_at"]) for r in rows["transactions"]
                                       if r["booked_at"].date() == day], f"{day:%Y/%m/%d}", f"{day:%Y%m%d}-2359")
    manifest = zones.run(spark)
    glue = {table: pq.read_table(zones.curated / table).to_pylist() for table in KEYS}
    source = {table: pd.DataFrame(rows[table], columns=SOURCE_TABLES[table].column_names) for table in KEYS}
    frames = curate.curate(source["customers"], source["accounts"], source["transactions"], pkey)
    return {"glue": glue, "pandas": {t: f.to_dict("records") for t, f in frames.items()}, "manifest": manifest,
            "zones": zones}


@pytest.mark.parametrize("table", list(KEYS))
def test_the_pandas_curation_gives_the_jobs_rows_and_values(both, table):
    glue, pandas = rows_by_key(both["glue"][table], table), rows_by_key(both["pandas"][table], table)
    columns = [c for c, _ in CURATED_TABLES[table]] + ([PARTITION_COLUMN] if table == "transactions" else [])
    assert sorted(pandas) == sorted(glue) and len(glue) == {"customers": 5, "accounts": 6, "transactions": 18}[table]
    assert all(sorted(r) == sorted(columns) for r in (*glue.values(), *pandas.values()))
    differences = {(key, c): (glue[key][c], pandas[key][c]) for key in glue for c in columns
                   if glue[key][c] != pandas[key][c]}
    assert differences == {}


def test_the_bank_exercises_the_lookups_the_two_implement(both):
    transactions = both["glue"]["transactions"]
    assert any(r["beneficiary_customer_pid"] is None for r in transactions)  # external
    assert any(r["originator_customer_pid"] is None for r in transactions)  # cash
    assert any(r["device_pid"] is None for r in transactions)
    assert len({r[PARTITION_COLUMN] for r in transactions}) >= 3


def test_the_manifest_logs_what_the_run_published(both):
    published, curated = both["manifest"]["published"], str(both["zones"].curated)
    targets = [p["target"] for p in published]
    assert f"{curated}/transactions" in targets and f"{curated}/customers" in targets
    rows = next(p for p in published if p["target"] == f"{curated}/transactions")
    assert rows["partitions"] == both["manifest"]["tables"]["transactions"]["partitions_touched"]
    assert next(p for p in published if p["target"] == f"{curated}/accounts")["partitions"] is None
