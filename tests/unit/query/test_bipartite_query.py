"""bipartite on a small bank: groups of originators paying several of the same beneficiaries. Every
threshold has a group that meets it and a near miss that fails it by a clear margin: one originator
or beneficiary short, one link short on either side, a link broken by a payment a cent under the
floor or by a payment outside the window; and the segment floors, on the payer's side."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import publish_statistics

from aml.query.run import execute
from aml_contract import rules

RULE = rules.load().rule("bipartite")
DAYS = 40
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=DAYS - 1)).date().isoformat()}
FLOOR = float(RULE["min_amount"])
WINDOW = float(RULE["window_days"])
Link = tuple[int, int, float, float]  # (originator index, beneficiary index, amount, day)


def complete(originators: int, beneficiaries: int, day: float, amount: float = 3_000.0) -> list[Link]:
    """Every originator pays every beneficiary once (AMLSim's bipartite)."""
    return [(o, n, amount, day + 0.1 * o + 0.01 * n) for o in range(originators) for n in range(beneficiaries)]


def minimal(day: float, third_second_link: tuple[float, float] | None = None) -> list[Link]:
    """Originators 0 and 1 pay beneficiaries 0-2; originator 2 pays beneficiary 0 and, as given by
    (amount, day), beneficiary 1: every account has exactly the links the rule asks for."""
    links = complete(2, 3, day) + [(2, 0, 3_000.0, day + 0.3)]
    if third_second_link:
        links.append((2, 1, *third_second_link))
    return links


def bipartite(b: BankBuilder, tag: str, links: list[Link], *, originators_ours: bool = True,
              **countries: str) -> tuple[list[str], list[str]]:
    """Book the links between originators O{tag}k and beneficiaries B{tag}k (ours), `countries` the
    payments' src_country/dst_country. The accounts of the group that are ours, (originators, beneficiaries)."""
    def originator(k: int) -> str:
        return f"O{tag}{k}" if originators_ours else f"XO{tag}{k}"

    def beneficiary(k: int) -> str:
        return f"B{tag}{k}"

    for k in sorted({o for o, *_ in links}):
        if originators_ours:
            b.own(originator(k))
    for k in sorted({n for _, n, *_ in links}):
        b.own(beneficiary(k))
    for o, n, amount, day in links:
        b.tx(originator(o), beneficiary(n), amount, day, **countries)
    ours = sorted({originator(o) for o, *_ in links}) if originators_ours else []
    return ours, sorted({beneficiary(n) for _, n, *_ in links})


@pytest.fixture(scope="module")
def run(make_zone, tmp_path_factory):
    b = BankBuilder()
    hits, misses = {}, {}
    hits["complete"] = bipartite(b, "P", complete(3, 3, 2.0))
    hits["larger"] = bipartite(b, "L", complete(4, 3, 4.0))
    hits["outside_originators"] = bipartite(b, "X", complete(3, 3, 6.0), originators_ours=False)
    hits["minimal"] = bipartite(b, "M", minimal(8.0, (3_000.0, 8.0 + WINDOW - 0.5)))
    hits["at_the_floor"] = bipartite(b, "F", minimal(10.0, (FLOOR, 10.5)))
    misses["one_originator_short"] = bipartite(b, "N1", complete(RULE["min_originators"] - 1, 3, 12.0))
    misses["one_beneficiary_short"] = bipartite(b, "N2", complete(3, RULE["min_beneficiaries"] - 1, 14.0))
    misses["originator_one_link_short"] = bipartite(b, "N3", minimal(16.0))
    misses["beneficiary_one_link_short"] = bipartite(b, "N4", complete(3, 2, 18.0) + [(0, 2, 3_000.0, 18.5)])
    misses["a_cent_under_the_floor"] = bipartite(b, "N5", minimal(20.0, (FLOOR - 0.01, 20.5)))
    misses["link_outside_the_window"] = bipartite(b, "N6", minimal(22.0, (3_000.0, 22.0 + WINDOW + 0.5)))
    root = tmp_path_factory.mktemp("bipartite")
    make_zone(b, root)
    return execute("bipartite", FULL, data_dir=root).frame, hits, misses


def _subjects(frame) -> dict[str, str]:
    return dict(zip(frame.subject_account_pid, frame.role, strict=True))


@pytest.mark.parametrize("case", ["complete", "larger", "outside_originators", "minimal", "at_the_floor"])
def test_every_member_of_ours_is_flagged_with_its_role(run, pid, case):
    frame, hits, _ = run
    flagged = _subjects(frame)
    originators, beneficiaries = hits[case]
    assert {pid(a): "originator" for a in originators}.items() <= flagged.items()
    assert {pid(a): "beneficiary" for a in beneficiaries}.items() <= flagged.items()


def test_the_row_describes_the_group(run, pid):
    frame, hits, _ = run
    rows = frame.set_index("subject_account_pid")
    row = rows.loc[pid(hits["complete"][0][0])]
    assert (row.originators, row.beneficiaries, row.group_links, row.links) == (3, 3, 9, 3)
    assert float(row.group_amount) == 27_000 and float(row.amount_floor) == FLOOR
    assert row.seed_account_pid in {pid(a) for a in hits["complete"][1]}
    larger = rows.loc[pid(hits["larger"][1][0])]
    assert (larger.originators, larger.beneficiaries, larger.links) == (4, 3, 4)
    minimal = rows.loc[pid(hits["minimal"][0][2])]
    assert (minimal.originators, minimal.beneficiaries, minimal.group_links, minimal.links) == (3, 3, 8, 2)


@pytest.mark.parametrize("case", ["one_originator_short", "one_beneficiary_short", "originator_one_link_short",
                                  "beneficiary_one_link_short", "a_cent_under_the_floor", "link_outside_the_window"])
def test_near_misses_are_not_flagged(run, pid, case):
    frame, _, misses = run
    originators, beneficiaries = misses[case]
    assert not {pid(a) for a in originators + beneficiaries} & set(frame.subject_account_pid), case


def test_only_the_groups_are_flagged(run, pid):
    frame, hits, _ = run
    assert set(frame.subject_account_pid) == {pid(a) for o, n in hits.values() for a in o + n}
    assert frame.subject_account_pid.is_unique  # no account is both an originator and a beneficiary here


@pytest.fixture(scope="module")
def segments_run(make_zone, tmp_path_factory):
    """The same small amounts (below the USD floor) paid by originators booked in a small-value economy
    (KE, p95 238 USD) and in a large one (US), to beneficiaries in the other, statistics published."""
    b = BankBuilder()
    groups = {country: bipartite(b, country, complete(3, 3, 5.0, amount=500.0), src_country=country, dst_country=other)
              for country, other in (("KE", "US"), ("US", "KE"))}
    root = tmp_path_factory.mktemp("bipartite_segments")
    make_zone(b, root)
    floors = publish_statistics(root)
    return execute("bipartite", FULL, data_dir=root).frame, groups, floors


def test_segment_floors_apply_on_the_payers_side(segments_run, pid):
    frame, groups, floors = segments_run
    assert set(frame.subject_account_pid) == {pid(a) for a in groups["KE"][0] + groups["KE"][1]}
    assert {Decimal(str(f)) for f in frame.amount_floor} == {floors.floor(RULE, "min_amount", ["KE"])} == {Decimal(238)}
