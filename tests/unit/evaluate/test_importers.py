"""Each importer on small files written by hand from the format's documentation."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aml.errors import AmlError
from aml.evaluate import importers
from aml.reference import build
from aml_contract import schema

# Small files written by hand from each format's documentation, kept as files so `aml evaluate`
# runs on them too (README, "Backtesting"):
DATA = Path(__file__).with_name("data")
SAMLD = (DATA / "saml-d" / "SAML-D.csv").read_text()  # the single CSV, with pandas' unnamed index
AMLWORLD = (DATA / "amlworld" / "HI-Small_Trans.csv").read_text()  # and its Patterns file:
PATTERNS = (DATA / "amlworld" / "HI-Small_Patterns.txt").read_text()
# AMLSim example data set (TIMESTAMP = step)
AMLSIM_ACCOUNTS = (DATA / "amlsim" / "accounts.csv").read_text()
AMLSIM_TX = (DATA / "amlsim" / "transactions.csv").read_text()
AMLSIM_ALERTS = (DATA / "amlsim" / "alerts.csv").read_text()


def _labels(ds) -> set[tuple[str, str]]:
    return set(ds.labels.itertuples(index=False, name=None))


def _check_contract(ds) -> None:
    for name, table in schema.SOURCE_TABLES.items():
        assert list(getattr(ds, name).columns) == table.column_names
    tx = ds.transactions
    assert set(tx["currency"]) <= build.in_memory().currencies
    assert set(tx["transaction_type"]) <= set(schema.TRANSACTION_TYPES)
    assert (tx["amount"] > 0).all() and (tx["amount_base"] > 0).all()
    assert tx["booked_at"].is_monotonic_increasing
    assert tx["booked_at"].min() >= pd.Timestamp(schema.PROJECTION_START_DATE, tz="UTC")
    own = set(ds.accounts["account_id"])
    assert set(tx["originator_account_id"]) | set(tx["beneficiary_account_id"]) <= own | {schema.CASH_ACCOUNT_ID}
    assert set(ds.accounts["customer_id"]) == set(ds.customers["customer_id"])
    assert "typology" not in tx.columns and "Is_laundering" not in tx.columns  # labels kept apart
    assert set(ds.labels["account_id"]) <= own


def test_samld(tmp_path: Path):
    (tmp_path / "SAML-D.csv").write_text(SAMLD)
    ds = importers.load("saml-d", tmp_path / "SAML-D.csv")
    _check_contract(ds)
    tx = ds.transactions.set_index("transaction_id")
    assert len(tx) == 7  # the 0.00 payment is left out, and counted
    assert ds.report["left_out"] == {"amount_not_positive": 1}
    assert tx.loc["S00000001", "transaction_type"] == "cash_deposit"
    assert tx.loc["S00000001", "originator_account_id"] == "8724731955"  # the depositor
    assert tx.loc["S00000005", "beneficiary_account_id"] == schema.CASH_ACCOUNT_ID
    assert tx.loc["S00000002", ["transaction_type", "originator_country", "beneficiary_country"]].tolist() == [
        "wire", "GB", "AE"]
    assert tx.loc["S00000003", ["transaction_type", "currency"]].tolist() == ["check", "GBP"]
    assert float(tx.loc["S00000003", "amount"]) == 14328.44
    assert float(tx.loc["S00000003", "amount_base"]) == pytest.approx(14328.44 * 1.265, abs=0.01)
    # Naira is kept as booked (issue 19: every ISO 4217 currency), its USD equivalent from the fixed rate
    assert tx.loc["S00000004", "currency"] == "NGN"
    assert float(tx.loc["S00000004", "amount"]) == 11895.0
    assert float(tx.loc["S00000004", "amount_base"]) == pytest.approx(11895.0 * 0.00065, abs=0.01)
    assert ds.report["currencies"]["kept"] == {"EUR": 1, "GBP": 6, "NGN": 1}
    assert ds.report["currencies"]["without_rate"] == {}
    assert tx.loc["S00000006", "channel"] == "pos"
    assert _labels(ds) == {("287305149", "Layered_Fan_Out"), ("4404767002", "Layered_Fan_Out"),
                           ("5376652437", "Smurfing"), ("9600420220", "Smurfing"),
                           ("9614186178", "Cash_Withdrawal")}  # a withdrawal's other side is CASH
    accounts = ds.accounts.set_index("account_id")
    assert accounts.loc["5376652437", "branch_country"] == "NG"
    assert accounts.loc["8401255335", "branch_country"] == "AE"
    assert accounts.loc["287305149", "customer_id"] == "C-287305149"


def test_amlworld_with_patterns(tmp_path: Path):
    (tmp_path / "HI-Small_Trans.csv").write_text(AMLWORLD)
    (tmp_path / "HI-Small_Patterns.txt").write_text(PATTERNS)
    ds = importers.load("amlworld", tmp_path)
    _check_contract(ds)
    tx = ds.transactions.set_index("transaction_id")
    assert len(tx) == 9
    assert tx.loc["W000000001", ["originator_account_id", "transaction_type"]].tolist() == ["010-8000EBD30", "internal"]
    assert tx.loc["W000000005", "transaction_type"] == "ach"
    assert tx.loc["W000000007", ["transaction_type", "currency"]].tolist() == ["crypto", "BTC"]
    assert float(tx.loc["W000000007", "amount"]) == 1.0
    assert float(tx.loc["W000000007", "amount_base"]) == 90000.0  # 1 BTC at the table's fixed rate
    assert tx.loc["W000000008", "transaction_type"] == "cash_deposit"
    assert tx.loc["W000000009", ["transaction_type", "currency"]].tolist() == ["card", "CAD"]
    assert {"BTC", "CNY", "ILS"} <= set(ds.report["currencies"]["kept"])
    assert set(tx["originator_country"]) == {"ZZ"}
    assert _labels(ds) == {("021174-800737690", "fan_out"), ("012-80011F990", "fan_out"),
                           ("0213834-808757B00", "fan_out"), ("020-80020C5B0", "unspecified"),
                           ("0213834-808757B00", "unspecified")}
    assert ds.report["laundering_rows_with_typology"] == 2


def test_amlworld_without_patterns_labels_unspecified(tmp_path: Path):
    (tmp_path / "LI-Small_Trans.csv").write_text(AMLWORLD)
    ds = importers.load("amlworld", tmp_path / "LI-Small_Trans.csv")
    assert set(ds.labels["typology"]) == {"unspecified"} and ds.labels["account_id"].nunique() == 4


def test_amlsim_example_layout(tmp_path: Path):
    (tmp_path / "accounts.csv").write_text(AMLSIM_ACCOUNTS)
    (tmp_path / "transactions.csv").write_text(AMLSIM_TX)
    (tmp_path / "alerts.csv").write_text(AMLSIM_ALERTS)
    ds = importers.load("amlsim", tmp_path)
    _check_contract(ds)
    tx = ds.transactions.set_index("transaction_id")
    # step 0 = 2017-01-01 (a Sunday), moved by whole weeks past 2020-01-01: 2020-01-05, a Sunday
    assert ds.report["dates_shifted_weeks"] == 157
    assert tx.loc["1", "booked_at"] == pd.Timestamp("2020-01-05", tz="UTC")
    assert tx.loc["6", "booked_at"] - tx.loc["1", "booked_at"] == pd.Timedelta(days=9)
    assert set(tx["transaction_type"]) == {"wire"} and set(tx["currency"]) == {"USD"}
    accounts = ds.accounts.set_index("account_id")
    assert accounts.loc["3", "customer_id"] == accounts.loc["4", "customer_id"] == "C_3"  # shared customer
    assert len(ds.customers) == 5
    # the cycle's accounts from the SAR alert; account 5 flagged IS_FRAUD without an alert; the
    # false alert (IS_FRAUD False) labels nobody
    assert _labels(ds) == {("1", "cycle"), ("2", "cycle"), ("3", "cycle"), ("5", "unspecified")}
    assert ds.report["false_alert_rows"] == 1


def test_amlsim_convert_logs_layout(tmp_path: Path):
    (tmp_path / "accounts.csv").write_text("acct_id,dsply_nm,type,country,prior_sar_count\n10,A10,SAV,US,false\n"
                                           "11,A11,SAV,GB,true\n12,A12,SAV,US,true\n")
    (tmp_path / "transactions.csv").write_text(
        "tran_id,tran_timestamp,base_amt,tx_type,is_frgn_trxn,orig_acct,bene_acct,is_sar,alert_id\n"
        "100,2017-01-02T10:00:00Z,500.0,TRANSFER,false,10,11,false,-1\n"
        "101,2017-01-03T11:00:00Z,9500.0,TRANSFER,false,11,12,true,3\n"
        "102,2017-01-04T09:00:00Z,300.0,CASH-OUT,false,12,,false,-1\n")
    (tmp_path / "alert_transactions.csv").write_text(
        "alert_id,alert_type,is_sar,tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp\n"
        "3,fan_out,true,101,11,12,TRANSFER,9500.0,2017-01-03T11:00:00Z\n")
    ds = importers.load("amlsim", tmp_path)
    _check_contract(ds)
    tx = ds.transactions.set_index("transaction_id")
    assert tx.loc["102", ["transaction_type", "beneficiary_account_id"]].tolist() == ["cash_withdrawal", "CASH"]
    assert tx.loc["101", "booked_at"].hour == 11
    assert ds.accounts.set_index("account_id").loc["11", "branch_country"] == "GB"
    assert _labels(ds) == {("11", "fan_out"), ("12", "fan_out")}


def test_contract_reads_the_generators_output(tmp_path: Path):
    from datetime import date

    from aml.generate import BankConfig, generate, write_parquet

    bank = generate(BankConfig(customers=200, days=20, start_date=date(2026, 1, 1), seed=3))
    write_parquet(bank, tmp_path)
    ds = importers.load("contract", tmp_path)
    assert len(ds.transactions) == len(bank.transactions)
    laundering = bank.labels[bank.labels["kind"] == "laundering"]
    expected = {(a, t) for ids, t in zip(laundering["subject_account_ids"], laundering["typology"], strict=True)
                for a in ids}
    assert _labels(ds) == expected
    assert ds.report["label_kinds"]["near_miss"] > 0


def test_contract_account_and_transaction_labels(tmp_path: Path):
    from datetime import date

    from aml.generate import BankConfig, generate, write_parquet

    bank = generate(BankConfig(customers=200, days=10, start_date=date(2026, 1, 1), seed=3))
    write_parquet(bank, tmp_path)
    (tmp_path / "labels.parquet").unlink()
    first = bank.transactions.iloc[0]
    pd.DataFrame({"transaction_id": [first["transaction_id"]], "typology": ["sar"]}).to_csv(
        tmp_path / "sar_labels.csv", index=False)
    ds = importers.load("contract", tmp_path)
    own = set(bank.accounts["account_id"])
    expected = {(a, "sar") for a in (first["originator_account_id"], first["beneficiary_account_id"]) if a in own}
    assert _labels(ds) == expected


@pytest.mark.parametrize("fmt", ["saml-d", "amlworld", "amlsim"])
def test_wrong_layout_is_one_clear_error(tmp_path: Path, fmt: str):
    (tmp_path / "x_Trans.csv").write_text("a,b\n1,2\n")
    (tmp_path / "accounts.csv").write_text("a,b\n1,2\n")
    (tmp_path / "transactions.csv").write_text("a,b\n1,2\n")
    (tmp_path / "alerts.csv").write_text("a,b\n1,2\n")
    target = tmp_path / "x_Trans.csv" if fmt != "amlsim" else tmp_path
    with pytest.raises(AmlError, match="lacks"):
        importers.load(fmt, target)


def test_baseline_queries_stay_out_of_the_named_queries():
    from aml.evaluate import baseline
    from aml_contract.named_queries import load_all

    assert sorted(baseline.queries()) == ["baseline_high_risk_country", "baseline_large_amount",
                                          "baseline_many_received", "baseline_many_sent"]
    assert not {q.name for q in load_all()} & set(baseline.queries())


def test_an_unknown_payment_kind_stops_the_import_naming_it():
    import pandas as pd

    from aml.errors import AmlError
    from aml.evaluate.importers import mapped

    assert mapped(pd.Series([" Wire ", "cash"]), {"wire": "wire_out", "cash": "cash_deposit"}, "f.csv kind").tolist() \
        == ["wire_out", "cash_deposit"]
    with pytest.raises(AmlError, match=r"f.csv kind: unknown value\(s\) \['cheque'\]"):
        mapped(pd.Series(["wire", "Cheque"]), {"wire": "wire_out"}, "f.csv kind")


def test_a_folder_must_hold_exactly_one_matching_file(tmp_path):
    from aml.errors import AmlError
    from aml.evaluate.importers import single_file

    (tmp_path / "a.csv").write_text("")
    assert single_file(tmp_path, "*.csv", "hint") == tmp_path / "a.csv"
    (tmp_path / "b.csv").write_text("")
    with pytest.raises(AmlError, match="holds 2"):
        single_file(tmp_path, "*.csv", "hint")


def test_every_currency_code_is_kept_and_one_without_a_rate_leaves_amount_base_to_the_pipeline():
    from aml.evaluate import dataset

    ledger = pd.DataFrame({
        "transaction_id": ["1", "2", "3"], "booked_at": ["2025-03-03 10:00"] * 3,
        "originator_account_id": ["a", "b", "c"], "beneficiary_account_id": ["b", "c", "a"],
        "amount": [100.0, 250.0, 40.0], "currency": ["KZT", "Zorkmid", "usdt"],
        "transaction_type": ["wire"] * 3, "originator_country": ["KZ", "US", "US"],
        "beneficiary_country": ["US", "US", "US"]})
    ds = dataset.build(ledger, source="test")
    tx = ds.transactions.set_index("transaction_id")
    assert tx.loc["1", "currency"] == "KZT" and pd.isna(tx.loc["1", "amount_base"])  # tenge: no rate here
    assert tx.loc["3", "currency"] == "USDT" and pd.isna(tx.loc["3", "amount_base"])
    assert "2" not in tx.index  # no currency code at all: left out, and counted
    assert ds.report["currencies"] == {"kept": {"KZT": 1, "USDT": 1}, "without_rate": {"KZT": 1, "USDT": 1},
                                       "unknown": {"Zorkmid": 1}}
    assert ds.report["left_out"] == {"unknown_currency": 1}
