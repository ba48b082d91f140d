"""History the way DMS writes it: changes committed while a table loads (under either full-load
stamping), and primary keys that change. Field cases: ../shared/cases/change-during-full-load and
../shared/cases/primary-key-change (copied under cases/)."""
from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import T0, Bank, change, delete, make_zones

from aml_contract.pseudonym import key_from_env, pseudonymise

CASES = Path(__file__).parent / "cases"


def _zones_from_case(tmp_path, case: str):
    zones = make_zones(tmp_path)
    shutil.copytree(CASES / case, zones.raw.root)
    return zones


CASE_CLOCK = datetime(2025, 3, 10, tzinfo=UTC)  # the cases' data is of March 2025


def _curated(spark, zones, table: str) -> dict:
    rows = spark.read.parquet(str(zones.curated / table)).collect()
    key = {"transactions": "transaction_id", "accounts": "account_pid", "customers": "customer_pid"}[table]
    return {getattr(r, key): r for r in rows}


def _quarantine(zones, table: str) -> list[dict]:
    folder = zones.quarantine / table
    return pq.read_table(folder).to_pylist() if folder.exists() else []


def test_field_case_a_reversal_committed_during_the_load_wins(spark, tmp_path):
    zones = _zones_from_case(tmp_path, "change_during_full_load")
    zones.run(spark, CASE_CLOCK)
    assert _curated(spark, zones, "transactions")["T1"].status == "reversed"


@pytest.mark.parametrize("stamping", ["task-start", "transfer"])
def test_an_update_and_a_delete_committed_during_the_load(spark, tmp_path, stamping):
    """The task starts at 10:00; transactions transfer at 10:05 while T1 is reversed at 10:02 and
    T2 deleted at 10:03 (DMS caches both and applies them after the load)."""
    bank, zones = Bank(seed=11), make_zones(tmp_path)
    start, transferred = T0, T0 + timedelta(minutes=5)
    stamp = start if stamping == "task-start" else transferred
    zones.raw.load("customers", [change(bank.customer("C1"), "I", start)])
    zones.raw.load("accounts", [change(bank.account("A1", "C1"), "I", start)])
    t1, t2 = bank.transaction("T1", T0 - timedelta(days=1), "A1", "EXT"), bank.transaction(
        "T2", T0 - timedelta(days=1), "A1", "EXT")
    zones.raw.load("transactions", [change(t1, "I", stamp), change(t2, "I", stamp)])
    zones.raw.cdc("transactions", [change({**t1, "status": "reversed"}, "U", start + timedelta(minutes=2)),
                                   delete("transactions", "T2", start + timedelta(minutes=3))],
                  "2024/03/01", "20240301-090200")
    manifest = zones.run(spark)["tables"]["transactions"]
    curated = _curated(spark, zones, "transactions")
    assert list(curated) == ["T1"] and curated["T1"].status == "reversed"
    # One batch: the loaded copies are superseded by the cached changes.
    assert manifest["superseded"] == 2 and manifest["inserted"] == 1 and manifest["deletes_of_unknown_keys"] == 1


def test_field_case_a_rekeyed_deposit_counts_once(spark, tmp_path):
    """DMS wrote the key change as a U under the new key: refused and quarantined, never a
    second deposit; structuring (which needs two) and large cash (over 10,000) stay silent."""
    from aml.query.run import execute

    zones = _zones_from_case(tmp_path, "primary_key_change")
    manifest = zones.run(spark, CASE_CLOCK)["tables"]["transactions"]
    curated = _curated(spark, zones, "transactions")
    assert list(curated) == ["T1"] and curated["T1"].amount == Decimal("9500.00")
    assert manifest["quarantined"] == {"update_of_unknown_key": 1}
    [refused] = _quarantine(zones, "transactions")
    assert refused["transaction_id"] == "T1-FIXED" and refused["quarantine_reason"] == "update_of_unknown_key"
    assert refused["Op"] == "U" and refused["dms_commit_ts"].startswith("2025-03-02 10:00:00")
    window = {"start_date": "2025-03-01", "end_date": "2025-03-03"}
    for scenario in ("structuring", "large_cash"):
        assert execute(scenario, window, data_dir=zones.curated).rows == 0, scenario


@pytest.mark.parametrize("table", ["accounts", "customers"])
def test_a_rekeyed_account_or_customer_is_refused_and_history_stays_internal(spark, tmp_path, table):
    bank, zones = Bank(seed=12), make_zones(tmp_path)
    customer, account = bank.customer("C1"), bank.account("A1", "C1")
    zones.raw.load("customers", [change(customer, "I", T0)])
    zones.raw.load("accounts", [change(account, "I", T0)])
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "EXT"), "I", T0)])
    zones.run(spark)
    rekeyed = {**customer, "customer_id": "C1-NEW"} if table == "customers" else {**account, "account_id": "A1-NEW"}
    zones.raw.cdc(table, [change(rekeyed, "U", T0 + timedelta(hours=1))], "2024/03/01", "20240301-1000")
    manifest = zones.run(spark)["tables"][table]
    assert manifest["quarantined"] == {"update_of_unknown_key": 1} and manifest["inserted"] == 0
    key = key_from_env()
    old = pseudonymise("C1" if table == "customers" else "A1", key)
    assert list(_curated(spark, zones, table)) == [old]
    # The account keeps its history: its transactions still name its customer (not external).
    tx = _curated(spark, zones, "transactions")["T1"]
    assert tx.originator_customer_pid == pseudonymise("C1", key)


def test_before_the_full_load_is_in_an_update_is_applied_as_it_comes(spark, tmp_path):
    """With no LOAD file of the table read yet (a CDC-only start), nothing can be judged."""
    bank, zones = Bank(seed=13), make_zones(tmp_path)
    row = bank.transaction("T9", T0, "A1", "EXT")
    zones.raw.cdc("transactions", [change(row, "U", T0)], "2024/03/01", "20240301-1000")
    manifest = zones.run(spark)["tables"]["transactions"]
    assert manifest["inserted"] == 1 and manifest["quarantined"] == {}
