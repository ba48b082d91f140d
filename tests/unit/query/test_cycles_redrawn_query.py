"""cycles with re-drawn amounts (redrawn_amounts): ordered hops within the window qualify whatever
their amounts, and amount_pattern tells a cycle that kept its amount from one that re-drew it.
Near misses fail on what still defines a cycle: a hop outside the window, hops out of time order, a
hop a cent under the floor, more hops than max_hops. With redrawn_amounts
off, only the amount-keeping cycle is flagged."""
from __future__ import annotations

import json
import pkgutil
from datetime import timedelta

import pytest
from handmade_bank import START, BankBuilder

from aml.query.catalog import bind
from aml.query.local import LocalEngine
from aml.query.run import execute
from aml_contract import named_queries, rules

RULE = rules.load().rule("cycles")
DAYS = 60
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
FLOOR = float(RULE["min_amount"])
WINDOW = float(RULE["window_days"])


def cycle(b: BankBuilder, tag: str, hops: list[tuple[float, float]], via: list[str] | None = None) -> str:
    """Origin C{tag} (ours) sends hop k (amount, day) to the next account of its path, the last hop
    back to the origin; the path's accounts are V{tag}1.. unless `via` names them. The origin."""
    origin = b.own(f"C{tag}")
    path = [origin, *(via or [f"V{tag}{k}" for k in range(1, len(hops))]), origin]
    for k, (amount, day) in enumerate(hops):
        b.tx(path[k], path[k + 1], amount, day)
    return origin


@pytest.fixture(scope="module")
def zone(make_zone, tmp_path_factory):
    b = BankBuilder()
    hits, misses = {}, {}
    hits["kept"] = cycle(b, "K", [(15_000.0, 2.0), (14_600.0, 3.0), (14_100.0, 4.0)])
    hits["redrawn"] = cycle(b, "R", [(15_000.0, 5.0), (9_000.0, 6.0), (4_000.0, 7.0)])
    hits["redrawn_two_hops"] = cycle(b, "T", [(20_000.0, 8.0), (2_500.0, 8.0 + WINDOW - 0.5)])
    hits["redrawn_five_hops"] = cycle(b, "F", [(12_000.0, 9.0), (3_000.0, 10.0), (7_000.0, 11.0),
                                              (1_500.0, 12.0), (FLOOR, 13.0)])
    misses["hop_outside_the_window"] = cycle(b, "N1", [(15_000.0, 14.0), (9_000.0, 15.0),
                                                       (4_000.0, 14.0 + WINDOW + 0.5)])
    misses["hops_out_of_order"] = cycle(b, "N2", [(15_000.0, 17.0), (9_000.0, 16.5), (4_000.0, 18.0)])
    misses["a_cent_under_the_floor"] = cycle(b, "N3", [(15_000.0, 19.0), (FLOOR - 0.01, 20.0), (4_000.0, 21.0)])
    # a walk through one account twice (C, a, b, a, C) holds the shorter cycle C, a, C: it is flagged as that
    hits["a_shorter_cycle_inside"] = cycle(b, "W", [(15_000.0, 22.0), (9_000.0, 23.0), (6_000.0, 24.0),
                                                (4_000.0, 25.0)], via=["VWa", "VWb", "VWa"])
    misses["six_hops"] = cycle(b, "N5", [(9_000.0 - k * 500, 26.0 + k) for k in range(RULE["max_hops"] + 1)])
    root = tmp_path_factory.mktemp("cycles_redrawn")
    make_zone(b, root)
    return root, hits, misses


@pytest.fixture(scope="module")
def frame(zone):
    return execute("cycles", FULL, data_dir=zone[0]).frame


def test_the_contract_turns_redrawn_amounts_on():
    assert RULE["redrawn_amounts"] is True


@pytest.mark.parametrize(("case", "pattern", "hops"), [("kept", "kept", 3), ("redrawn", "redrawn", 3),
                                                        ("redrawn_two_hops", "redrawn", 2),
                                                        ("redrawn_five_hops", "redrawn", 5)])
def test_ordered_cycles_are_flagged_with_their_amount_pattern(frame, zone, pid, case, pattern, hops):
    rows = frame[frame.subject_account_pid == pid(zone[1][case])]
    assert len(rows) == 1  # one row per cycle
    assert (rows.iloc[0].amount_pattern, rows.iloc[0].hops) == (pattern, hops)


def test_a_walk_through_an_account_twice_is_its_shorter_cycle(frame, zone, pid):
    rows = frame[frame.subject_account_pid == pid(zone[1]["a_shorter_cycle_inside"])]
    assert list(rows.hops) == [2] and list(rows.via_account_pids) == [pid("VWa")]


def test_a_redrawn_row_reports_what_was_sent_and_returned(frame, zone, pid):
    row = frame.set_index("subject_account_pid").loc[pid(zone[1]["redrawn"])]
    assert (float(row.sent_amount), float(row.returned_amount), float(row.amount_floor)) == (15_000, 4_000, FLOOR)


@pytest.mark.parametrize("case", ["hop_outside_the_window", "hops_out_of_order", "a_cent_under_the_floor",
                                  "six_hops"])
def test_near_misses_are_not_flagged(frame, zone, pid, case):
    assert pid(zone[2][case]) not in set(frame.subject_account_pid), case


def test_without_redrawn_amounts_only_the_kept_cycle_qualifies(zone, pid):
    raw = json.loads(pkgutil.get_data("aml_contract", "rule_parameters.json"))
    raw["rules"]["cycles"]["redrawn_amounts"] = False
    query = named_queries.parse(named_queries.QUERIES_DIR / "cycles.sql", rules.parse(raw))
    flagged = set(LocalEngine(zone[0]).run(query, bind(query, FULL)).frame.subject_account_pid)
    hits = zone[1]
    assert pid(hits["kept"]) in flagged
    assert not {pid(hits[c]) for c in ("redrawn", "redrawn_two_hops", "redrawn_five_hops")} & flagged
