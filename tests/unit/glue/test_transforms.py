"""The job's pure steps on small DataFrames, beside the scenario tests that run the whole job:
the merge entry point (`cdc.merge`), the index lookup (`state.Index.entries_for`), the curated
form (`enrich`), the manifest's decision figures and the publication records."""
from __future__ import annotations

from datetime import timedelta

import pytest
from glue_dms_fixtures import T0, Bank
from pyspark.sql import functions as F
from pyspark.sql import types as T

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import ACCOUNTS, CASH_ACCOUNT_ID, CUSTOMERS, TRANSACTIONS
from glue_jobs.curation import cdc, enrich, state
from glue_jobs.curation.columns import (
    COMMIT_TS_COL,
    FILE_COL,
    FILE_RANK_COL,
    KEY_COL,
    KEY_HASH_COL,
    ORDER_COLS,
    ROW_COL,
    UNPARTITIONED,
    index_schema,
)
from glue_jobs.curation.publish import Publication, publish
from glue_jobs.curation.run_manifest import TableFigures
from glue_jobs.curation.storage import Storage


def h(hours: float):
    return T0 + timedelta(hours=hours)


def entry(key, hours, deleted, dt):
    return (key, 0, h(hours), 1, f"2024/03/01/{key}.parquet", 0, deleted, dt)


@pytest.fixture(scope="module")
def index(spark):
    return spark.createDataFrame([entry("K1", 1, False, "2024-03-01"), entry("K2", 1, True, "2024-03-02"),
                                  entry("K3", 1, False, "2024-03-03"), entry("K6", 1, False, "2024-03-03")],
                                 index_schema()).withColumn(KEY_HASH_COL, cdc.key_hash(F.col(KEY_COL)))


@pytest.fixture(scope="module")
def merged(spark, index):
    """Every decision once: stale, insert after a delete, superseded, delete_unknown,
    update_unknown (refused), update with a move between days, delete; one change with a copy."""
    changes = spark.createDataFrame([
        # key, Op, order..., latest, inserted, copies, dt, amount
        ("K1", "U", h(0), 1, "a", 0, True, False, 1, "2024-03-01", "1.00"),  # older than K1's entry: stale
        ("K2", "I", h(2), 1, "a", 1, True, True, 2, "2024-03-04", "2.00"),  # after its delete: insert
        ("K4", "D", h(2), 1, "a", 2, False, False, 1, None, None),  # superseded by the next
        ("K4", "D", h(3), 1, "a", 3, True, False, 1, None, None),  # never seen: a tombstone
        ("K5", "U", h(3), 1, "a", 4, True, False, 1, "2024-03-01", "5.00"),  # never seen: refused
        ("K3", "U", h(3), 1, "a", 5, True, False, 1, "2024-03-05", "3.00"),  # moves from 03-03 to 03-05
        ("K6", "D", h(3), 1, "a", 6, True, False, 1, None, None),  # a live key deleted
    ], [KEY_COL, "Op", *ORDER_COLS, cdc.LATEST_COL, cdc.INSERTED_COL, cdc.COPIES_COL, "dt", "amount"])
    return cdc.merge(changes, index, full_load_in=True, keep=lambda df: df.localCheckpoint(eager=True))


def test_merge_counts_every_change_once_by_decision(merged):
    assert merged.counts == {"stale": 1, "insert": 1, "superseded": 1, "delete_unknown": 1, "update_unknown": 1,
                             "update": 1, "delete": 1}
    assert merged.duplicates == 1  # K2's change stood for two raw rows
    assert merged.upserted == 2 and merged.refused_count == 1


def test_merge_touches_the_partitions_keys_leave_or_enter(merged):
    # K2 enters 03-04 (its tombstone sat in 03-02), K3 leaves 03-03 for 03-05, K6 is deleted in 03-03,
    # K4's tombstone goes to the unknown partition; K1 (stale) and K5 (refused) touch nothing.
    assert merged.touched == ["2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05", "none"]
    assert merged.row_partitions == ["2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05"]
    assert sorted(r[KEY_COL] for r in merged.applied.collect()) == ["K2", "K3", "K4", "K6"]
    assert [(r[KEY_COL], r[ROW_COL]) for r in merged.refused.collect()] == [("K5", 4)]


def test_merge_gives_the_touched_partitions_rows_and_index_entries(spark, merged, index):
    schema = T.StructType([T.StructField("id", T.StringType()), T.StructField("amount", T.StringType()),
                           T.StructField("dt", T.StringType())])
    old_rows = spark.createDataFrame([("K1", "0.10", "2024-03-01"), ("K3", "0.30", "2024-03-03"),
                                      ("K6", "0.60", "2024-03-03"), ("K7", "0.70", "2024-03-03")], schema)
    changes = merged.decided.withColumn("id", F.col(KEY_COL))  # the curated key column of these rows
    with_ids = cdc.Merge(changes, cdc.applied_changes(changes), merged.counts, merged.duplicates, merged.touched)
    rows = sorted(tuple(r) for r in with_ids.rows(old_rows, "id", partitioned=True).collect())
    # 03-01 is untouched (not read); K3 moved out of 03-03 and K6 was deleted; K7 stays.
    assert rows == [("K2", "2.00", "2024-03-04"), ("K3", "3.00", "2024-03-05"), ("K7", "0.70", "2024-03-03")]
    touched_entries = index.filter(F.col("dt").isin(*merged.touched))
    entries = {r[KEY_COL]: (r["dt"], r["_deleted"]) for r in merged.index(touched_entries).collect()}
    assert entries == {"K2": ("2024-03-04", False), "K3": ("2024-03-05", False), "K4": ("none", True),
                       "K6": ("2024-03-03", True)}


def test_index_entries_for_reads_only_the_partitions_holding_the_keys(spark, tmp_path, index, monkeypatch):
    layout = state.Layout(str(tmp_path / "curated"), str(tmp_path / "quarantine"), "run")
    index.write.partitionBy("dt").parquet(layout.index("transactions"))
    seen: list[tuple[str, str]] = []
    lookup = state.Index(spark, Storage(spark, lambda kind, path: seen.append((kind, path))), layout, "transactions")
    keys = spark.createDataFrame([("K1",), ("K2",), ("K9",)], [KEY_COL])
    assert lookup.exists()
    found = lookup.entries_for(keys, at_most=3)
    assert sorted((r[KEY_COL], r["dt"]) for r in found.collect()) == [("K1", "2024-03-01"), ("K2", "2024-03-02")]
    read = [path.rsplit("/", 1)[-1] for kind, path in seen if kind == "spark_read"]
    assert read == ["transactions", "dt=2024-03-01", "dt=2024-03-02"]  # the hash scan, then two partitions
    monkeypatch.setattr(state, "BROADCAST_KEYS_MAX", 2)
    assert lookup.entries_for(keys, at_most=3).count() == 4  # too many keys: the whole index


def test_protect_and_partition_give_the_curated_form(spark, pkey):
    bank = Bank(seed=2)
    customer = {**bank.customer("C1"), "Op": "I", COMMIT_TS_COL: h(0), FILE_COL: "LOAD1.parquet", ROW_COL: 0,
                FILE_RANK_COL: 0, cdc.COPIES_COL: 1, cdc.LATEST_COL: True, cdc.INSERTED_COL: True}
    columns = [*CUSTOMERS.column_names, *enrich.CHANGE_COLS]
    frame = spark.createDataFrame([tuple(customer[c] for c in columns)], columns)
    [row] = enrich.curated_changes(frame, CUSTOMERS, pkey).collect()
    assert row[KEY_COL] == row["customer_pid"] == pseudonymise("C1", pkey)
    assert row["birth_year"] == customer["date_of_birth"].year and row["dt"] == UNPARTITIONED
    assert not {"full_name", "email", "customer_id", "date_of_birth"} & set(row.asDict())
    assert all(row[c] == customer[c] for c in enrich.CHANGE_COLS if c != COMMIT_TS_COL)
    with pytest.raises(ValueError):
        enrich.curated_changes(frame, TRANSACTIONS, pkey)


def test_customer_pseudonyms_come_from_the_accounts_except_cash_and_external(spark, pkey):
    def pid(value):
        return pseudonymise(value, pkey)

    accounts = spark.createDataFrame([(pid("A1"), pid("C1")), (pid(CASH_ACCOUNT_ID), pid("C-bank"))],
                                     ["account_pid", "customer_pid"])
    transactions = spark.createDataFrame([("T1", pid("A1"), pid("EXT-1")), ("T2", pid(CASH_ACCOUNT_ID), pid("A1"))],
                                         ["transaction_id", "originator_account_pid", "beneficiary_account_pid"])
    rows = {r.transaction_id: (r.originator_customer_pid, r.beneficiary_customer_pid)
            for r in enrich.with_customer_pids(transactions, accounts, pkey).collect()}
    assert rows == {"T1": (pid("C1"), None), "T2": (None, pid("C1"))}
    stamped = spark.createDataFrame([(h(30),)], ["booked_at"])
    assert enrich.with_partition(stamped, TRANSACTIONS).first()["dt"] == "2024-03-02"
    assert enrich.with_partition(stamped, ACCOUNTS).first()["dt"] == UNPARTITIONED


def test_decisions_land_in_the_manifest_figures():
    fig = TableFigures()
    fig.record_decisions({"insert": 3, "update": 1, "delete_unknown": 2, "update_unknown": 4, "stale": 1}, 5)
    assert (fig.inserted, fig.updated, fig.deletes_of_unknown_keys, fig.stale, fig.duplicates_collapsed) == \
        (3, 1, 2, 1, 5)
    assert fig.quarantined == {}  # a refused change is counted where it is quarantined


def test_a_publication_replaces_its_partitions_or_its_folder(spark, tmp_path):
    for folder in ("staged/dt=1", "target/dt=1", "target/dt=2", "target/dt=3", "whole/x"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "part.parquet").write_text(folder)
    storage = Storage(spark)
    partitions = Publication(str(tmp_path / "staged"), str(tmp_path / "target"), ("1", "2"))
    assert partitions.as_dict()["partitions"] == ["1", "2"]
    publish(storage, partitions)
    assert (tmp_path / "target/dt=1/part.parquet").read_text() == "staged/dt=1"
    assert not (tmp_path / "target/dt=2").exists() and (tmp_path / "target/dt=3").exists()  # left empty: removed
    publish(storage, Publication(str(tmp_path / "whole"), str(tmp_path / "target")))
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["x"]
