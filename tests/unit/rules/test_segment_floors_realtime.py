"""Issue 22: the rules Lambda applies the segment floors (aml_contract.segments). The same amounts
fire for an account booked in a small-value economy and stay quiet for one in a large economy;
with no statistics published every floor is absolute (the behaviour before the first curation
run); the account-side country is kept in the stored state (old items read back without it); a
broken statistics object is an error of the function, never of a record."""
from __future__ import annotations

import json
from datetime import date
from datetime import timedelta as td
from decimal import Decimal

import pytest
from lambda_harness import REFERENCE_BUCKET, Context, _drain, _event, metric_documents, reference_objects

from aml.reference import publish
from aml_contract import names, reference, rules, segments
from aml_contract.reference import ReferenceData, ReferenceDataError
from lambdas.realtime_rules.reference_cache import load_reference
from lambdas.realtime_rules.state_store import from_item, to_item
from lambdas.realtime_rules.window import AccountState, Event, Horizons, event_for

SMALL, LARGE = "MW", "CH"  # the account's side: a small-value economy, a large one
GREY = "KE"  # on the FATF grey list on T0 (test_rules_behaviour)


def _statistics(review_by: date = date(2099, 1, 1)) -> dict[str, bytes]:
    """Published statistics: Malawi's amounts are 600 at every percentile, Switzerland's 50,000,
    the bank's (and so an unseen segment's) above every absolute floor."""
    sides = [(SMALL, Decimal(600))] * 250 + [(LARGE, Decimal(50_000))] * 250 + [("US", Decimal(90_000))] * 500
    rows = segments.statistics_rows(sides, rules.load(), window_start=date(2025, 9, 4), window_end=date(2025, 11, 2))
    return reference.encode(segments.DATASET, rows, version="2025-11-02", source="test",
                            coverage_start=date(2025, 9, 4), coverage_end=date(2025, 11, 2), review_by=review_by)


def _reference(extra: dict[str, bytes]) -> ReferenceData:
    objects = {**reference_objects(), **extra}
    return ReferenceData(lambda key: objects[key])  # KeyError: not published


@pytest.fixture(scope="module")
def stats() -> ReferenceData:
    return _reference(_statistics())


@pytest.fixture(scope="module")
def no_stats() -> ReferenceData:
    return _reference({})


def _only(drafts):
    """The one alert raised (a draft per record that finds it again: one anchor), as last found."""
    assert len({d.anchor for d in drafts}) == 1, drafts
    return drafts[-1]


def _segment_details(name: str, usd: float, segment: str, percentile: int) -> dict:
    return {f"{name}_usd": usd, "floor_basis": "segment", "floor_segment": segment, "floor_percentile": percentile}


# ---- rapid movement: the sum of the inflows against the lowest floor among them ----------------
def _pass_through(make_tx, ref, country, inflow=1000.0):
    return [make_tx(orig="X", benef="A", amount=inflow, beneficiary_country=country, reference=ref),
            make_tx(orig="A", benef="Y", amount=inflow * 0.9, at=td(hours=1), originator_country=country,
                    reference=ref)]


def test_rapid_movement_fires_for_a_small_value_economy_and_not_a_large_one(make_tx, run_rules, stats):
    draft = _only(run_rules(_pass_through(make_tx, stats, SMALL), "A", rule_id="rapid_movement"))
    assert draft.details.items() >= _segment_details("min_inflow", 600.0, SMALL, 99).items()
    assert draft.details["inflow_usd"] == 1000 and draft.details["ratio"] == 0.9  # the existing keys stay
    assert run_rules(_pass_through(make_tx, stats, LARGE), "A", rule_id="rapid_movement") == []


def test_rapid_movement_sums_inflows_against_the_lowest_of_their_floors(make_tx, run_rules, stats):
    large = make_tx(orig="X", benef="A", amount=550, beneficiary_country=LARGE, reference=stats)
    small = make_tx(orig="Z", benef="A", amount=100, beneficiary_country=SMALL, at=td(minutes=5), reference=stats)
    out = make_tx(orig="A", benef="Y", amount=600, at=td(hours=1), reference=stats)
    draft = _only(run_rules([large, small, out], "A", rule_id="rapid_movement"))  # 650 >= 600, Malawi's
    assert draft.details["min_inflow_usd"] == 600.0 and draft.details["floor_segment"] == SMALL
    assert run_rules([large, out], "A", rule_id="rapid_movement") == []  # 550 alone: Switzerland's 5,000


# ---- velocity spike: the window's sum against the lowest floor among its events ----------------
def _spike(make_tx, ref, country):
    history = [make_tx(orig="A", benef="Y", amount=20, at=td(days=d), originator_country=country, reference=ref)
               for d in range(30)]
    return history + [make_tx(orig="A", benef="Z", amount=400, at=td(days=31, hours=h), originator_country=country,
                              reference=ref) for h in range(3)]


def test_velocity_spike_fires_for_a_small_value_economy_and_not_a_large_one(make_tx, run_rules, stats):
    draft = _only(run_rules(_spike(make_tx, stats, SMALL), "A", rule_id="velocity_spike"))
    assert draft.details.items() >= _segment_details("min_amount", 600.0, SMALL, 99).items()
    assert draft.details["spiked"] == ["amount"] and draft.details["window_usd"] == 1200
    assert run_rules(_spike(make_tx, stats, LARGE), "A", rule_id="velocity_spike") == []


# ---- dormant reactivation: each event against its own floor ------------------------------------
def _back_after_100_days(make_tx, ref, *amounts_and_countries):
    old = make_tx(orig="A", benef="Y", amount=100, reference=ref)
    return [old] + [make_tx(orig="A", benef="Y", amount=amount, at=td(days=100, hours=i), originator_country=c,
                            reference=ref) for i, (amount, c) in enumerate(amounts_and_countries)]


def test_dormant_reactivation_fires_for_a_small_value_economy_and_not_a_large_one(make_tx, run_rules, stats):
    draft = _only(run_rules(_back_after_100_days(make_tx, stats, (1000, SMALL)), "A", rule_id="dormant_reactivation"))
    assert draft.details.items() >= _segment_details("min_amount", 600.0, SMALL, 99).items()
    assert draft.details["max_usd"] == 1000 and draft.details["min_count"] == 5
    assert run_rules(_back_after_100_days(make_tx, stats, (1000, LARGE)), "A", rule_id="dormant_reactivation") == []


def test_dormant_reactivation_compares_each_event_with_its_own_floor(make_tx, run_rules, stats):
    """1,000 booked in Switzerland is under its 5,000 even though Malawi's floor (600) is in the window."""
    events = _back_after_100_days(make_tx, stats, (1000, LARGE), (500, SMALL))
    assert run_rules(events, "A", rule_id="dormant_reactivation") == []


# ---- high-risk jurisdiction: the grey-list floor of the account's own side ---------------------
def test_grey_list_floor_is_the_account_sides(make_tx, run_rules, stats):
    paid = make_tx(orig="A", benef="Y", amount=1000, originator_country=SMALL, beneficiary_country=GREY, reference=stats)
    draft = _only(run_rules([paid], "A", rule_id="high_risk_jurisdiction"))
    assert draft.details.items() >= {**_segment_details("grey_list_min_amount", 600.0, SMALL, 99),
                                     "list": "grey_list", "counterparty_country": GREY}.items()
    received = make_tx(orig="X", benef="A", amount=1000, originator_country=GREY, beneficiary_country=SMALL,
                       reference=stats)
    assert len(run_rules([received], "A", rule_id="high_risk_jurisdiction")) == 1  # A's side: the beneficiary's
    for quiet in (make_tx(orig="A", benef="Y", amount=1000, originator_country=LARGE, beneficiary_country=GREY,
                          reference=stats),
                  make_tx(orig="X", benef="A", amount=1000, originator_country=GREY, beneficiary_country=LARGE,
                          reference=stats)):
        assert run_rules([quiet], "A", rule_id="high_risk_jurisdiction") == []


# ---- nothing published: the absolute floors, as before -----------------------------------------
def test_without_statistics_every_floor_is_absolute(make_tx, run_rules, no_stats):
    assert no_stats.segment_floors.amounts == {}
    quiet = [_pass_through(make_tx, no_stats, SMALL), _spike(make_tx, no_stats, SMALL),
             _back_after_100_days(make_tx, no_stats, (1000, SMALL)),
             [make_tx(orig="A", benef="Y", amount=1000, originator_country=SMALL, beneficiary_country=GREY,
                      reference=no_stats)]]
    for events, rule_id in zip(quiet, ("rapid_movement", "velocity_spike", "dormant_reactivation",
                                       "high_risk_jurisdiction"), strict=True):
        assert run_rules(events, "A", rule_id=rule_id) == [], rule_id
    draft = _only(run_rules(_pass_through(make_tx, no_stats, SMALL, inflow=5000), "A", rule_id="rapid_movement"))
    assert draft.details.items() >= {"min_inflow_usd": 5000, "floor_basis": "absolute", "floor_segment": None,
                                     "floor_percentile": None}.items()


def test_an_unseen_segment_or_no_country_takes_the_banks_statistics(make_tx, run_rules, stats):
    """The bank's percentiles are above the absolute floors here: the absolute one applies."""
    for country in ("NZ", None):
        events = _pass_through(make_tx, stats, country, inflow=4999)
        assert run_rules(events, "A", rule_id="rapid_movement") == [], country


# ---- the account-side country in the stored state ----------------------------------------------
HORIZONS = Horizons(tolerance=86_400, events=691_200, round_events=2_678_400, days=63, ttl=13_219_200)
OLD_ITEM = {  # written before issue 22: six fields per event, no "c"
    "pk": {"S": "ACC-1"}, "sk": {"S": "window-summary"}, "version": {"N": "4"}, "ttl": {"N": "1775399200"},
    "summary": {"S": '{"w":1762171200,"f":1762000000,"p":null,"d":{"2025-11-03":[1,900000,1762171200]},'
                     '"e":{"t1":[1762171200,900000,"in","CASH:abcd","cash_deposit",0]}}'}}


def test_an_item_written_before_the_country_reads_back_without_one():
    [event] = from_item(OLD_ITEM).events.values()
    assert event == Event("t1", 1_762_171_200, 900_000, "in", "CASH:abcd", "cash_deposit", False, None)


def test_the_account_side_country_is_taken_from_the_transaction(make_tx):
    t = make_tx(orig="A", benef="B", originator_country=SMALL, beneficiary_country=LARGE)
    assert event_for(t, "out", "B", 100).country == SMALL and event_for(t, "in", "A", 100).country == LARGE
    assert event_for(make_tx(orig="A", benef="B"), "out", "B", 100).country is None


def test_countries_round_trip_with_the_accounts_usual_one_stored_once():
    events = {f"t{i}": Event(f"t{i}", 1_762_171_200 + i, 100, "out", "B", "wire", False, country)
              for i, country in enumerate((SMALL, SMALL, SMALL, LARGE, None))}
    state = AccountState("ACC-1", watermark=1_762_171_204, first_seen=1_762_171_200, events=events)
    item = to_item(state, HORIZONS, 1_762_180_000)
    summary = json.loads(item["summary"]["S"])
    assert summary["c"] == SMALL  # the most frequent, once
    assert [len(summary["e"][t]) for t in sorted(summary["e"])] == [6, 6, 6, 7, 7]
    assert summary["e"]["t3"][6] == LARGE and summary["e"]["t4"][6] is None
    assert from_item(item).events == events


def test_a_summary_without_countries_keeps_the_old_format():
    state = from_item(OLD_ITEM)
    assert to_item(state, HORIZONS, 1_762_180_000)["summary"] == OLD_ITEM["summary"]


# ---- the statistics as the function loads them -------------------------------------------------
def test_the_statistics_are_read_when_the_reference_data_is_loaded(lambda_env):
    s3 = lambda_env["s3"]
    publish.to_s3(s3, REFERENCE_BUCKET, _statistics())
    data = load_reference(s3, REFERENCE_BUCKET)
    for key in _statistics():
        s3.delete_object(Bucket=REFERENCE_BUCKET, Key=key)
    assert data.segment_floors.percentile_amount(SMALL, 90) == Decimal(600)  # read at load, not per record
    assert data.manifests[segments.DATASET].version == "2025-11-02"


def _grey_payment(tid: str) -> dict:
    return {"transaction_id": tid, "booked_at": "2025-11-03T10:00:00Z", "originator_account_id": "ACC",
            "beneficiary_account_id": "Y", "originator_country": SMALL, "beneficiary_country": GREY,
            "amount": "1000", "currency": "USD", "amount_base": 1000, "transaction_type": "wire",
            "channel": "online", "status": "booked"}


def test_the_handler_applies_published_statistics_and_meters_them_when_stale(lambda_env, capsys):
    publish.to_s3(lambda_env["s3"], REFERENCE_BUCKET, _statistics(review_by=date(2000, 1, 1)))
    capsys.readouterr()
    assert lambda_env["handler"].lambda_handler(_event([_grey_payment("g1")]), Context()) == {"batchItemFailures": []}
    [alert] = [a for a in lambda_env["ddb"].scan(TableName="alerts")["Items"]
               if a["rule_id"]["S"] == "high_risk_jurisdiction"]
    assert json.loads(alert["details"]["S"])["floor_segment"] == SMALL
    [document] = metric_documents(capsys.readouterr().out)
    assert document[names.reference_stale_metric(segments.DATASET)] in (1, [1])


def test_a_broken_statistics_object_is_an_error_of_the_function(lambda_env):
    s3, handler = lambda_env["s3"], lambda_env["handler"]
    broken = _statistics()
    broken[reference.data_key(segments.DATASET)] += b"x"
    publish.to_s3(s3, REFERENCE_BUCKET, broken)
    event = _event([_grey_payment("g1")])
    with pytest.raises(ReferenceDataError, match="segment_amounts"):
        handler.lambda_handler(event, Context())
    assert _drain(lambda_env["sqs"], lambda_env["dlq"]) == []  # no record blamed
    assert lambda_env["ddb"].scan(TableName="state")["Items"] == []
    publish.to_s3(s3, REFERENCE_BUCKET, _statistics())  # published again: Lambda's retry succeeds
    assert handler.lambda_handler(event, Context()) == {"batchItemFailures": []}
