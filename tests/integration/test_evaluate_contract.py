"""`aml evaluate --format contract` end to end on a tiny hand-made bank whose every figure is known:
PostgreSQL, the replicator's full load, the Glue job on local Spark, every named query and the
baseline on DuckDB, the rules Lambda through Kinesis and the poller, then the scoring."""
from __future__ import annotations

import json

import pytest

from aml import cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CUSTOMERS = "customer_id,full_name,email,phone,date_of_birth,national_id,address_line,city,postal_code,country," \
            "customer_type,risk_rating,is_pep,kyc_status,onboarded_at,updated_at\n" + "".join(
                f"C{i},Customer {i},,,1980-01-01,,,,,US,individual,low,false,verified,2026-02-20T00:00:00Z,"
                f"2026-02-20T00:00:00Z\n" for i in range(1, 7))
ACCOUNTS = "account_id,customer_id,account_type,currency,status,branch_country,opened_at,updated_at\n" + "".join(
    f"A{i},C{i},checking,USD,active,US,2026-02-20T00:00:00Z,2026-02-20T00:00:00Z\n" for i in range(1, 7))
HEADER = "transaction_id,booked_at,originator_account_id,originator_name,originator_country,beneficiary_account_id," \
         "beneficiary_name,beneficiary_country,amount,currency,amount_base,transaction_type,channel,ip_address," \
         "device_id,memo,status,updated_at\n"


def tx(tid, when, orig, bene, amount, kind, bene_country="US"):
    channel = "branch" if kind.startswith("cash") else "online"
    return (f"{tid},{when},{orig},,US,{bene},,{bene_country},{amount},USD,{amount},{kind},{channel},,,,booked,"
            f"{when}\n")


TRANSACTIONS = HEADER + "".join([
    # A1: structuring (two cash deposits in [8,000, 10,000) within 3 days, summing over 10,000)
    tx("T1", "2026-03-02T10:00:00Z", "CASH", "A1", "9000.00", "cash_deposit"),
    tx("T2", "2026-03-03T11:00:00Z", "CASH", "A1", "9500.00", "cash_deposit"),
    # A2 -> A3: one large wire (the naive baseline and the high-value listing only)
    tx("T3", "2026-03-02T12:00:00Z", "A2", "A3", "12000.00", "wire"),
    # A4 -> A5: five small payments (more than 3 sent / received: baseline only)
    *[tx(f"T{4 + k}", f"2026-03-0{2 + k}T09:00:00Z", "A4", "A5", f"{100 + 10 * k}.00", "ach") for k in range(5)],
    # A6: a payment to a FATF call-for-action country
    tx("T9", "2026-03-04T15:00:00Z", "A6", "X-EXT-1", "500.00", "wire", "KP"),
])
LABELS = "account_id,typology\nA1,structuring\nA5,money_mule\nA6,sanctions_evasion\n"


def test_evaluate_contract_end_to_end(local_services, unique_name, tmp_path, capsys):
    data = tmp_path / "bank"
    data.mkdir()
    for name, text in (("customers", CUSTOMERS), ("accounts", ACCOUNTS), ("transactions", TRANSACTIONS),
                       ("labels", LABELS)):
        (data / f"{name}.csv").write_text(text)
    out = tmp_path / "out"

    code = cli.main(["evaluate", "--format", "contract", str(data), "--out", str(out), "--budget", "0.34",
                     "--env-name", unique_name("ev").replace("-", "")])
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "evaluation.json").read_text())
    assert "union, ours: scenarios + rules" in printed

    assert summary["zones"]["curated.transactions"] == 9 and summary["zones"]["quarantine.rows"] == 0
    det = summary["detection"]
    assert (det["accounts"], det["laundering_accounts"]) == (6, 3)
    d = det["detectors"]
    assert (d["structuring"]["flagged"], d["structuring"]["true_positives"]) == (1, 1)
    assert (d["high_risk_jurisdiction"]["flagged"], d["high_risk_jurisdiction"]["true_positives"]) == (1, 1)
    assert d["stream:structuring"]["true_positives"] == 1 and d["stream:high_risk_jurisdiction"]["true_positives"] == 1
    assert d["high_value_transactions"]["family"] == "listing" and d["high_value_transactions"]["flagged"] == 2

    ours = det["unions"]["ours"]
    assert (ours["all"]["flagged"], ours["all"]["true_positives"]) == (2, 2)
    assert ours["all"]["recall"] == pytest.approx(2 / 3) and ours["all"]["precision"] == pytest.approx(1.0)
    assert ours["all"]["per_typology"]["money_mule"]["recall"] == 0
    assert ours["at_budget"]["budget_accounts"] == 2 and ours["at_budget"]["true_positives"] == 2

    base = det["unions"]["baseline"]
    assert (base["all"]["flagged"], base["all"]["true_positives"]) == (5, 2)  # A2 A3 A4 A5 A6
    assert {n: d[n]["flagged"] for n in base["detectors"]} == {
        "baseline_high_risk_country": 1, "baseline_large_amount": 2, "baseline_many_received": 1,
        "baseline_many_sent": 1}
    # labels kept apart from what detection read
    assert (out / "labels.parquet").exists()
    assert "typology" not in (out / "work" / "raw").rglob("*.parquet").__next__().read_bytes().decode("latin-1")
