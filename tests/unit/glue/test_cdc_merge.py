"""CDC merge against the current curated state: sequences within a run, late and out-of-order
files in a later run, duplicates, moves between days, deletes of unknown keys."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from glue_dms_fixtures import T0, Bank, change, delete, make_zones


def curated_transactions(spark, zones) -> dict[str, tuple]:
    rows = spark.read.parquet(str(zones.curated / "transactions")).collect()
    return {r.transaction_id: (str(r.dt), r.amount, r.status) for r in rows}


def partition_files(zones) -> dict[str, bytes]:
    root = zones.curated / "transactions"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.parquet")}


def h(hours: float):
    return T0 + timedelta(hours=hours)


@pytest.fixture(scope="module")
def scenario(spark, tmp_path_factory):
    bank, zones = Bank(seed=3), make_zones(tmp_path_factory.mktemp("cdc"))
    zones.raw.load("customers", [change(bank.customer("C1"), "I", T0)])
    zones.raw.load("accounts", [change(bank.account("A1", "C1"), "I", T0)])
    t = {k: bank.transaction(k, day, "A1", "EXT-1") for k, day in
         [("T1", h(0)), ("T2", h(1)), ("T3", h(24)), ("T4", h(48)), ("T5", h(50)), ("T6", h(51)), ("T7", h(52)),
          ("T99", h(2))]}
    zones.raw.load("transactions", [change(t[k], "I", T0) for k in ("T1", "T2", "T3", "T4")])
    t6 = change(t["T6"], "I", h(60))
    zones.raw.cdc("transactions", [
        change({**t["T1"], "amount": Decimal("2000.00")}, "U", h(61)),
        change({**t["T1"], "amount": Decimal("3000.00")}, "U", h(62)),  # the latest update wins
        change({**t["T2"], "booked_at": h(72)}, "U", h(61)),  # moves from 03-01 to 03-04
        delete("transactions", "T3", h(61)),
        change(t["T5"], "I", h(61)), change({**t["T5"], "status": "reversed"}, "U", h(62)),
        delete("transactions", "T5", h(63)),  # inserted, updated and deleted in one batch
        t6,
        delete("transactions", "T99", h(64)),  # never seen: kept as a tombstone
        change(t["T7"], "I", h(65)), change({**t["T7"], "status": "reversed"}, "U", h(65)),  # tie: file order
    ], "2024/03/03", "20240303-1000")
    zones.raw.cdc("transactions", [t6], "2024/03/03", "20240303-1001")  # a DMS retry: exact duplicate
    first = zones.run(spark)
    state_1, files_1 = curated_transactions(spark, zones), partition_files(zones)
    # Late file, named and committed before what run 1 applied: older changes must not win.
    zones.raw.cdc("transactions", [
        change({**t["T1"], "amount": Decimal("1500.00")}, "U", h(30)),
        change(t["T99"], "I", h(40)),
        change({**t["T4"], "status": "reversed"}, "U", h(66)),
        delete("transactions", "T6", h(66)),
    ], "2024/03/02", "20240302-0800")
    second = zones.run(spark)
    return {"first": first, "second": second, "state_1": state_1, "files_1": files_1,
            "state_2": curated_transactions(spark, zones), "files_2": partition_files(zones)}


def test_first_run_applies_the_latest_change_per_key(scenario):
    state = scenario["state_1"]
    assert state["T1"] == ("2024-03-01", Decimal("3000.00"), "booked")
    assert state["T2"][0] == "2024-03-04"  # moved between days, gone from 03-01
    assert "T3" not in state and "T5" not in state and "T99" not in state
    assert state["T6"][0] == "2024-03-03"
    assert state["T7"][2] == "reversed"  # same commit time: the later row in the file wins
    assert sorted(state) == ["T1", "T2", "T4", "T6", "T7"]


def test_first_run_manifest_accounts_for_every_row(scenario):
    tx = scenario["first"]["tables"]["transactions"]
    assert tx["rows_read"] == {"I": 8, "U": 5, "D": 3}
    assert tx["duplicates_collapsed"] == 1
    assert tx["superseded"] == 7  # T1 x2 (load, 1st update), T2 and T3 loads, T5 x2, T7 insert
    assert tx["deleted"] == 0  # T3 was loaded and deleted in the same run: superseded, never live
    assert tx["deletes_of_unknown_keys"] == 3  # T3, T5, T99 end as tombstones
    assert tx["inserted"] == 5 and tx["updated"] == 0
    assert tx["rows_written"] == tx["live_keys_after"] == 5


def test_late_older_changes_are_stale_and_newer_ones_apply(scenario):
    state, tx = scenario["state_2"], scenario["second"]["tables"]["transactions"]
    assert state["T1"][1] == Decimal("3000.00")  # the 1500 update is older than the applied 3000
    assert "T99" not in state  # an insert older than its delete does not resurrect it
    assert state["T4"][2] == "reversed"
    assert "T6" not in state
    assert tx["stale"] == 2 and tx["updated"] == 1 and tx["deleted"] == 1
    assert tx["live_keys_before"] == 3 and tx["live_keys_after"] == tx["rows_written"] == 2  # T4, T6, T7
    assert tx["partitions_touched"] == ["2024-03-03"]


def test_second_run_rewrites_only_the_partitions_it_touched(scenario):
    before, after = scenario["files_1"], scenario["files_2"]
    untouched = {k: v for k, v in before.items() if not k.startswith("dt=2024-03-03/")}
    assert untouched and all(after[k] == v for k, v in untouched.items())
    assert [k for k in after if k.startswith("dt=2024-03-03/")] != [k for k in before if k.startswith("dt=2024-03-03/")]


@pytest.mark.parametrize("lookup", ["batch keys", "whole index"])
def test_out_of_order_files_give_the_same_state_as_in_order(spark, tmp_path, bank, monkeypatch, lookup):
    if lookup == "whole index":  # as a batch too large to broadcast its keys is merged
        monkeypatch.setattr("glue_jobs.curation.state.BROADCAST_KEYS_MAX", 0)
    rows = [bank.transaction("T1", h(0), "A1", "EXT-1"), bank.transaction("T2", h(1), "A1", "EXT-2")]
    updates = [change({**rows[0], "booked_at": h(30), "amount": Decimal("77.00")}, "U", h(40)),
               delete("transactions", "T2", h(41))]
    in_order, reversed_order = make_zones(tmp_path / "in"), make_zones(tmp_path / "rev")
    in_order.raw.load("transactions", [change(r, "I", T0) for r in rows])
    in_order.raw.cdc("transactions", updates, "2024/03/02", "20240302-1000")
    in_order.run(spark)
    reversed_order.raw.cdc("transactions", updates, "2024/03/02", "20240302-1000")
    reversed_order.run(spark)
    reversed_order.raw.load("transactions", [change(r, "I", T0) for r in rows])
    late = reversed_order.run(spark)["tables"]["transactions"]
    assert late["stale"] == 2 and late["rows_written"] == 0
    assert curated_transactions(spark, reversed_order) == curated_transactions(spark, in_order) == \
        {"T1": ("2024-03-02", Decimal("77.00"), "booked")}


def test_a_batch_looks_up_only_the_index_partitions_holding_its_keys(spark):
    from pyspark.sql import functions as F

    from glue_jobs.curation import cdc, state
    from glue_jobs.curation.columns import KEY_COL, KEY_HASH_COL, ORDER_COLS, index_schema

    def entry(key, hours, deleted, dt):
        return (key, 0, h(hours), 1, f"2024/03/01/{key}.parquet", 0, deleted, dt)

    index = spark.createDataFrame([entry("K1", 1, False, "2024-03-01"), entry("K2", 1, True, "2024-03-02"),
                                   entry("K3", 1, False, "2024-03-03")], index_schema()) \
        .withColumn(KEY_HASH_COL, cdc.key_hash(F.col(KEY_COL)))
    changes = spark.createDataFrame([
        ("K1", "U", h(0), 1, "a", 0, True, False, "2024-03-01"),  # older than K1's entry: stale
        ("K2", "I", h(2), 1, "a", 1, True, True, "2024-03-04"),  # after its delete: an insert
        ("K4", "D", h(2), 1, "a", 2, False, False, None),  # superseded by the next
        ("K4", "D", h(3), 1, "a", 3, True, False, None),  # never seen: a tombstone
        ("K5", "U", h(3), 1, "a", 4, True, False, "2024-03-01"),  # never seen: a key change, refused
    ], [KEY_COL, "Op", *ORDER_COLS, cdc.LATEST_COL, cdc.INSERTED_COL, "dt"])
    keys = cdc.batch_keys(changes)
    assert sorted(r.dt for r in state.partitions_of_keys(index, keys).collect()) == ["2024-03-01", "2024-03-02"]
    looked_up = state.entries_of_keys(index.filter(F.col("dt") != "2024-03-03"), keys)
    assert sorted(r[KEY_COL] for r in looked_up.collect()) == ["K1", "K2"]

    def decisions(current):
        return sorted((r[KEY_COL], r[ORDER_COLS[-1]], r[cdc.DECISION_COL], r[cdc.TARGET_PARTITION_COL])
                      for r in cdc.decide(changes, current).collect())

    assert decisions(looked_up) == decisions(index) == [
        ("K1", 0, "stale", "2024-03-01"), ("K2", 1, "insert", "2024-03-04"),
        ("K4", 2, "superseded", "none"), ("K4", 3, "delete_unknown", "none"),
        ("K5", 4, "update_unknown", "2024-03-01")]
