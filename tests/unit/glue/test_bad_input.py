"""Bad input: invalid rows are quarantined with a reason (never dropped), tolerated schema drift
is reported, and inputs that cannot be curated stop the run before anything is written."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from glue_dms_fixtures import NOW, T0, change

from aml_contract.dms import LOB_SUSPECT_CHARS
from glue_jobs.curation.errors import CurationError

AT_LOB_LIMIT = "x" * LOB_SUSPECT_CHARS  # what a value DMS cut at LobMaxSize looks like, or longer


@pytest.fixture(scope="module")
def quarantined(spark, tmp_path_factory):
    from glue_dms_fixtures import Bank, make_zones

    bank, zones = Bank(seed=5), make_zones(tmp_path_factory.mktemp("bad"))

    def tx(key, booked_at=T0, **changes):
        return change(bank.transaction(key, booked_at, "A1", "EXT-1", **changes), "I", T0)

    zones.raw.load("transactions", [
        tx("OK1"),
        tx("B-null-amount", amount="1.00") | {"amount": None},
        tx("B-negative", amount="-5.00"),
        tx("B-zero", amount="0.00"),
        tx("B-currency", currency="XYZ"),  # XXX is ISO 4217 ("no currency"): a code
        tx("B-future", booked_at=NOW + timedelta(days=1)),
        tx("B-channel", channel="fax"),
        tx("B-op") | {"Op": "X"},
        tx("ignored") | {"transaction_id": None},
        tx("B-lob-memo", memo=AT_LOB_LIMIT),
        tx("B-lob-name", beneficiary_name=AT_LOB_LIMIT + "y"),
        tx("OK-lob-short", memo=AT_LOB_LIMIT[1:]),
    ])
    zones.raw.cdc("transactions", [  # DMS wrote numerics and timestamps as strings
        tx("OK2", amount="10.50"),
        tx("B-text-amount") | {"amount": "12,50abc"},
        tx("B-bad-ts") | {"booked_at": "not-a-date"},
    ], "2024/03/01", "20240301-1000", as_strings=True)
    zones.raw.cdc("transactions", [tx("OK3") | {"loyalty_tier": "gold"}], "2024/03/01", "20240301-1100",
                  extra=("loyalty_tier",))
    zones.raw.cdc("transactions", [tx("OK4")], "2024/03/01", "20240301-1200", drop=("memo",))
    manifest = zones.run(spark)
    rows = pq.read_table(zones.quarantine / "transactions").to_pylist()
    curated = spark.read.parquet(str(zones.curated / "transactions")).collect()
    return {"manifest": manifest["tables"]["transactions"], "rows": rows, "curated": curated}


def test_each_invalid_row_is_quarantined_with_its_reason(quarantined):
    reasons = {r["transaction_id"]: r["quarantine_reason"] for r in quarantined["rows"]}
    assert reasons == {
        "B-null-amount": "missing_required:amount",
        "B-negative": "non_positive:amount",
        "B-zero": "non_positive:amount",
        "B-currency": "unknown_value:currency",
        "B-future": "future:booked_at",
        "B-channel": "unknown_value:channel",
        "B-op": "unknown_op",
        None: "missing_primary_key",
        "B-text-amount": "non_numeric:amount",
        "B-bad-ts": "unparseable_timestamp:booked_at",
        "B-lob-memo": "lob_limit:memo",
        "B-lob-name": "lob_limit:beneficiary_name",
    }


def test_quarantine_keeps_the_original_row_and_its_source(quarantined):
    row = next(r for r in quarantined["rows"] if r["transaction_id"] == "B-text-amount")
    assert row["amount"] == "12,50abc" and row["source_file"] == "2024/03/01/20240301-1000.parquet"
    assert row["originator_name"] and row["ip_address"]  # raw zone: the full original row
    negative = next(r for r in quarantined["rows"] if r["transaction_id"] == "B-negative")
    assert negative["amount"] == "-5.00" and negative["Op"] == "I" and negative["run_id"]


def test_valid_rows_pass_whatever_the_physical_types_and_drift_is_reported(quarantined):
    curated = {r.transaction_id: r for r in quarantined["curated"]}
    assert sorted(curated) == ["OK-lob-short", "OK1", "OK2", "OK3", "OK4"]
    assert curated["OK2"].amount == Decimal("10.50")
    m = quarantined["manifest"]
    assert m["quarantined_total"] == 12 == m["quarantine_rows_written"]
    assert m["quarantined"]["non_positive:amount"] == 2
    assert m["rows_read_total"] == 17 and m["inserted"] == 5
    assert any("loyalty_tier" in n and "ignored" in n for n in m["schema_notes"])
    assert any("memo" in n and "null" in n for n in m["schema_notes"])


def test_a_file_lacking_a_required_column_is_set_aside_and_the_rest_curated(spark, zones, bank):
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "EXT-1"), "I", T0)])
    zones.raw.cdc("transactions", [change(bank.transaction("T2", T0, "A1", "EXT-1"), "I", T0)],
                  "2024/03/01", "20240301-1000", drop=("currency",))
    manifest = zones.run(spark)["tables"]["transactions"]
    assert manifest["files_set_aside"] == {"2024/03/01/20240301-1000.parquet": "lacks required column(s) currency"}
    assert manifest["inserted"] == 1 and manifest["rows_read_total"] == 1


def test_a_poison_file_never_blocks_later_runs(spark, zones, bank):
    """A corrupt file is set aside with its reason, the good ones are curated, and the next run
    (with new data) neither fails on it nor reads it again; it stays in the raw zone."""
    zones.raw.load("customers", [change(bank.customer("C1"), "I", T0)])
    bad = zones.raw.root / "dms/core/transactions/2024/03/01/20240301-0900.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 this is not parquet")
    first = zones.run(spark)["tables"]
    [(name, reason)] = first["transactions"]["files_set_aside"].items()
    assert name == "2024/03/01/20240301-0900.parquet" and reason.startswith("cannot read Parquet file")
    assert first["customers"]["inserted"] == 1
    zones.raw.cdc("transactions", [change(bank.transaction("T2", T0, "A1", "EXT-1"), "I", T0)],
                  "2024/03/01", "20240301-1000")
    second = zones.run(spark)["tables"]["transactions"]
    assert second["files_set_aside"] == {} and second["files_read"] == 1 and second["inserted"] == 1
    assert bad.exists()


def test_empty_input_is_a_clean_no_op(spark, zones):
    manifest = zones.run(spark)
    assert manifest["reconciled"] is True
    assert all(t["files_read"] == 0 and t["rows_written"] == 0 for t in manifest["tables"].values())
    assert not [p for p in zones.curated.rglob("*.parquet")]
    assert not zones.quarantine.exists()


def test_a_state_of_another_format_stops_the_run_before_merging_into_it(spark, zones, bank):
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "EXT-1"), "I", T0)])
    zones.run(spark)
    processed = zones.curated / "_job_state" / "processed_files.json"
    assert '"state_format": 2' in processed.read_text()
    processed.write_text('{"tables": {"transactions": ["/LOAD00000001.parquet"]}}')  # as written before format 2
    processed.with_name(f".{processed.name}.crc").unlink()  # Hadoop's checksum of what the job wrote
    zones.raw.cdc("transactions", [change(bank.transaction("T2", T0, "A1", "EXT-1"), "I", T0)],
                  "2024/03/01", "20240301-1000")
    with pytest.raises(CurationError, match=r"processed_files\.json: job state of format 1, but this job reads "
                                            r"format 2; curate the raw zone again into an empty curated path"):
        zones.run(spark)


@pytest.mark.timeout(180)  # the failure this guards against is a wait without end
def test_batches_of_only_invalid_rows_are_quarantined_and_change_no_state(spark, zones, bank):
    """With and without state: every row refused must still be counted (a run once waited for
    ever on those counts when no row reached the merge)."""
    unlisted = "ZZZ"  # a well-formed currency code the reference data does not list

    def tx(key, op, day, **values):
        return change(bank.transaction(key, T0, "A1", "EXT-1", **values), op, T0 + timedelta(hours=day))

    zones.raw.load("transactions", [tx("T0", "I", 0, currency=unlisted)])
    first = zones.run(spark)["tables"]["transactions"]
    assert first["quarantined"] == {"unknown_value:currency": 1} and first["rows_written"] == 0
    assert not list(zones.curated.rglob("*.parquet"))
    zones.raw.cdc("transactions", [tx("T1", "I", 1)], "2024/03/01", "20240301-1000")
    zones.run(spark)
    before = {p: p.read_bytes() for p in (zones.curated / "transactions").rglob("*.parquet")}
    zones.raw.cdc("transactions", [tx("T1", "U", 2, currency=unlisted), tx("T2", "I", 2, amount="-1.00")],
                  "2024/03/01", "20240301-1100")
    later = zones.run(spark)["tables"]["transactions"]
    assert later["quarantined"] == {"unknown_value:currency": 1, "non_positive:amount": 1}
    assert later["rows_read"] == {"U": 1, "I": 1} and later["rows_written"] == 0
    assert later["partitions_touched"] == []
    assert {p: p.read_bytes() for p in (zones.curated / "transactions").rglob("*.parquet")} == before


def test_booleans_arrive_as_dms_strings_and_are_curated_as_booleans(spark, tmp_path):
    """DMS maps PostgreSQL boolean to STRING(5): the raw zone holds "true"/"false"."""
    from glue_dms_fixtures import Bank, make_zones

    bank, zones = Bank(seed=9), make_zones(tmp_path)
    zones.raw.load("customers", [change(bank.customer("C1", is_pep=True), "I", T0),
                                 change(bank.customer("C2", is_pep=False), "I", T0),
                                 change(bank.customer("C3") | {"is_pep": "maybe"}, "I", T0)])
    raw = pq.read_table(zones.raw.files[-1])
    assert raw.schema.field("is_pep").type == "string"
    assert raw.column("is_pep").to_pylist() == ["true", "false", "maybe"]
    zones.run(spark)
    curated = {r.customer_pid: r.is_pep for r in spark.read.parquet(str(zones.curated / "customers")).collect()}
    assert sorted(curated.values()) == [False, True]
    refused = pq.read_table(zones.quarantine / "customers").to_pylist()
    assert [r["quarantine_reason"] for r in refused] == ["invalid_boolean:is_pep"]
