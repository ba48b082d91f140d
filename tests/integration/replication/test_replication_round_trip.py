"""Full load + CDC: inserts, updates and deletes in PostgreSQL arrive in the DMS S3 layout with
the right Op, commit timestamps and types, and on the stream as DMS envelopes."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest
from replication_helpers import raw_files, sql, stream_records

from aml.replicate import Replicator
from aml.replicate.replicator import STREAM_TASK_ID
from aml_contract import dms, schema

pytestmark = pytest.mark.integration

TX_COLUMNS = "(transaction_id, booked_at, originator_account_id, beneficiary_account_id, amount, currency, " \
             "amount_base, transaction_type, channel, status)"


def _tx(tid: str, originator: str, amount: str) -> str:
    return (f"INSERT INTO core.transactions {TX_COLUMNS} VALUES ('{tid}', '2024-05-01 10:00:00.123456+00', "
            f"'{originator}', 'B9', {amount}, 'USD', {amount}, 'wire', 'online', 'booked')")


def _commit_ts(text: str) -> datetime:
    return datetime.strptime(text, dms.COMMIT_TS_FORMAT).replace(tzinfo=UTC)


def test_full_load_then_cdc_round_trip(source_db, resources, slot_name):
    sql(source_db,
        "INSERT INTO core.customers (customer_id, full_name, is_pep, date_of_birth, onboarded_at) "
        "VALUES ('c1', 'Ann O''Neil', false, '1980-02-03', '2020-01-01 00:00:00+00')",
        "INSERT INTO core.accounts (account_id, customer_id, status) VALUES ('A1', 'c1', 'active')",
        _tx("t1", "A1", "100.10"), _tx("t2", "A1", "200.20"))
    rep = Replicator(source_db, resources, slot_name=slot_name)
    loaded_after = datetime.now(UTC)
    assert rep.full_load() == {"customers": 1, "accounts": 1, "transactions": 2}

    load = raw_files(resources.raw_bucket, "transactions")
    assert list(load) == ["dms/core/transactions/LOAD00000001.parquet"]
    table = load["dms/core/transactions/LOAD00000001.parquet"]
    assert table.column_names == ["Op", "dms_commit_ts", *schema.TRANSACTIONS.column_names]
    assert table.schema.field("amount").type == pa.decimal128(18, 2)
    # As DMS writes them (aml_contract.dms): DATETIME in ms, the commit timestamp as a string.
    assert table.schema.field("booked_at").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("dms_commit_ts").type == pa.string()
    assert set(table.column("Op").to_pylist()) == {"I"}
    assert min(map(_commit_ts, table.column("dms_commit_ts").to_pylist())) >= loaded_after - timedelta(seconds=1)
    customers = raw_files(resources.raw_bucket, "customers")["dms/core/customers/LOAD00000001.parquet"]
    # UseTaskStartTimeForFullLoadTimestamp: every loaded row of every table carries the task start.
    assert set(customers.column("dms_commit_ts").to_pylist()) == set(table.column("dms_commit_ts").to_pylist())
    assert len(set(table.column("dms_commit_ts").to_pylist())) == 1
    assert customers.column("full_name").to_pylist() == ["Ann O'Neil"]  # text (NCLOB) arrives
    assert customers.schema.field("is_pep").type == pa.string()  # boolean -> STRING(5)
    assert customers.column("is_pep").to_pylist() == ["false"]

    before = datetime.now(UTC)
    sql(source_db, _tx("t3", "A7", "300.30"),
        "UPDATE core.transactions SET amount = 111.11, status = 'reversed' WHERE transaction_id = 't1'",
        "DELETE FROM core.transactions WHERE transaction_id = 't2'",
        "UPDATE core.customers SET risk_rating = 'high' WHERE customer_id = 'c1'")
    after = datetime.now(UTC)
    counts = rep.cdc(until_idle=True)
    assert counts == {"transactions": {"I": 1, "U": 1, "D": 1}, "customers": {"I": 0, "U": 1, "D": 0}}

    cdc = {k: t for k, t in raw_files(resources.raw_bucket, "transactions").items() if "LOAD" not in k}
    [(key, changes)] = cdc.items()
    commit_ts = [_commit_ts(t) for t in changes.column("dms_commit_ts").to_pylist()]
    assert key.startswith(f"dms/core/transactions/{commit_ts[0]:%Y/%m/%d}/{commit_ts[0]:%Y%m%d-%H%M%S%f}-")
    assert changes.schema == table.schema
    rows = changes.to_pylist()
    assert [(r["Op"], r["transaction_id"]) for r in rows] == [("I", "t3"), ("U", "t1"), ("D", "t2")]
    assert all(before <= ts <= after for ts in commit_ts) and commit_ts == sorted(commit_ts)
    assert len(set(commit_ts)) == 3  # one commit each
    assert rows[1]["amount"] == Decimal("111.11") and rows[1]["status"] == "reversed"
    assert rows[0]["booked_at"] == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)  # milliseconds
    assert all(rows[2][c] is None for c in schema.TRANSACTIONS.column_names if c != "transaction_id")

    records = stream_records(resources.stream_name)
    assert [r["metadata"]["operation"] for r in records if r["data"]["transaction_id"] == "t1"] == ["update"]
    by_id = {r["data"]["transaction_id"]: r for r in records}
    assert sorted(by_id) == ["t1", "t2", "t3"] and len(records) == 3  # only core.transactions, CDC only
    assert by_id["t3"]["key"] == "A7" and by_id["t1"]["key"] == "A1"  # originator_account_id
    assert by_id["t2"]["key"] == "t2"  # a delete carries only the primary key
    assert by_id["t3"]["data"]["amount"] == "300.30"
    assert by_id["t3"]["data"]["booked_at"] == "2024-05-01T10:00:00.123456Z"
    meta = by_id["t2"]["metadata"]
    assert {k: meta[k] for k in ("record-type", "operation", "schema-name", "table-name")} == {
        "record-type": "data", "operation": "delete", "schema-name": "core", "table-name": "transactions"}
    assert isinstance(meta["transaction-id"], int)
    assert datetime.fromisoformat(meta["timestamp"]) == commit_ts[2]
    [control] = stream_records(resources.stream_name, "control")  # the task's start, before any data
    assert control["key"] == STREAM_TASK_ID and "data" not in control
    assert {k: control["metadata"][k] for k in ("operation", "schema-name", "table-name")} == {
        "operation": "create-table", "schema-name": "", "table-name": dms.CONTROL_TASK_TABLE}

    # Nothing pending: a second run writes nothing and the slot holds no unconsumed change.
    assert rep.cdc(until_idle=True) == {}
    assert len(raw_files(resources.raw_bucket, "transactions")) == 2
    with psycopg.connect(source_db) as conn:
        # Data changes only: an auto-analyze commits a transaction with no change to decode.
        pending = conn.execute("SELECT count(*) FROM pg_logical_slot_peek_changes(%s, NULL, NULL) "
                               "WHERE data LIKE 'table %%'", (slot_name,)).fetchone()[0]
    assert pending == 0
    assert rep.status()["exists"] is True
    assert rep.drop_slot() is True and rep.status()["exists"] is False
