"""The named queries apply segment-relative amount floors (aml_contract.segments): the same amounts
fire for an account in a small-value economy (KE) and stay quiet for one in a large one (US); with
no statistics published every floor is the absolute USD one; the floor a row reports is the one
SegmentFloors computes."""
from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from handmade_bank import START, BankBuilder
from segment_statistics import SIDES, bare_and_published, publish_statistics

from aml.query.local import LocalEngine
from aml.query.run import execute
from aml_contract import reference, rules, segments

PARAMS = rules.load()
FULL = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=109)).date().isoformat()}
# query -> (its floor parameter, the window it runs on)
QUERIES = {
    "rapid_movement": ("min_inflow", FULL),
    "velocity_spike": ("min_amount", {**FULL, "start_date": (START + timedelta(days=35)).date().isoformat()}),
    "cycles": ("min_amount", FULL),
    "dormant_reactivation": ("min_amount", FULL),
    "high_risk_jurisdiction": ("grey_list_min_amount", FULL),
}


def economy(b: BankBuilder, country: str) -> dict[str, str]:
    """One account per query, every amount booked on the account's side in `country`: the same
    amounts (1,000 USD and less: below every absolute floor) whatever the country."""
    here = {"src_country": country, "dst_country": country}
    accounts = {}
    r = accounts["rapid_movement"] = b.own(f"RM{country}")
    b.tx(f"RMX{country}", r, 1_000.0, 60.1, **here)
    b.tx(r, f"RMY{country}", 900.0, 61.0, **here)
    v = accounts["velocity_spike"] = b.own(f"VS{country}")
    for day in range(40):
        b.tx(v, f"VSM{country}", 10.0, day + 0.2, "card", **here)
    b.tx(f"VSX{country}", v, 1_000.0, 40.5, **here)
    c = accounts["cycles"] = b.own(f"CY{country}")
    b.tx(c, f"CYX1{country}", 1_000.0 - 0.01, 70.0, **here)  # every hop below the 1,000 USD floor
    b.tx(f"CYX1{country}", f"CYX2{country}", 950.0, 71.0, **here)
    b.tx(f"CYX2{country}", c, 900.0, 73.0, **here)
    d = accounts["dormant_reactivation"] = b.own(f"DR{country}")
    b.tx(d, "M1", 42.5, 5.0, "card", **here)
    b.tx(f"DRX{country}", d, 1_000.0, 100.5, **here)
    h = accounts["high_risk_jurisdiction"] = b.own(f"HR{country}")
    b.tx(h, f"HRX{country}", 1_000.0, 80.0, src_country=country, dst_country="VN")  # VN: FATF grey list
    return accounts


def mixed_velocity(b: BankBuilder) -> str:
    """A US account whose spike day sums a US-side inflow and a KE-side payment: the sum's floor is
    the lower of the two (KE's p99), though the US inflow alone stays below its own."""
    v = b.own("VSMIX")
    for day in range(40):
        b.tx("VSMIXM", v, 10.0, day + 0.2, "card")
    b.tx("VSMIXX", v, 600.0, 40.3)
    b.tx(v, "VSMIXY", 500.0, 40.6, src_country="KE")
    return v


@pytest.fixture(scope="module")
def zones(make_zone, tmp_path_factory):
    """(curated zone without statistics, the same with them published, accounts by country)."""
    b = BankBuilder()
    accounts = {country: economy(b, country) for country in ("KE", "US", "NZ")}
    accounts["mixed"] = {"velocity_spike": mixed_velocity(b)}
    bare, published, floors = bare_and_published(make_zone, b, tmp_path_factory, "segments")
    return bare, published, accounts, floors


@pytest.fixture(scope="module")
def bank_statistics_only(zones, tmp_path_factory):
    """The same bank with statistics of KE alone: the whole bank's row "*" is KE's."""
    bare, _, accounts, _ = zones
    root = tmp_path_factory.mktemp("segments_bank_only")
    shutil.copytree(bare, root, dirs_exist_ok=True)
    return root, accounts, publish_statistics(root, [s for s in SIDES if s[0] == "KE"])


def _run(name, root):
    return execute(name, QUERIES[name][1], data_dir=root).frame


@pytest.mark.parametrize("name", QUERIES)
def test_same_amounts_fire_in_a_small_value_economy_only(zones, name, pid):
    _, published, accounts, _ = zones
    hits = set(_run(name, published)["subject_account_pid"])
    assert pid(accounts["KE"][name]) in hits
    assert pid(accounts["US"][name]) not in hits


@pytest.mark.parametrize("name", QUERIES)
def test_nothing_published_applies_the_absolute_floors(zones, name, pid):
    bare, _, accounts, _ = zones
    assert not (bare / reference.table_prefix(segments.DATASET)).exists()
    result = execute(name, QUERIES[name][1], data_dir=bare)
    assert not set(result.frame["subject_account_pid"]) & {pid(accounts[c][name]) for c in ("KE", "US")}
    assert "segment_amounts not published under" in result.summary()  # the analyst is told
    assert "not published" not in execute(name, QUERIES[name][1], data_dir=zones[1]).summary()


@pytest.mark.parametrize("name", QUERIES)
def test_the_reported_floor_is_the_contracts(zones, name, pid):
    _, published, accounts, floors = zones
    parameter = QUERIES[name][0]
    row = _run(name, published).set_index("subject_account_pid").loc[pid(accounts["KE"][name])]
    rule = PARAMS.rule(name)
    expected = floors.floor(rule, parameter, ["KE"])
    assert expected == {95: Decimal(238), 99: Decimal(248)}[rule.percentile(parameter)]
    assert Decimal(str(row.amount_floor)) == expected


def test_statistics_view_has_the_contract_types_published_or_not(zones):
    bare, published, _, _ = zones
    expected = {"segment": "VARCHAR", "percentile": "INTEGER", "amount_base": "DECIMAL(18,2)",
                "amounts": "INTEGER", "basis": "VARCHAR", "window_start": "DATE", "window_end": "DATE"}
    for root, rows in ((bare, 0), (published, 3 * len(PARAMS.segments.percentiles))):
        con = LocalEngine(root)._connect()
        described = {r[0]: r[1] for r in con.execute(f"DESCRIBE {segments.DATASET}").fetchall()}
        assert [n for n, _ in reference.COLUMNS[segments.DATASET]] == list(described)
        assert described == expected
        assert con.execute(f"SELECT COUNT(*) FROM {segments.DATASET}").fetchone()[0] == rows
        con.close()


@pytest.mark.parametrize("name", QUERIES)
def test_a_segment_never_seen_takes_the_whole_banks(zones, bank_statistics_only, name, pid):
    _, published, _, _ = zones
    root, accounts, floors = bank_statistics_only
    nz = pid(accounts["NZ"][name])
    assert nz not in set(_run(name, published)["subject_account_pid"])  # "*" above the USD floor there
    row = _run(name, root).set_index("subject_account_pid").loc[nz]  # "*" is KE's: low
    parameter = QUERIES[name][0]
    assert Decimal(str(row.amount_floor)) == floors.floor(PARAMS.rule(name), parameter, ["NZ"]) \
        == floors.percentile_amount("KE", PARAMS.rule(name).percentile(parameter))


def test_a_sums_floor_is_the_lowest_of_the_transactions_summed(zones, pid):
    bare, published, accounts, floors = zones
    account = pid(accounts["mixed"]["velocity_spike"])
    row = _run("velocity_spike", published).set_index("subject_account_pid").loc[account]
    rule = PARAMS.rule("velocity_spike")
    assert Decimal(str(row.amount_floor)) == floors.floor(rule, "min_amount", ["US", "KE"]) == Decimal(248)
    assert Decimal(str(row.recent_amount)) == Decimal(1100) < floors.floor(rule, "min_amount", ["US"])
    assert account not in set(_run("velocity_spike", bare)["subject_account_pid"])
