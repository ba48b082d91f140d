"""The key reconciliation's curated-side queries on DuckDB (Athena's stand-in) agree with the
shared Python logic (aml_contract.key_reconciliation): one bucket hash on every engine."""
from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aml.query.local import LocalEngine
from aml_contract import key_reconciliation as kr
from aml_contract.pseudonym import pseudonymise

KEY = b"k" * 32
MARK = datetime(2025, 3, 2, tzinfo=UTC)


def _zone(root, transactions, accounts, customers):
    for folder, column, values in (("transactions/dt=2025-03-01", "transaction_id", transactions),
                                   ("accounts", "account_pid", accounts), ("customers", "customer_pid", customers)):
        (root / folder).mkdir(parents=True)
        columns = {column: pa.array(values, pa.string())}
        if folder.startswith("transactions"):
            columns["dms_commit_ts"] = pa.array([MARK.replace(tzinfo=None)] * len(values), pa.timestamp("ms"))
        pq.write_table(pa.table(columns), root / folder / "part-0.parquet")
    return root


def test_the_curated_digest_query_agrees_with_python(tmp_path):
    transactions = [f"T{i}" for i in range(300)] + [None]
    accounts = [pseudonymise(f"A{i}", KEY) for i in range(50)]
    zone = _zone(tmp_path, transactions, accounts, [pseudonymise("C1", KEY)])
    rows = LocalEngine(zone).run_sql("key_digest", kr.curated_digest_sql(), []).frame
    assert list(rows.columns) == list(kr.DIGEST_COLUMNS)
    for table, keys in (("transactions", transactions[:-1]), ("accounts", accounts)):
        mine = rows[(rows["source_table"] == table) & (rows["bucket"] >= 0)]
        assert {int(r.bucket): [int(r.keys), int(r.digest)] for r in mine.itertuples()} == kr.Digest.of(keys).buckets
        total = rows[(rows["source_table"] == table) & (rows["bucket"] == -1)]
        assert int(total["keys"].iloc[0]) == len(keys)
    mark = rows[(rows["source_table"] == "transactions") & (rows["bucket"] == -1)]["high_water_mark_ms"].iloc[0]
    assert int(mark) == int(MARK.timestamp() * 1000)


def test_the_keys_query_lists_exactly_the_keys_of_the_given_buckets(tmp_path):
    transactions = [f"T{i}" for i in range(300)]
    zone = _zone(tmp_path, transactions, [pseudonymise("A1", KEY)], [])
    wanted = sorted({kr.bucket_of("T7"), kr.bucket_of("T42")})
    rows = LocalEngine(zone).run_sql("keys", kr.curated_keys_sql({"transactions": wanted, "customers": []}), []).frame
    assert sorted(rows["curated_key"]) == sorted(t for t in transactions if kr.bucket_of(t) in wanted)
    assert set(rows["source_table"]) == {"transactions"}
    with pytest.raises(ValueError):
        kr.curated_keys_sql({"transactions": []})
