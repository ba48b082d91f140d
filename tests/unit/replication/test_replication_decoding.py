"""test_decoding output -> typed changes, and the deterministic raw-zone keys."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aml.errors import AmlError
from aml.replicate import columns, decoding, source
from aml.replicate.dms_s3 import cdc_key, load_key
from aml_contract import schema

TX = schema.TRANSACTIONS


def _rows(*lines: str) -> list[tuple[str, str, str]]:
    return [("0/10", "7", line) for line in lines[:-1]] + [("0/1A2B", "7", lines[-1])]


def test_insert_is_typed_in_contract_order_with_commit_time():
    [txn] = decoding.parse(_rows(
        "BEGIN 7",
        "table core.transactions: INSERT: transaction_id[text]:'t1' booked_at[timestamp with time zone]:"
        "'2024-05-01 10:00:00.5+00' amount[numeric]:12.50 memo[text]:'it''s a \"memo\"  with: spaces' "
        "status[text]:null",
        "COMMIT 7 (at 2024-05-01 10:00:01.25+00)"))
    assert (txn.xid, txn.commit_lsn) == (7, 0x1A2B)
    assert txn.commit_ts == datetime(2024, 5, 1, 10, 0, 1, 250000, tzinfo=UTC)
    [change] = txn.changes
    row = dict(zip(TX.column_names, change.row, strict=True))
    assert change.op == "I" and row["transaction_id"] == "t1"
    assert row["booked_at"] == datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert row["amount"] == Decimal("12.50")
    assert row["memo"] == "it's a \"memo\"  with: spaces"
    assert row["status"] is None and row["currency"] is None


def test_update_keeps_the_new_tuple_and_delete_carries_the_key_only():
    txns = decoding.parse([
        ("0/1", "8", "BEGIN 8"),
        ("0/2", "8", "table core.customers: UPDATE: old-key: customer_id[text]:'c0' new-tuple: "
                     "customer_id[text]:'c1' is_pep[boolean]:true date_of_birth[date]:'1980-02-03'"),
        ("0/3", "8", "table core.customers: DELETE: customer_id[text]:'c2'"),
        ("0/4", "8", "COMMIT 8 (at 2024-05-01 10:00:00+00)"),
    ])
    update, delete = txns[0].changes
    cust = dict(zip(schema.CUSTOMERS.column_names, update.row, strict=True))
    assert update.op == "U" and cust["customer_id"] == "c1" and cust["is_pep"] is True
    assert cust["date_of_birth"] == date(1980, 2, 3)
    assert delete.op == "D" and delete.row[0] == "c2" and set(delete.row[1:]) == {None}


def test_other_tables_and_truncate_are_dropped_but_their_transaction_is_kept():
    txns = decoding.parse(_rows(
        "BEGIN 9",
        "table public.audit: INSERT: id[integer]:1",
        "table core.accounts: TRUNCATE: (no-flags)",
        "COMMIT 9 (at 2024-05-01 10:00:00+00)"))
    assert len(txns) == 1 and txns[0].changes == [] and txns[0].commit_lsn == 0x1A2B


def test_garbage_is_refused():
    with pytest.raises(decoding.DecodingError):
        decoding.parse([("0/1", "1", "BEGIN 1"), ("0/2", "1", "table core.accounts: INSERT: account_id[text]'x")])
    with pytest.raises(decoding.DecodingError):
        decoding.parse([("0/1", "1", "COMMIT 1 (at 2024-05-01 10:00:00+00)")])


def test_lsn_round_trip():
    assert decoding.lsn_to_int("1/2BD2C50") == (1 << 32) + 0x2BD2C50
    assert decoding.int_to_lsn(decoding.lsn_to_int("1F/2BD2C50")) == "1F/2BD2C50"


def test_keys_follow_the_dms_layout():
    assert load_key("accounts", 10) == "dms/core/accounts/LOAD0000000A.parquet"
    ts = datetime(2024, 5, 1, 23, 59, 59, 123456, tzinfo=UTC)
    assert cdc_key("transactions", ts, 0x1A2B) == \
        "dms/core/transactions/2024/05/01/20240501-235959123456-0000000000001A2B.parquet"


class _Conn:
    def __init__(self, level: str):
        self.level = level

    def execute(self, query: str):
        assert query == "SHOW wal_level"
        return self

    def fetchone(self):
        return (self.level,)


def test_wal_level_must_be_logical():
    source.check_wal_level(_Conn("logical"))
    with pytest.raises(AmlError, match="wal_level=replica.*wal_level = logical"):
        source.check_wal_level(_Conn("replica"))


@pytest.mark.parametrize(("text", "parquet"), [
    ("infinity", None), ("-infinity", None),  # Parquet has no infinity
    ("0044-03-15 10:00:00+00 BC", -63517788000000),
    ("12000-01-01 00:00:00+00", 316516204800000),
])
def test_timestamps_python_cannot_hold_pass_through_decoding_and_both_targets(text, parquet):
    """PostgreSQL accepts infinity, BC and years past 9999; datetime.fromisoformat does not."""
    [txn] = decoding.parse(_rows(
        "BEGIN 8",
        f"table core.transactions: INSERT: transaction_id[text]:'t9' booked_at[timestamp with time zone]:'{text}'",
        "COMMIT 8 (at 2024-05-01 10:00:01+00)"))
    booked_at = dict(zip(TX.column_names, txn.changes[0].row, strict=True))["booked_at"]
    column = TX.column("booked_at")
    assert booked_at == columns.PgDatetime(text)
    assert columns.as_parquet(column, booked_at) == parquet
    assert columns.to_json(column, booked_at) == text


def test_dates_python_cannot_hold_are_written_as_exact_days():
    column = schema.CUSTOMERS.column("date_of_birth")
    day_before_year_1 = (date(1, 1, 1) - date(1970, 1, 1)).days - 1  # 1 BC is year 0
    assert columns.as_parquet(column, columns.from_text(schema.DATE, "0001-12-31 BC")) == day_before_year_1
    assert columns.as_parquet(column, columns.from_text(schema.DATE, "infinity")) is None
    with pytest.raises(ValueError):
        columns.from_text(schema.DATE, "not a date")
