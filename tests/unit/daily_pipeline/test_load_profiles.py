"""LoadProfiles (lambdas/daily_pipeline/profiles.py) against the profiles table (in-process moto, the
key schema the stack declares): only what aml_contract.profiles.needs_write accepts is written, a
rerun of the same day writes nothing, malformed rows are counted, calls go 100 reads / 25 writes."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from unittest import mock

import boto3
import pytest

from aml_contract import profiles, rules
from aml_contract.daily_pipeline import FUNCTION_ENV, STEP_FIELDS
from lambdas.daily_pipeline import profiles as loader

TABLE = "profiles"
PARAMS = rules.load().profiles
DAY = date(2025, 3, 5)
COLUMNS = ("account_pid", "as_of", "customer_pid", "history_from", "covered_days", "active_days", "baseline_count",
           "baseline_amount", "daily_count_stddev", "daily_amount_stddev", "amount_count", "amount_mean",
           "amount_stddev", "amount_max", "last_activity_at", "counterparties", "counterparty_countries",
           "residence_country", "risk_rating", "customer_type", "is_pep")


def row(pid: str, as_of: date = DAY, **changes) -> dict[str, str | None]:
    """One row of the query's result as Athena's CSV gives it (strings, NULL as None)."""
    values = {"account_pid": pid, "as_of": as_of.isoformat(), "customer_pid": pid and "C" + pid, "history_from": "2024-12-01",
              "covered_days": "60", "active_days": "12", "baseline_count": "20", "baseline_amount": "1234.50",
              "daily_count_stddev": "1.25", "daily_amount_stddev": "80.5", "amount_count": "19",
              "amount_mean": "64.97", "amount_stddev": "12.0", "amount_max": "300.00",
              "last_activity_at": "2025-03-04 10:00:00.000", "counterparties": "p1,p2",
              "counterparty_countries": "US,DE", "residence_country": "US", "risk_rating": "low",
              "customer_type": "individual", "is_pep": "false"}
    return {c: changes.get(c, values[c]) for c in COLUMNS}


@pytest.fixture()
def ddb(contract_table):
    with contract_table("profiles_table", TABLE) as client:
        yield client


def load(ddb, rows, as_of: date = DAY, params=PARAMS) -> dict:
    return loader.load(ddb, TABLE, rows, as_of, params).as_dict()


def stored(ddb) -> dict[str, profiles.Profile]:
    return {i["account_pid"]["S"]: profiles.Profile.from_item(i) for i in ddb.scan(TableName=TABLE)["Items"]}


def counts(result: dict) -> tuple[int, int, int, int]:
    return result["profiles"], result["written"], result["unchanged"], result["older_than_stored"]


def test_new_profiles_are_written_with_their_ttl_and_a_rerun_writes_nothing(ddb):
    first = load(ddb, [row("a"), row("b")])
    assert counts(first) == (2, 2, 0, 0) and first["unusable"] == {} and first["as_of"] == "2025-03-05"
    items = {i["account_pid"]["S"]: i for i in ddb.scan(TableName=TABLE)["Items"]}
    assert int(items["a"]["ttl"]["N"]) == PARAMS.ttl(DAY) and items["a"]["as_of"]["S"] == "2025-03-05"
    assert stored(ddb)["a"] == profiles.Profile.from_row(row("a"))
    with mock.patch.object(ddb, "batch_write_item", wraps=ddb.batch_write_item) as writes:
        again = load(ddb, [row("a"), row("b")])
    assert counts(again) == (2, 0, 2, 0) and writes.call_count == 0


def test_only_changed_or_refresh_due_profiles_are_written_and_never_over_a_newer_one(ddb):
    load(ddb, [row("same"), row("changed"), row("refresh")])
    later = DAY + timedelta(days=PARAMS.refresh_days)
    load(ddb, [row("newer", later)], as_of=later)  # e.g. a later date run before this rerun of an older one
    before = {pid: p.as_of for pid, p in stored(ddb).items()}
    soon = DAY + timedelta(days=PARAMS.refresh_days - 1)
    result = load(ddb, [row("same", soon), row("changed", soon, baseline_count="21"), row("newer", soon)], as_of=soon)
    assert counts(result) == (3, 1, 1, 1)
    after = stored(ddb)
    assert after["changed"].as_of == soon and after["changed"].baseline_count == 21
    assert after["same"].as_of == before["same"] == DAY  # unchanged within refresh_days: left as stored
    assert after["newer"].as_of == later  # an older run never goes back in time
    due = DAY + timedelta(days=PARAMS.refresh_days)
    result = load(ddb, [row("same", due), row("refresh", due)], as_of=due)
    assert counts(result) == (2, 2, 0, 0)  # same content, stored copy refresh_days old: rewritten
    assert stored(ddb)["same"].as_of == due


def test_malformed_rows_are_counted_by_reason_and_the_rest_loaded(ddb):
    rows = [row("ok"), row("no-days", covered_days=None), row("bad-count", baseline_count="many"),
            row("also-no-days", covered_days=None), row("ok"), row("yesterday", DAY - timedelta(days=1)),
            row(None)]
    result = load(ddb, rows)
    assert counts(result) == (1, 1, 0, 0)
    unusable = result["unusable"]
    assert sum(unusable.values()) == 6  # every row is a profile or counted: none dropped silently
    assert {k: unusable[k] for k in ("column covered_days is empty", "account_pid repeated",
                                     "as_of 2025-03-04 is not the run date", "column account_pid is empty")} == {
        "column covered_days is empty": 2, "account_pid repeated": 1, "as_of 2025-03-04 is not the run date": 1,
        "column account_pid is empty": 1}  # the sixth: baseline_count "many", by the decimal module's reason
    assert set(stored(ddb)) == {"ok"}


def test_reads_take_100_keys_and_writes_25_items_a_call_and_unprocessed_ones_are_retried(ddb):
    rows = [row(f"acct{i:04d}") for i in range(230)]
    real = ddb.batch_write_item
    calls = []

    def throttled_once(**kw):  # the first call of each chunk leaves its last item unprocessed
        [(table, requests)] = kw["RequestItems"].items()
        calls.append(len(requests))
        if len(requests) == loader.WRITE_LIMIT:
            real(RequestItems={table: requests[:-1]})
            return {"UnprocessedItems": {table: requests[-1:]}}
        return real(**kw)

    with mock.patch.object(ddb, "batch_get_item", wraps=ddb.batch_get_item) as reads, \
            mock.patch.object(ddb, "batch_write_item", side_effect=throttled_once), \
            mock.patch.object(loader.time, "sleep"):
        result = load(ddb, rows)
    assert counts(result) == (230, 230, 0, 0) and len(stored(ddb)) == 230
    assert [len(c.kwargs["RequestItems"][TABLE]["Keys"]) for c in reads.call_args_list] == [100, 100, 30]
    assert all(c.kwargs["RequestItems"][TABLE]["ProjectionExpression"] for c in reads.call_args_list)
    assert calls == [25, 1] * 9 + [5]  # 9 full chunks, each retried for its one unprocessed item, then 5


def test_items_left_unprocessed_after_the_retries_fail_the_step(ddb):
    def never(**kw):
        return {"UnprocessedItems": kw["RequestItems"]}

    with mock.patch.object(ddb, "batch_write_item", side_effect=never), mock.patch.object(loader.time, "sleep"), \
            pytest.raises(loader.ProfilesIncomplete, match="2 of 2 profiles not written"):
        load(ddb, [row("a"), row("b")])


def test_the_handler_reads_the_profile_querys_csv_and_a_rerun_loads_nothing(ddb, monkeypatch):
    """The step as the state machine calls it: the state's queries, the profile query's result in S3."""
    from lambdas.daily_pipeline import handler

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="results")
    # the CSV as the local Athena writes it: the 3.11 suite's (the Lambda runtime's venv has no pandas)
    pd = pytest.importorskip("pandas")
    from aml.pipeline.athena_binding import result_csv

    frame = pd.DataFrame([row("a"), row("b", counterparties=None)])
    s3.put_object(Bucket="results", Key="results/q2.csv", Body=result_csv(frame).encode())
    clients = {"s3": s3, "dynamodb": ddb}
    monkeypatch.setattr(handler, "_client", clients.__getitem__)
    monkeypatch.setenv(FUNCTION_ENV["profiles_table"], TABLE)
    state = {"plan": {"run_date": DAY.isoformat(), "run_id": "2025-03-05-r1"},
             "queries": [{"name": "structuring", "output_location": "s3://results/results/q1.csv"},
                         {"name": profiles.QUERY_NAME, "output_location": "s3://results/results/q2.csv"}]}
    first = handler.load_profiles(state, _Context())
    assert set(STEP_FIELDS["load_profiles"]) <= set(first) and counts(first) == (2, 2, 0, 0)
    assert stored(ddb)["b"].counterparties == ()
    again = handler.load_profiles(state, _Context())
    assert counts(again) == (2, 0, 2, 0)
    with pytest.raises(ValueError, match="0 results of account_profiles"):
        handler.load_profiles({**state, "queries": state["queries"][:1]}, _Context())


def test_parameters_decide_with_needs_write():
    """The loader's decisions are the contract's: a shorter refresh rewrites an unchanged profile sooner."""
    quick = dataclasses.replace(PARAMS, refresh_days=1)
    profile = profiles.Profile.from_row(row("a", DAY + timedelta(days=1)))
    item = profiles.Profile.from_row(row("a")).to_item(PARAMS)
    assert profiles.needs_write(profile, item, quick) and not profiles.needs_write(profile, item, PARAMS)


class _Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "profiles", 128, "arn:f", "req"
