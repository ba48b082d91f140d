"""The segment statistics the job publishes after a run (glue_jobs.curation.segment_statistics):
equal to the contract's reference computation (aml_contract.segments.statistics_rows) on the same
transactions, over the merged state and the data-time window, published in the reference layout
under statistics/ with the manifest written last, and recorded in the run manifest."""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from glue_dms_fixtures import NOW, T0, Bank, change, make_zones

from aml_contract import reference, segments
from aml_contract.pseudonym import key_from_env
from aml_contract.segments import SegmentFloors
from glue_jobs.curation import segment_statistics, storage
from glue_jobs.curation.columns import curated_schema
from glue_jobs.curation.job import run_curation

DAYS = 3  # statistics_days here: the window is 03-03..03-05, the last dt the curated zone holds
MIN_TRANSACTIONS = 5  # KE (8 amounts) keeps its own percentiles, NG (2) takes the bank's
OURS = ("A-KE", "A-NG", "A-US", "A-GB")
DAY = [T0 + timedelta(days=i) for i in range(5)]  # 03-01 .. 03-05
START, END = DAY[2].date(), DAY[4].date()


@pytest.fixture(scope="module")
def params():
    loaded = segment_statistics.parameters()
    return dataclasses.replace(loaded, segments=dataclasses.replace(
        loaded.segments, statistics_days=DAYS, min_transactions=MIN_TRANSACTIONS))


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory, params):
    """Two runs: a full load, then a CDC batch that adds a transaction on a later day and reverses
    one of the first run's (the statistics describe the merged state). Returns the manifests, the
    storage accesses of the second run and the (side country, amount) pairs the reference takes."""
    bank, zones = Bank(seed=22), make_zones(tmp_path_factory.mktemp("segment-statistics"))
    zones.raw.load("customers", [change(bank.customer("C1"), "I", T0)])
    zones.raw.load("accounts", [change(bank.account(a, "C1"), "I", T0) for a in OURS])
    expected: list[tuple[str | None, Decimal]] = []  # what statistics_rows is given
    load, n = [], 0

    def tx(originator, beneficiary, amount, day, o_country="US", b_country="GB", counted=True, **changes):
        nonlocal n
        n += 1
        row = bank.transaction(f"T{n:03d}", day, originator, beneficiary, amount=amount,
                               originator_country=o_country, beneficiary_country=b_country, **changes)
        if counted:
            expected.extend((c, Decimal(amount)) for account, c in ((originator, o_country), (beneficiary, b_country))
                            if account in OURS)
        return row

    # KE: eight amounts, two equal (a tie takes one rank each)
    for i, amount in enumerate(("12.00", "3.50", "7.25", "7.25", "40.00", "1.10", "19.99", "5.00")):
        load.append(tx("A-KE", "EXT-1", amount, DAY[2 + i % 3], o_country="KE"))
    load += [tx("EXT-2", "A-NG", "250.00", DAY[3], b_country="NG"),  # the beneficiary side only
             tx("EXT-2", "A-NG", "90.00", DAY[4], b_country="NG"),
             tx("A-US", "A-GB", "5000.00", DAY[2]),  # both sides ours: US and GB, counted twice
             tx("EXT-4", "EXT-5", "777.00", DAY[3], counted=False),  # neither side ours
             tx("A-US", "EXT-1", "9999.00", DAY[0], counted=False),  # before the window
             tx("A-US", "EXT-1", "8888.00", DAY[3], counted=False, status="reversed"),
             # no amount_base and no reference rate for BTC: unknown, not counted
             tx("A-US", "EXT-1", "0.50", DAY[3], counted=False, currency="BTC", amount_base=None)]
    zones.raw.load("transactions", [change(r, "I", T0) for r in load])
    accesses: list[tuple[str, str]] = []

    def run(observe=None):
        return run_curation(spark, str(zones.raw.root), str(zones.curated), str(zones.quarantine), key_from_env(),
                            now=NOW, observe=observe)

    original = segment_statistics.parameters
    segment_statistics.parameters = lambda: params
    try:
        first = run()
        later = T0 + timedelta(days=5)
        reversed_later = {**load[0], "status": "reversed", "updated_at": later}
        expected.remove(("KE", Decimal("12.00")))
        added = tx("A-KE", "EXT-1", "2.00", DAY[4], o_country="KE")
        zones.raw.cdc("transactions", [change(reversed_later, "U", later), change(added, "I", later)],
                      "2024/03/06", "20240306-090000000000-0000000000000001")
        second = run(lambda kind, path: accesses.append((kind, path)))
    finally:
        segment_statistics.parameters = original
    return {"first": first, "second": second, "accesses": accesses, "expected": expected, "zones": zones}


def test_the_job_publishes_exactly_the_contracts_statistics(published, params):
    manifest, rows = reference.read_dataset(
        lambda key: (published["zones"].curated / key).read_bytes(), segments.DATASET)
    want = segments.statistics_rows(published["expected"], params, window_start=START, window_end=END)
    assert rows == want
    assert {r["segment"]: r["basis"] for r in rows} == {"*": "segment", "KE": "segment", "US": "bank",
                                                         "GB": "bank", "NG": "bank"}
    # the curated table holds 03-01 (outside the window): the window is data time, 3 days to 03-05
    assert (manifest.version, manifest.coverage_start, manifest.coverage_end) == (
        "2024-03-05", "2024-03-03", "2024-03-05")
    assert manifest.review_by == (NOW.date() + timedelta(days=2)).isoformat()
    assert manifest.source.startswith("curated transactions 2024-03-03..2024-03-05, job run ")
    assert manifest.source.endswith(published["second"]["run_id"])


def test_sides_without_a_country_count_for_the_bank_only(spark, params):
    """The contract refuses a blank country, but the computation still follows segments.segment_of
    (null or empty: the bank) rather than publish a segment named "" or null."""
    schema = curated_schema("transactions", with_partition=False)
    sample = [("A", "B", None, "KE", "booked", "10.00"), ("A", None, "", "KE", "booked", "20.00"),
              (None, "B", "US", None, "booked", "30.00"), ("A", "B", "KE", "KE", "booked", "40.00"),
              ("A", "B", "KE", "KE", "reversed", "50.00"), ("A", None, "KE", "US", "booked", None)]
    rows = [{**dict.fromkeys(schema.fieldNames()), "originator_customer_pid": o, "beneficiary_customer_pid": b,
             "originator_country": oc, "beneficiary_country": bc, "status": st,
             "amount_base": None if a is None else Decimal(a)} for o, b, oc, bc, st, a in sample]
    frame = spark.createDataFrame(rows, schema)
    found = segment_statistics.picked(segment_statistics.sides(frame), params).collect()
    got = segment_statistics.dataset_rows(found, params, START, END)
    pairs = [(None, Decimal("10.00")), ("KE", Decimal("10.00")), ("", Decimal("20.00")),
             (None, Decimal("30.00")), ("KE", Decimal("40.00")), ("KE", Decimal("40.00"))]
    assert got == segments.statistics_rows(pairs, params, window_start=START, window_end=END)
    assert {r["segment"] for r in got} == {"*", "KE"}


def test_the_rules_read_them_as_floors(published):
    floors = SegmentFloors.read(lambda key: (published["zones"].curated / key).read_bytes())
    assert floors.percentile_amount("KE", 50) == Decimal("5.00")  # 1.10 2.00 3.50 5.00 7.25 7.25 19.99 40.00
    assert floors.percentile_amount("NG", 50) == floors.percentile_amount(None, 50)


def test_the_run_manifest_records_them(published):
    assert published["second"]["segment_statistics"] == {
        "published": True, "dataset": "segment_amounts", "version": "2024-03-05", "rows": 25,
        "window_start": "2024-03-03", "window_end": "2024-03-05", "segments": 5, "fallback_segments": 3}


def test_the_manifest_is_written_last_and_nothing_else_under_statistics(published):
    root = str(published["zones"].curated.resolve())
    relative = [(kind, path.removeprefix("file:").removeprefix(root + "/")) for kind, path in published["accesses"]]
    touched = [(kind, key) for kind, key in relative if key.startswith("statistics")]
    assert touched == [(storage.WRITE, reference.data_key(segments.DATASET)),
                       (storage.WRITE, reference.manifest_key(segments.DATASET))]


def test_nothing_to_publish_publishes_nothing(spark, tmp_path):
    bank, zones = Bank(seed=23), make_zones(tmp_path)
    zones.raw.load("customers", [change(bank.customer("C1"), "I", T0)])
    zones.raw.load("accounts", [change(bank.account("A1", "C1"), "I", T0)])
    zones.raw.load("transactions", [change(bank.transaction("T1", T0, "A1", "X", status="reversed"), "I", T0)])
    manifest = run_curation(spark, str(zones.raw.root), str(zones.curated), str(zones.quarantine), key_from_env(),
                            now=NOW)
    assert manifest["segment_statistics"]["published"] is False
    assert "no booked transaction" in manifest["segment_statistics"]["reason"]
    assert not (zones.curated / "statistics").exists()
