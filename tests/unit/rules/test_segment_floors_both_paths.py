"""Issue 22: the same transactions through both paths (the rules Lambda's code with the published
segment statistics, and the named query on the local engine over the curated zone holding the
same statistics) give the same answer: a segment floor fires in a small-value economy and stays
quiet in a large one, and a floor set by a segment's percentile is exact to the cent."""
from __future__ import annotations

from datetime import date
from datetime import timedelta as td
from decimal import Decimal

import pytest
from lambda_harness import reference_objects
from rule_runner import run, tx
from test_threshold_boundaries import KEY, SUBJECT, source_frames

from aml.query import curate
from aml.query.local import LocalEngine
from aml_contract import named_queries, pseudonym, reference, rules, segments
from aml_contract.reference import ReferenceData

SMALL, LARGE = "MW", "CH"  # Malawi: every percentile 612.50 USD; Switzerland: 50,000
FLOOR = Decimal("612.50")
GREY = "KE"  # FATF grey list in force on the rows' dates (rule_runner.T0, 2025-11-03)


def _statistics() -> dict[str, bytes]:
    sides = [(SMALL, FLOOR)] * 250 + [(LARGE, Decimal(50_000))] * 250 + [("US", Decimal(90_000))] * 500
    rows = segments.statistics_rows(sides, rules.load(), window_start=date(2025, 9, 4), window_end=date(2025, 11, 2))
    return reference.encode(segments.DATASET, rows, version="2025-11-02", source="test",
                            coverage_start=date(2025, 9, 4), coverage_end=date(2025, 11, 2), review_by=date(2099, 1, 1))


STATISTICS = _statistics()


def _lambda_flags(rule_id: str, rows: list[dict]) -> bool:
    objects = {**reference_objects(), **STATISTICS}
    ref = ReferenceData(objects.__getitem__)
    txs = [tx(tid=f"T{i:04d}", reference=ref, **r) for i, r in enumerate(rows)]
    return bool(run(txs, SUBJECT, rule_id=rule_id))


def _query_flags(rule_id: str, rows: list[dict], data_dir) -> bool:
    frames = curate.curate(*source_frames(rows), KEY)
    curate.write(frames, data_dir)
    for key, body in STATISTICS.items():
        (data_dir / key).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / key).write_bytes(body)
    days = frames["transactions"]["dt"]
    [query] = [q for q in named_queries.load_all() if q.name == rule_id]
    result = LocalEngine(data_dir).run(query, {"start_date": days.min(), "end_date": days.max()})
    return pseudonym.pseudonymise(SUBJECT, KEY) in set(result.frame["subject_account_pid"])


def _at(country: str, **row) -> dict:
    """A row whose both sides are booked in `country` unless it says otherwise."""
    return {"originator_country": country, "beneficiary_country": country, **row}


def _rows(rule_id: str, amount: str, country: str) -> list[dict]:
    if rule_id == "rapid_movement":  # in, then 100% out an hour later
        return [_at(country, orig="X", benef=SUBJECT, amount=amount),
                _at(country, orig=SUBJECT, benef="Y", amount=amount, at=td(hours=1))]
    if rule_id == "high_risk_jurisdiction":  # a payment to the grey list from the account's side
        return [_at(country, orig=SUBJECT, benef="Y", amount=amount, beneficiary_country=GREY)]
    if rule_id == "dormant_reactivation":  # 100 days silent, then one payment
        return [_at(country, orig=SUBJECT, benef="Y", amount="10"),
                _at(country, orig=SUBJECT, benef="Y", amount=amount, at=td(days=100))]
    if rule_id == "velocity_spike":  # 30 days of 10 a day, then the day
        return [*[_at(country, orig="X", benef=SUBJECT, amount="10", at=td(days=d)) for d in range(30)],
                _at(country, orig=SUBJECT, benef="Y", amount=amount, at=td(days=31))]
    raise AssertionError(rule_id)


RULES = ("rapid_movement", "high_risk_jurisdiction", "dormant_reactivation", "velocity_spike")


@pytest.mark.parametrize("rule_id", RULES)
@pytest.mark.parametrize(("country", "expected"), ((SMALL, True), (LARGE, False)))
def test_the_same_amount_fires_in_a_small_economy_only_on_both_paths(rule_id, country, expected, tmp_path):
    rows = _rows(rule_id, "1000.00", country)  # below every absolute floor, above Malawi's
    assert (_lambda_flags(rule_id, rows), _query_flags(rule_id, rows, tmp_path)) == (expected, expected)


@pytest.mark.parametrize("rule_id", RULES)
@pytest.mark.parametrize(("amount", "expected"), (("612.49", False), ("612.50", True), ("612.51", True)))
def test_a_segment_floor_is_exact_to_the_cent_on_both_paths(rule_id, amount, expected, tmp_path):
    rows = _rows(rule_id, amount, SMALL)
    assert (_lambda_flags(rule_id, rows), _query_flags(rule_id, rows, tmp_path)) == (expected, expected)
