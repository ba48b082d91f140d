"""A full load plus a day of CDC: the curated zone holds no PII, pseudonyms join across the
three tables, the manifest reconciles, and a rerun over the same input changes nothing."""
from __future__ import annotations

import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import T0, Bank, change, make_zones

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import CASH_ACCOUNT_ID, CURATED_TABLES, SOURCE_TABLES, Pii


def snapshot(root):
    """Every file under the curated tables with its bytes: what a rerun must leave unchanged."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))
            if not p.relative_to(root).parts[0].startswith("_")}


@pytest.fixture(scope="module")
def baseline(spark, tmp_path_factory):
    bank, zones = Bank(seed=11), make_zones(tmp_path_factory.mktemp("baseline"))
    customers = [bank.customer(f"C{i:04d}") for i in range(1, 4)]
    accounts = [bank.account("A0001", "C0001"), bank.account("A0002", "C0002"), bank.account("A0003", "C0003")]
    transactions = [
        bank.transaction("T0001", T0, "A0001", "A0002"),
        bank.transaction("T0002", T0 + timedelta(hours=1), "A0002", "EXT-GB-998877"),
        bank.transaction("T0003", T0 + timedelta(days=1), CASH_ACCOUNT_ID, "A0003", amount="9500.00",
                         transaction_type="cash_deposit", channel="branch"),
    ]
    zones.raw.load("customers", [change(r, "I", T0) for r in customers])
    zones.raw.load("accounts", [change(r, "I", T0) for r in accounts])
    zones.raw.load("transactions", [change(r, "I", T0) for r in transactions[:2]])
    zones.raw.cdc("transactions", [change(transactions[2], "I", T0 + timedelta(days=1))], "2024/03/02", "20240302-0900")
    first = zones.run(spark)
    before = snapshot(zones.curated)
    second = zones.run(spark)
    return {"zones": zones, "rows": {"customers": customers, "accounts": accounts, "transactions": transactions},
            "first": first, "second": second, "before": before, "after": snapshot(zones.curated)}


def test_no_pii_value_or_column_in_any_curated_file(baseline):
    zones, rows = baseline["zones"], baseline["rows"]
    raw_values = {str(r[c.name]) for t in SOURCE_TABLES.values() for r in rows[t.name] for c in t.columns
                  if c.pii is not Pii.NONE and r.get(c.name) is not None and c.name != "date_of_birth"}
    raw_values |= {r["date_of_birth"].isoformat() for r in rows["customers"]}
    pii_columns = {c.name for t in SOURCE_TABLES.values() for c in t.columns if c.pii is not Pii.NONE}
    files = [p for p in zones.curated.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        data = path.read_bytes()
        found = [v for v in raw_values if v.encode() in data]
        assert not found, f"{path} holds raw PII {found}"
        if path.suffix == ".parquet":
            assert not pii_columns & set(pq.read_schema(path).names), path


def test_curated_tables_have_exactly_the_contract_columns(baseline):
    curated = baseline["zones"].curated
    for table, columns in CURATED_TABLES.items():
        if table == "alerts":
            continue
        names = [n for n, _ in columns]
        files = sorted((curated / table).rglob("*.parquet"))
        assert files, table
        assert [pq.read_schema(f).names for f in files] == [names] * len(files)
    assert sorted(p.name for p in (curated / "transactions").iterdir() if p.is_dir()) == \
        ["dt=2024-03-01", "dt=2024-03-02"]


def test_pseudonyms_join_across_tables_and_equal_the_contract_function(spark, baseline, pkey):
    curated = str(baseline["zones"].curated)
    for table in ("transactions", "accounts", "customers"):
        spark.read.parquet(f"{curated}/{table}").createOrReplaceTempView(f"c_{table}")
    joined = spark.sql("""
        SELECT t.transaction_id, t.originator_customer_pid, t.beneficiary_customer_pid,
               o.customer_pid AS originator_owner, co.risk_rating
        FROM c_transactions t
        LEFT JOIN c_accounts o ON o.account_pid = t.originator_account_pid
        LEFT JOIN c_customers co ON co.customer_pid = o.customer_pid
        ORDER BY t.transaction_id""").collect()
    by_id = {r.transaction_id: r for r in joined}
    assert by_id["T0001"].originator_customer_pid == pseudonymise("C0001", pkey) == by_id["T0001"].originator_owner
    assert by_id["T0001"].beneficiary_customer_pid == pseudonymise("C0002", pkey)
    assert by_id["T0001"].risk_rating == "low"
    assert by_id["T0002"].beneficiary_customer_pid is None  # external account
    assert by_id["T0003"].originator_customer_pid is None  # cash
    assert by_id["T0003"].beneficiary_customer_pid == pseudonymise("C0003", pkey)


def test_manifest_counts_reconcile_and_are_stored(baseline):
    manifest, zones = baseline["first"], baseline["zones"]
    tx = manifest["tables"]["transactions"]
    assert manifest["reconciled"] is True
    assert tx["rows_read"] == {"I": 3} and tx["inserted"] == 3 and tx["rows_written"] == 3
    assert tx["partitions_touched"] == ["2024-03-01", "2024-03-02"]
    assert tx["files_written"] == 2 and tx["files_read"] == 2
    assert manifest["tables"]["customers"]["inserted"] == 3
    stored = json.loads((zones.curated / "_job_state" / "runs" / f"{manifest['run_id']}.json").read_text())
    assert stored == manifest


def test_rerun_over_the_same_input_changes_nothing(baseline):
    assert baseline["after"] == baseline["before"]
    second = baseline["second"]["tables"]
    assert all(t["rows_read_total"] == 0 and t["rows_written"] == 0 for t in second.values())
