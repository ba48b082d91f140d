"""gather_scatter on a small bank: a hub of ours collects from several sources, then pays several
other destinations. Every threshold has a hub that meets it and a near miss that fails it by a clear
margin: one source or destination short, too little passed on, a payment a cent under the floor, a
payment out outside the window or before anything came in, destinations that paid the hub; and the
segment floors, on the hub's side."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import publish_statistics

from aml.query.run import execute
from aml_contract import rules

RULE = rules.load().rule("gather_scatter")
DAYS = 40
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
FLOOR = float(RULE["min_amount"])
WINDOW = float(RULE["window_days"])


def gather_scatter(b: BankBuilder, tag: str, inflows: list[tuple[float, float]], outflows: list[tuple[float, float]],
                   *, destinations: list[str] | None = None) -> str:
    """Hub H{tag} is paid (amount, day) by one source each, then pays (amount, day) to one destination
    each (by default new accounts D{tag}k). The hub's account id."""
    hub = b.own(f"H{tag}")
    for k, (amount, day) in enumerate(inflows):
        b.tx(f"G{tag}{k}", hub, amount, day)
    for k, (amount, day) in enumerate(outflows):
        b.tx(hub, destinations[k] if destinations else f"D{tag}{k}", amount, day)
    return hub


def legs(n: int = 3, amount: float = 5_000.0, day: float = 5.0) -> list[tuple[float, float]]:
    return [(amount, day + k * 0.2) for k in range(n)]


@pytest.fixture(scope="module")
def run(make_zone, tmp_path_factory):
    b = BankBuilder()
    hits, misses = {}, {}
    hits["plain"] = gather_scatter(b, "P", legs(), legs(amount=4_500.0, day=7.0))
    hits["at_the_ratio"] = gather_scatter(b, "R", legs(day=8.0), legs(amount=5_000.0 * RULE["min_outflow_ratio"], day=9.0))
    hits["slow"] = gather_scatter(b, "S", legs(4, day=10.0), legs(4, amount=4_000.0, day=10.0 + WINDOW - 1.0))
    misses["one_source_short"] = gather_scatter(b, "N1", legs(RULE["min_sources"] - 1, day=11.0),
                                                legs(amount=3_000.0, day=12.0))
    misses["one_destination_short"] = gather_scatter(b, "N2", legs(day=13.0),
                                                     legs(RULE["min_destinations"] - 1, amount=6_000.0, day=14.0))
    misses["too_little_passed_on"] = gather_scatter(b, "N3", legs(day=15.0), legs(amount=2_000.0, day=16.0))
    misses["a_cent_under_the_floor_in"] = gather_scatter(b, "N4", [(FLOOR - 0.01, 17.0), *legs(2, day=17.1)],
                                                         legs(amount=4_500.0, day=18.0))
    misses["a_cent_under_the_floor_out"] = gather_scatter(b, "N5", legs(day=19.0),
                                                          [(FLOOR - 0.01, 20.0), *legs(2, amount=4_500.0, day=20.1)])
    misses["out_outside_the_window"] = gather_scatter(b, "N6", legs(day=21.0),
                                                      [(4_500.0, 21.0 + WINDOW + 0.5), *legs(2, amount=4_500.0, day=22.0)])
    misses["out_before_in"] = gather_scatter(b, "N7", legs(day=24.0), [(4_500.0, 23.0), *legs(2, amount=4_500.0, day=25.0)])
    misses["destinations_are_sources"] = gather_scatter(b, "N8", legs(day=27.0), legs(amount=4_500.0, day=28.0),
                                                        destinations=[f"GN8{k}" for k in range(3)])
    root = tmp_path_factory.mktemp("gather_scatter")
    make_zone(b, root)
    return execute("gather_scatter", FULL, data_dir=root).frame.set_index("subject_account_pid"), hits, misses


@pytest.mark.parametrize("case", ["plain", "at_the_ratio", "slow"])
def test_hub_is_flagged(run, pid, case):
    frame, hits, _ = run
    assert pid(hits[case]) in frame.index


def test_the_row_describes_the_pattern(run, pid):
    frame, hits, _ = run
    row = frame.loc[pid(hits["plain"])]
    assert (row.sources, row.destinations) == (3, 3)
    assert (float(row.inflow_amount), float(row.outflow_amount)) == (15_000, 13_500)
    assert float(row.amount_floor) == FLOOR and row.qualifying_windows >= 1
    assert frame.loc[pid(hits["slow"])].destinations == 4


@pytest.mark.parametrize("case", ["one_source_short", "one_destination_short", "too_little_passed_on",
                                  "a_cent_under_the_floor_in", "a_cent_under_the_floor_out",
                                  "out_outside_the_window", "out_before_in", "destinations_are_sources"])
def test_near_misses_are_not_flagged(run, pid, case):
    frame, _, misses = run
    assert pid(misses[case]) not in frame.index, case


def test_only_the_hubs_are_flagged(run, pid):
    frame, hits, _ = run
    assert set(frame.index) == {pid(h) for h in hits.values()}


@pytest.fixture(scope="module")
def segments_run(make_zone, tmp_path_factory):
    """The same small amounts (below the USD floor) through a hub booked in a small-value economy (KE,
    p95 238 USD) and one in a large one (US), with the segment statistics published."""
    b = BankBuilder()
    hubs = {}
    for country in ("KE", "US"):
        hub = hubs[country] = b.own(f"H{country}")
        for k in range(3):
            b.tx(f"G{country}{k}", hub, 500.0, 5.0 + k * 0.1, src_country=country, dst_country=country)
            b.tx(hub, f"D{country}{k}", 450.0, 7.0 + k * 0.1, src_country=country, dst_country=country)
    root = tmp_path_factory.mktemp("gather_scatter_segments")
    make_zone(b, root)
    floors = publish_statistics(root)
    return execute("gather_scatter", FULL, data_dir=root).frame.set_index("subject_account_pid"), hubs, floors


def test_segment_floors_apply_on_the_hubs_side(segments_run, pid):
    frame, hubs, floors = segments_run
    assert set(frame.index) == {pid(hubs["KE"])}
    row = frame.loc[pid(hubs["KE"])]
    assert Decimal(str(row.amount_floor)) == floors.floor(RULE, "min_amount", ["KE"]) == Decimal(238)
