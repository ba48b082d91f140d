"""Currencies and amount_base against the reference data in the curated zone: a code outside the
currencies dataset is quarantined, amount_base comes from the source or from the dated rate
(exactly as ReferenceData.amount_base), or stays null and is counted; a missing or corrupt
dataset stops the run before anything is written, a stale one is a warning; `reference/` is
never touched."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import NOW, T0, Bank, change, make_zones, publish_reference

from aml_contract import reference
from aml_contract.pseudonym import key_from_env
from aml_contract.reference import ReferenceData
from glue_jobs.curation import storage
from glue_jobs.curation.errors import CurationError
from glue_jobs.curation.job import run_curation
from glue_jobs.curation.run_manifest import TableFigures, reconciliation_errors

DAY = T0.date()
NO_RATE_DAY = T0 + timedelta(days=2)  # the tiny fx_rates below holds no rate for it
# usd_per_unit per (currency, day): 10.01 EUR * 0.5 = 5.005 exactly, 5.01 half up (5.00 half even);
# GBP's twelve decimals make the product need all 14 of decimal(35,14).
RATES = {("EUR", DAY): "0.500000000000", ("GBP", DAY): "1.263456789012"}
FX_REVIEW_BY = date(2024, 3, 5)  # before the runs' clock (NOW): stale


def tiny_fx_rates() -> dict[str, bytes]:
    rows = [{"rate_date": d.isoformat(), "currency": c, "usd_per_unit": r, "published_date": d.isoformat()}
            for (c, d), r in RATES.items()]
    return reference.encode("fx_rates", rows, version="test-2024-03-01", source="test rates", coverage_start=DAY,
                            coverage_end=DAY, review_by=FX_REVIEW_BY)


def run(spark, zones, observe=None) -> dict:
    return run_curation(spark, str(zones.raw.root), str(zones.curated), str(zones.quarantine), key_from_env(),
                        now=NOW, observe=observe)


@pytest.fixture(scope="module")
def curated(spark, tmp_path_factory):
    bank, zones = Bank(seed=21), make_zones(tmp_path_factory.mktemp("reference"), reference=False)
    publish_reference(zones.curated, tiny_fx_rates())
    before = {p: p.read_bytes() for p in (zones.curated / reference.PREFIX).rglob("*") if p.is_file()}
    zones.raw.load("customers", [change(bank.customer("C1"), "I", T0)])
    zones.raw.load("accounts", [change(bank.account("A1", "C1"), "I", T0),
                                change(bank.account("A2", "C1", currency="NGN"), "I", T0),
                                change(bank.account("A3", "C1", currency="XYZ"), "I", T0)])

    def tx(key, currency, amount, amount_base, booked_at=T0):
        base = None if amount_base is None else Decimal(amount_base)
        return change(bank.transaction(key, booked_at, "A1", "EXT-1", amount=amount, currency=currency,
                                       amount_base=base), "I", T0)

    zones.raw.load("transactions", [
        tx("T-USD", "USD", "100.00", "100.00"),
        tx("T-USD-null", "USD", "42.10", None),  # USD is its own amount_base
        tx("T-NGN", "NGN", "150000.00", "97.31"),  # a currency the old contract list lacked
        tx("T-BTC", "BTC", "0.50", "31000.00"),
        tx("T-BTC-null", "BTC", "0.25", None),  # no reference rate for crypto: unknown
        tx("T-EUR-half", "EUR", "10.01", None),
        tx("T-GBP", "GBP", "1234.57", None),
        tx("T-EUR-no-rate", "EUR", "80.00", None, booked_at=NO_RATE_DAY),
        tx("T-XYZ", "XYZ", "10.00", "10.00"),
        tx("T-zero-base", "EUR", "10.00", "0.00"),
    ])
    manifest = run(spark, zones)
    rows = {r["transaction_id"]: r for r in pq.read_table(zones.curated / "transactions").to_pylist()}
    return {"manifest": manifest, "rows": rows, "zones": zones, "before": before,
            "reference": ReferenceData.from_directory(zones.curated)}


def _reasons(zones, table) -> dict:
    return {r[{"transactions": "transaction_id", "accounts": "account_id"}[table]]: r["quarantine_reason"]
            for r in pq.read_table(zones.quarantine / table).to_pylist()}


def test_a_code_outside_the_currencies_dataset_is_quarantined_in_both_tables(curated):
    zones = curated["zones"]
    assert _reasons(zones, "accounts") == {"A3": "unknown_value:currency"}
    assert _reasons(zones, "transactions") == {"T-XYZ": "unknown_value:currency",
                                               "T-zero-base": "non_positive:amount_base"}
    accounts = pq.read_table(zones.curated / "accounts").column("currency").to_pylist()
    assert sorted(accounts) == ["NGN", "USD"]


def test_the_sources_amount_base_wins_for_any_currency(curated):
    rows = curated["rows"]
    assert (rows["T-NGN"]["currency"], rows["T-NGN"]["amount_base"]) == ("NGN", Decimal("97.31"))
    assert rows["T-BTC"]["amount_base"] == Decimal("31000.00") and rows["T-USD"]["amount_base"] == Decimal("100.00")


def test_a_missing_amount_base_is_derived_exactly_as_the_reference_rule(curated):
    rows, ref = curated["rows"], curated["reference"]
    assert rows["T-EUR-half"]["amount_base"] == Decimal("5.01")  # 5.005, half up
    assert rows["T-USD-null"]["amount_base"] == Decimal("42.10")
    for key in ("T-EUR-half", "T-GBP", "T-USD-null", "T-BTC-null", "T-EUR-no-rate", "T-NGN", "T-BTC"):
        row = rows[key]
        source = {"T-NGN": Decimal("97.31"), "T-BTC": Decimal("31000.00")}.get(key)
        assert row["amount_base"] == ref.amount_base(row["amount"], row["currency"], row["booked_at"].date(),
                                                     source), key
    assert rows["T-GBP"]["amount_base"] == Decimal("1559.83")  # 1234.57 * 1.263456789012 = 1559.8258...


def test_without_a_rate_amount_base_stays_null_and_the_row_is_curated(curated):
    rows = curated["rows"]
    assert rows["T-BTC-null"]["amount_base"] is None and rows["T-EUR-no-rate"]["amount_base"] is None
    assert len(rows) == 8


def test_the_manifest_counts_amount_base_by_origin_and_still_reconciles(curated):
    m = curated["manifest"]
    tx = m["tables"]["transactions"]
    assert m["reconciled"] is True
    assert tx["amount_base"] == {"source": 3, "derived": 3, "unknown": 2}
    assert sum(tx["amount_base"].values()) == tx["inserted"] == 8
    assert tx["rows_read_total"] == tx["inserted"] + tx["quarantined_total"] == 10
    assert "amount_base" not in m["tables"]["accounts"] or m["tables"]["accounts"]["amount_base"] == {}


def test_the_manifest_records_the_versions_used_and_stale_data_as_a_warning(curated):
    m, ref = curated["manifest"], curated["reference"]
    assert m["reference"] == {name: ref.manifests[name].version for name in reference.DATASETS}
    assert m["reference"]["fx_rates"] == "test-2024-03-01"
    assert [w for w in m["warnings"] if "fx_rates" in w] == \
        ["stale reference data: fx_rates (version test-2024-03-01, review by 2024-03-05)"]


def test_the_reference_folder_is_left_as_published(curated):
    zones, before = curated["zones"], curated["before"]
    assert {p: p.read_bytes() for p in (zones.curated / reference.PREFIX).rglob("*") if p.is_file()} == before
    folder = f"{zones.curated}/{reference.PREFIX}"
    assert not [p for p in curated["manifest"]["published"] if p["target"].startswith(folder)]


def test_fx_rates_are_read_only_when_a_row_lacks_amount_base(spark, tmp_path):
    bank, zones = Bank(seed=22), make_zones(tmp_path)
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "EXT-1", currency="EUR"), "I", T0)])
    seen: list[tuple[str, str]] = []
    manifest = run(spark, zones, observe=lambda kind, path: seen.append((kind, path)))
    fx_data = reference.data_key("fx_rates")
    assert manifest["tables"]["transactions"]["amount_base"] == {"source": 1, "derived": 0, "unknown": 0}
    assert [k for k, p in seen if p.endswith(fx_data)] == [storage.STAT, storage.READ]  # checked, not joined
    zones.raw.cdc("transactions", [change(bank.transaction("T2", T0, "A1", "EXT-1", amount_base=None), "I", T0)],
                  "2024/03/01", "20240301-1000")
    seen.clear()
    manifest = run(spark, zones, observe=lambda kind, path: seen.append((kind, path)))
    assert storage.SPARK_READ in [k for k, p in seen if p.endswith(fx_data)]
    assert manifest["tables"]["transactions"]["amount_base"] == {"source": 0, "derived": 1, "unknown": 0}


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_unusable_reference_data_stops_the_run_before_anything_is_written(spark, tmp_path, damage):
    bank, zones = Bank(seed=23), make_zones(tmp_path)
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "EXT-1"), "I", T0)])
    data = zones.curated / reference.data_key("fx_rates")
    if damage == "missing":
        data.unlink()
        message = r"reference dataset 'fx_rates' is not published"
    else:
        data.write_bytes(data.read_bytes()[:-8])
        message = r"reference/fx_rates/fx_rates\.jsonl\.gz does not match its manifest \(SHA-256\)"
    with pytest.raises(CurationError, match=r"reference data under .*/reference/ is unusable, nothing was "
                                            r"curated: " + message):
        run(spark, zones)
    assert sorted(p.name for p in zones.curated.iterdir()) == [reference.PREFIX]
    assert not zones.quarantine.exists()


def test_amount_base_counts_that_miss_a_curated_transaction_fail_the_reconciliation():
    fig = TableFigures(rows_read={"I": 3}, inserted=3, quarantine_rows_written=0, live_keys_after=3, rows_written=3,
                       amount_base={"source": 1, "derived": 1, "unknown": 0})
    assert reconciliation_errors("transactions", fig) == [
        "transactions: amount_base of 2 rows accounted for ({'source': 1, 'derived': 1, 'unknown': 0}), "
        "but 3 inserted + 0 updated"]
    fig.amount_base["unknown"] = 1
    assert reconciliation_errors("transactions", fig) == []
    assert reconciliation_errors("accounts", TableFigures(rows_read={"I": 1}, inserted=1, live_keys_after=1,
                                                          rows_written=1)) == []
