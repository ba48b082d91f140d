"""Segment-relative amount floors: the statistics' definition and how a rule applies them."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from aml_contract import reference, rules, segments


def _params(min_transactions=3, percentiles=(50, 90)):
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["segments"] = {"statistics_days": 60, "min_transactions": min_transactions, "percentiles": list(percentiles)}
    for body in raw["rules"].values():  # keep the rules' levels within the published ones
        for name in [k for k in body if k.endswith("_percentile")]:
            body[name] = 90
    return rules.parse(raw)


def test_nearest_rank_is_an_amount_actually_booked():
    values = [Decimal(v) for v in ("1", "2", "3", "4", "10")]
    assert [segments.nearest_rank(values, p) for p in (1, 20, 21, 50, 80, 81, 100)] == \
        [Decimal(v) for v in ("1", "1", "2", "3", "4", "10", "10")]


def test_statistics_rows_fall_back_to_the_bank_for_a_small_segment():
    params = _params(min_transactions=3)
    sides = [("KE", Decimal(v)) for v in ("5", "6", "7", "8")] + [("US", Decimal("9000")), (None, Decimal("100"))]
    rows = segments.statistics_rows(sides, params, window_start=date(2026, 1, 1), window_end=date(2026, 2, 28))
    by = {(r["segment"], r["percentile"]): r for r in rows}
    assert set(by) == {(s, p) for s in ("*", "KE", "US") for p in (50, 90)}
    assert by["KE", 50]["amount_base"] == "6.00" and by["KE", 90]["basis"] == "segment"
    assert by["US", 90] | {} == {**by["US", 90], "basis": "bank", "amounts": 1, "amount_base": "9000.00"}
    assert by["*", 50]["amount_base"] == "7.00" and by["*", 50]["amounts"] == 6
    objects = reference.encode(segments.DATASET, rows, version="2026-02-28", source="test",
                               coverage_start=date(2026, 1, 1), coverage_end=date(2026, 2, 28),
                               review_by=date(2026, 3, 2))
    assert set(objects) == {"statistics/segment_amounts/segment_amounts.jsonl.gz",
                            "statistics/segment_amounts/_manifest.json"}
    floors = segments.SegmentFloors.read(objects.__getitem__)
    assert floors.percentile_amount("KE", 90) == Decimal(8) and floors.manifest.rows == len(rows)


def test_a_segment_relative_floor_fires_for_a_small_value_economy_and_not_a_large_one():
    params = _params(min_transactions=2)
    small = [("KE", Decimal(v)) for v in (40, 55, 60, 80, 300, 450, 600)]
    large = [("US", Decimal(v)) for v in (2000, 8000, 12000, 25000, 40000, 90000, 150000)]
    floors = segments.SegmentFloors.from_rows(segments.statistics_rows(
        small + large, params, window_start=date(2026, 1, 1), window_end=date(2026, 2, 28)))
    rule = params.rule("rapid_movement")  # min_inflow 5000, min_inflow_percentile 90
    inflow = Decimal(700)
    assert floors.floor(rule, "min_inflow", ["KE"]) == Decimal(600) <= inflow  # fires: large for Kenya
    assert floors.floor(rule, "min_inflow", ["US"]) == Decimal(5000) > inflow  # quiet: never above the absolute floor
    assert floors.floor(rule, "min_inflow", ["US", "KE"]) == Decimal(600)  # a window's lowest
    assert floors.floor(rule, "min_inflow", ["NZ"]) == floors.floor(rule, "min_inflow", [None]) == Decimal(5000)
    # a regulatory threshold has no percentile: absolute whatever the segment
    assert floors.floor(params.rule("large_cash"), "threshold", ["KE"]) == Decimal(10000)
    assert segments.SegmentFloors({}).floor(rule, "min_inflow", ["KE"]) == Decimal(5000)  # nothing published


def test_nothing_published_reads_as_absolute_floors_and_a_broken_dataset_is_an_error():
    assert segments.SegmentFloors.read({}.__getitem__).amounts == {}
    rows = [{"segment": "*", "percentile": 50, "amount_base": "1.00", "amounts": 1, "basis": "segment",
             "window_start": "2026-01-01", "window_end": "2026-01-01"}]
    objects = reference.encode(segments.DATASET, rows, version="v", source="s", coverage_start=date(2026, 1, 1),
                               coverage_end=date(2026, 1, 1), review_by=date(2026, 1, 3))
    objects[reference.data_key(segments.DATASET)] += b"x"
    with pytest.raises(reference.ReferenceDataError, match="SHA-256"):
        segments.SegmentFloors.read(objects.__getitem__)


def test_a_percentile_must_be_published_and_sit_beside_its_absolute_floor():
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["rules"]["rapid_movement"]["min_inflow_percentile"] = 42
    with pytest.raises(ValueError, match="min_inflow_percentile"):
        rules.parse(raw)
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["rules"]["rapid_movement"]["nothing_percentile"] = 90
    with pytest.raises(ValueError, match="nothing_percentile"):
        rules.parse(raw)
