"""scatter_gather on a small bank: a source pays intermediaries that each pass the money on to one
sink. Every threshold has a pattern that meets it and a near miss that fails it by a clear margin:
one intermediary short, too little gathered, a payment a cent under the floor, a gathered payment
outside the window or before the scatter it follows, the sink being the source; and the segment
floors, on the side of each end account."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import publish_statistics

from aml.query.run import execute
from aml_contract import rules

RULE = rules.load().rule("scatter_gather")
DAYS = 40
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
FLOOR = float(RULE["min_amount"])


def scatter_gather(b: BankBuilder, tag: str, legs: list[tuple[float, float, float, float]], *,
                   source_ours: bool = True, sink_ours: bool = True, sink: str | None = None) -> tuple[str, str]:
    """Source S{tag} pays intermediary k `legs[k][0]` on day legs[k][1]; k pays the sink legs[k][2] on
    day legs[k][3]. (source, sink) account ids."""
    source = b.own(f"S{tag}") if source_ours else f"XS{tag}"
    sink = sink or (b.own(f"T{tag}") if sink_ours else f"XT{tag}")
    for k, (scattered, scattered_day, gathered, gathered_day) in enumerate(legs):
        middle = f"I{tag}{k}"
        b.tx(source, middle, scattered, scattered_day)
        b.tx(middle, sink, gathered, gathered_day)
    return source, sink


def legs(n: int = 3, scattered: float = 5_000.0, gathered: float = 4_800.0, day: float = 5.0, delay: float = 2.0):
    return [(scattered, day + k * 0.1, gathered, day + delay + k * 0.1) for k in range(n)]


@pytest.fixture(scope="module")
def run(make_zone, tmp_path_factory):
    b = BankBuilder()
    hits, misses = {}, {}
    hits["plain"] = scatter_gather(b, "P", legs())
    hits["outside_source"] = scatter_gather(b, "O", legs(day=6.0), source_ours=False)
    hits["four_slow"] = scatter_gather(b, "F", legs(4, day=7.0, delay=RULE["window_days"] - 1.0))
    hits["at_the_ratio"] = scatter_gather(b, "R", legs(gathered=5_000.0 * RULE["min_gathered_ratio"], day=8.0))
    misses["one_intermediary_short"] = scatter_gather(b, "N1", legs(RULE["min_intermediaries"] - 1, day=9.0))
    misses["gathered_below_ratio"] = scatter_gather(b, "N2", legs(gathered=2_000.0, day=10.0))
    misses["a_cent_under_the_floor"] = scatter_gather(
        b, "N3", [(FLOOR - 0.01, 11.0, 4_800.0, 12.0), *legs(2, day=11.1)])
    misses["gathered_under_the_floor"] = scatter_gather(
        b, "N4", [(5_000.0, 13.0, FLOOR - 0.01, 14.0), *legs(2, day=13.1)])
    misses["gathered_outside_the_window"] = scatter_gather(
        b, "N5", [(5_000.0, 15.0, 4_800.0, 15.0 + RULE["window_days"] + 0.5), *legs(2, day=15.1)])
    misses["gathered_before_scattered"] = scatter_gather(b, "N6", [(5_000.0, 17.0, 4_800.0, 16.5), *legs(2, day=17.1)])
    source = b.own("SN7")
    misses["sink_is_the_source"] = scatter_gather(b, "N7", legs(day=19.0), sink=source)
    # every intermediary pays a different sink: a fan-out, no gather
    misses["different_sinks"] = tuple(scatter_gather(b, f"N8{k}", legs(1, day=21.0)) for k in range(3))
    root = tmp_path_factory.mktemp("scatter_gather")
    make_zone(b, root)
    return execute("scatter_gather", FULL, data_dir=root).frame, hits, misses


def at(day: float):
    """The naive UTC timestamp a result column holds for `day` days after START."""
    return (START + timedelta(days=day)).replace(tzinfo=None)


def _rows(frame, pid, account, role):
    return frame[(frame.subject_account_pid == pid(account)) & (frame.role == role)]


@pytest.mark.parametrize("case", ["plain", "four_slow", "at_the_ratio"])
def test_source_and_sink_are_flagged(run, pid, case):
    frame, hits, _ = run
    source, sink = hits[case]
    assert len(_rows(frame, pid, source, "source")) == 1
    assert len(_rows(frame, pid, sink, "sink")) == 1


def test_an_outside_source_flags_the_sink_only(run, pid):
    frame, hits, _ = run
    source, sink = hits["outside_source"]
    assert pid(source) not in set(frame.subject_account_pid)
    assert len(_rows(frame, pid, sink, "sink")) == 1


def test_the_row_describes_the_pattern(run, pid):
    frame, hits, _ = run
    source, sink = hits["plain"]
    row = _rows(frame, pid, source, "source").iloc[0]
    assert row.counterpart_account_pid == pid(sink)
    assert row.intermediaries == 3 and float(row.scattered_amount) == 15_000 and float(row.gathered_amount) == 14_400
    assert (row.first_at, row.last_at) == (at(5.0), at(7.2))
    assert float(row.amount_floor) == FLOOR  # no statistics published: the USD floor
    assert row.qualifying_windows >= 1
    assert _rows(frame, pid, sink, "sink").iloc[0].counterpart_account_pid == pid(source)
    assert _rows(frame, pid, hits["four_slow"][0], "source").iloc[0].intermediaries == 4


@pytest.mark.parametrize("case", ["one_intermediary_short", "gathered_below_ratio", "a_cent_under_the_floor",
                                  "gathered_under_the_floor", "gathered_outside_the_window",
                                  "gathered_before_scattered", "sink_is_the_source", "different_sinks"])
def test_near_misses_are_not_flagged(run, pid, case):
    frame, _, misses = run
    pairs = misses[case] if isinstance(misses[case][0], tuple) else (misses[case],)
    flagged = set(frame.subject_account_pid)
    for source, sink in pairs:
        assert not {pid(source), pid(sink)} & flagged, case


def test_only_the_patterns_are_flagged(run, pid):
    frame, hits, _ = run
    expected = {pid(a) for s, t in hits.values() for a in (s, t) if not a.startswith("X")}
    assert set(frame.subject_account_pid) == expected


@pytest.fixture(scope="module")
def segments_run(make_zone, tmp_path_factory):
    """The same small amounts (below the USD floor) in a small-value economy (KE, p95 238 USD) and a
    large one (US), with the segment statistics published."""
    b = BankBuilder()
    cases = {}
    for country in ("KE", "US"):
        source, sink = b.own(f"S{country}"), b.own(f"T{country}")
        for k in range(3):
            b.tx(source, f"I{country}{k}", 500.0, 5.0 + k * 0.1, src_country=country, dst_country=country)
            b.tx(f"I{country}{k}", sink, 450.0, 7.0 + k * 0.1, src_country=country, dst_country=country)
        cases[country] = (source, sink)
    # a KE source whose sink is booked in the US: the gathered payments meet the sink's (US) floor
    source, sink = b.own("SKU"), b.own("TKU")
    for k in range(3):
        b.tx(source, f"IKU{k}", 500.0, 5.0 + k * 0.1, src_country="KE", dst_country="KE")
        b.tx(f"IKU{k}", sink, 450.0, 7.0 + k * 0.1, src_country="KE", dst_country="US")
    cases["KE_to_US"] = (source, sink)
    root = tmp_path_factory.mktemp("scatter_gather_segments")
    make_zone(b, root)
    floors = publish_statistics(root)
    return execute("scatter_gather", FULL, data_dir=root).frame, cases, floors


def test_segment_floors_apply_on_each_end_accounts_side(segments_run, pid):
    frame, cases, floors = segments_run
    flagged = set(frame.subject_account_pid)
    assert {pid(a) for a in cases["KE"]} <= flagged
    assert not {pid(a) for a in cases["US"] + cases["KE_to_US"]} & flagged
    row = _rows(frame, pid, cases["KE"][0], "source").iloc[0]
    assert Decimal(str(row.amount_floor)) == floors.floor(RULE, "min_amount", ["KE"]) == Decimal(238)
