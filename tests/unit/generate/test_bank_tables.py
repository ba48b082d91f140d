"""The generated tables: contract columns and types, PII populated, ids, amounts and FX,
determinism down to the bytes, and labels kept out of the transactions."""
from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aml.errors import AmlError
from aml.generate import BankConfig, generate, write_parquet
from aml.generate.fx import USD_PER_UNIT
from aml.reference import build
from aml_contract.schema import (
    CASH_ACCOUNT_ID,
    CHANNELS,
    SOURCE_TABLES,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
)

from .conftest import SMALL


def _digests(directory) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("*.parquet"))}


def test_same_seed_same_bytes_and_other_seed_other_bytes(bank, tmp_path):
    write_parquet(bank, tmp_path / "a")
    write_parquet(generate(SMALL), tmp_path / "b")
    other = BankConfig(customers=SMALL.customers, days=SMALL.days, seed=SMALL.seed + 1)
    write_parquet(generate(other), tmp_path / "c")
    a, b, c = _digests(tmp_path / "a"), _digests(tmp_path / "b"), _digests(tmp_path / "c")
    assert set(a) == {"customers.parquet", "accounts.parquet", "transactions.parquet", "labels.parquet"}
    assert a == b
    assert all(a[name] != c[name] for name in a)


def test_parquet_columns_and_types_follow_the_contract(bank, tmp_path):
    paths = write_parquet(bank, tmp_path / "bank")
    for name, table in SOURCE_TABLES.items():
        schema = pq.read_schema(paths[name])
        assert schema.names == table.column_names
        for column in table.columns:
            arrow_type = str(schema.field(column.name).type)
            expected = {"timestamp": "timestamp[us, tz=UTC]", "decimal": "decimal128(18, 2)", "date": "date32[day]",
                        "boolean": "bool", "string": "string"}[column.type]
            assert arrow_type == expected, (name, column.name)
    labels = pq.read_table(paths["labels"])
    assert labels.num_rows == len(bank.labels)
    for column in ("transaction_ids", "subject_account_ids"):
        field_type = labels.schema.field(column).type
        assert pa.types.is_list(field_type) and pa.types.is_string(field_type.value_type)


def test_labels_never_leak_into_transactions(bank):
    columns = {c.lower() for c in bank.transactions.columns}
    assert not columns & {"typology", "kind", "label", "label_id", "is_laundering", "scenario"}
    assert not bank.transactions.memo.str.contains("laund|typolog|structur|smurf|near", case=False).any()


def test_pii_is_populated(bank):
    customers = bank.customers
    for column in ("full_name", "email", "phone", "national_id", "address_line", "city", "postal_code"):
        assert customers[column].notna().all() and customers[column].str.len().gt(3).all(), column
        assert customers[column].nunique() > len(customers) * 0.5, column
    individuals = customers[customers.customer_type == "individual"]
    assert individuals.date_of_birth.notna().all()
    assert customers.email.str.contains("@").all()
    tx = bank.transactions
    online = tx.channel.isin(["online", "mobile"])
    assert tx.loc[online, "ip_address"].notna().all() and tx.loc[online, "device_id"].notna().all()
    assert tx.originator_name.notna().mean() > 0.9 and tx.beneficiary_name.notna().mean() > 0.9
    assert set(customers.customer_type) == {"individual", "business"}
    assert customers.is_pep.any() and (customers.risk_rating == "high").any()


def test_ids_enums_and_amounts(bank, tx):
    assert tx.transaction_id.is_unique and tx.transaction_id.str.fullmatch(r"T\d{10}").all()
    assert bank.accounts.account_id.is_unique and bank.accounts.account_id.str.fullmatch(r"A\d{8}").all()
    assert bank.customers.customer_id.str.fullmatch(r"C\d{8}").all()
    assert set(bank.accounts.customer_id) <= set(bank.customers.customer_id)
    parties = set(tx.originator_account_id) | set(tx.beneficiary_account_id)
    external = parties - set(bank.accounts.account_id) - {CASH_ACCOUNT_ID}
    assert all(p.startswith("X") and p[1:3].isalpha() and p[3:].isdigit() for p in external)
    assert CASH_ACCOUNT_ID in parties
    assert set(tx.transaction_type) <= set(TRANSACTION_TYPES) and set(tx.channel) <= set(CHANNELS)
    assert set(tx.status) == set(TRANSACTION_STATUSES)
    assert set(tx.currency) <= build.in_memory().currencies and tx.currency.nunique() >= 4
    booked = tx[tx.usd.notna()]
    assert (tx.local > 0).all() and (booked.usd > 0).all()
    rate = booked.currency.map(USD_PER_UNIT)
    assert np.allclose(booked.usd, np.round(booked.local * rate, 2), atol=0.011)
    assert tx.booked_at.is_monotonic_increasing
    assert str(tx.booked_at.dt.tz) == "UTC"


def test_some_wires_are_booked_in_the_foreign_partys_currency_and_some_without_amount_base(bank, tx):
    """Issue 19: the pipeline must take every currency; a source may leave amount_base to it."""
    internal = set(bank.accounts.account_id)
    foreign = tx[tx.currency.isin({"SEK", "NOK", "DKK", "NZD"})]  # currencies the old contract refused
    assert not foreign.empty and (foreign.transaction_type == "wire").all()
    assert (~foreign.originator_account_id.isin(internal) | ~foreign.beneficiary_account_id.isin(internal)).all()
    unknown = tx[tx.usd.isna()]
    assert 0 < len(unknown) < 0.05 * len(tx)
    assert (unknown.transaction_type == "wire").all() and (unknown.currency != "USD").all()


def test_background_is_realistic(bank, tx):
    assert {"Salary", "Utility bill", "Card purchase", "Online purchase", "Transfer", "International transfer",
            "ATM withdrawal", "Cash deposit", "Invoice payment", "Supplier payment", "Savings"} <= set(tx.memo)
    internal = set(bank.accounts.account_id)
    salaries = tx[tx.memo == "Salary"]
    assert salaries.originator_account_id.isin(internal).any()  # employers banking with us pay payroll
    abroad = tx[(tx.memo == "International transfer")]
    assert (abroad.beneficiary_country != "US").all() and not abroad.empty
    cash = tx[tx.transaction_type.isin(["cash_deposit", "cash_withdrawal"])]
    assert cash.usd.median() < 1000
    per_account = tx.groupby("originator_account_id").size()
    assert per_account.quantile(0.9) > 2 * per_account.median()  # activity varies per customer


@pytest.mark.parametrize("kwargs", [
    {"customers": 0, "days": 10}, {"customers": -5, "days": 10}, {"customers": 300, "days": 0},
    {"customers": 300, "days": -1}, {"customers": 300, "days": 10, "rate": 0},
    {"customers": 300, "days": 10, "rate": float("nan")},
])
def test_bad_config_is_a_clear_error(kwargs):
    with pytest.raises(AmlError):
        BankConfig(seed=1, **kwargs)


def test_a_rate_too_high_for_the_bank_is_a_clear_error():
    with pytest.raises(AmlError, match="--rate"):
        generate(BankConfig(customers=60, days=30, seed=1, rate=100))


def test_a_failed_write_leaves_nothing_behind(bank, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("not a directory")
    with pytest.raises(AmlError, match="not a directory"):
        write_parquet(bank, blocker)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "transactions.parquet").mkdir()  # a file cannot replace a directory
    with pytest.raises(AmlError, match="cannot write"):
        write_parquet(bank, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "taken"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["transactions.parquet"]
