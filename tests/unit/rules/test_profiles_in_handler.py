"""The rules Lambda reads account profiles (aml_contract.profiles) from the profiles table: a
profile from before the live period changes a rule's outcome, a stale one is ignored, copies are
cached per container, and a table that does not answer fails the records for a retry."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import boto3
from lambda_harness import REGION, Context, _drain, _event

from aml_contract import rules
from aml_contract.profiles import Profile
from aml_contract.pseudonym import key_from_secret_string, pseudonymise
from lambdas.realtime_rules.profile_store import ProfileStore

KEY = key_from_secret_string("k" * 32)  # the harness's secret
ACCOUNT = "ACC"


def _profile(as_of: date, account: str = ACCOUNT) -> Profile:
    """60 quiet days: 100 USD a day, to US counterparties only."""
    return Profile(
        account_pid=pseudonymise(account, KEY), as_of=as_of, customer_pid="cust", history_from=date(2025, 6, 1),
        covered_days=60, active_days=60, baseline_count=60, baseline_cents=60 * 100_00, daily_count_stddev=0.0,
        daily_usd_stddev=0.0, amount_count=60, amount_mean_usd=100.0, amount_stddev_usd=10.0,
        amount_max_cents=120_00, last_activity_at=int(datetime(2025, 11, 1, tzinfo=UTC).timestamp()),
        counterparties=(), counterparty_countries=("US",), residence_country="US", risk_rating="low",
        customer_type="individual", is_pep=False)


def _store(ddb, profile: Profile) -> None:
    ddb.put_item(TableName="profiles", Item=profile.to_item(rules.load().profiles))


def _payment(tid: str, amount: int = 20_000) -> dict:
    return {"transaction_id": tid, "booked_at": "2025-11-03T10:00:00Z", "originator_account_id": ACCOUNT,
            "beneficiary_account_id": "Y", "originator_country": "US", "beneficiary_country": "US",
            "amount": str(amount), "currency": "USD", "amount_base": amount, "transaction_type": "wire",
            "channel": "online", "status": "booked"}


def _rules_raised(ddb) -> set[str]:
    return {a["rule_id"]["S"] for a in ddb.scan(TableName="alerts")["Items"]}


def test_a_profile_from_before_the_live_period_changes_the_outcome(lambda_env):
    handler, ddb = lambda_env["handler"], lambda_env["ddb"]
    assert handler.lambda_handler(_event([_payment("t1")]), Context()) == {"batchItemFailures": []}
    assert _rules_raised(ddb) & {"velocity_spike", "amount_outlier"} == set()  # the stream's first day
    _store(ddb, _profile(date(2025, 11, 2)))
    handler.forget_runtime()  # a new container: nothing cached
    assert handler.lambda_handler(_event([_payment("t2")], first_seq=10), Context()) == {"batchItemFailures": []}
    raised = {a["rule_id"]["S"]: json.loads(a["details"]["S"]) for a in ddb.scan(TableName="alerts")["Items"]}
    assert raised["velocity_spike"]["baseline_source"] == "profile"
    assert raised["amount_outlier"]["profile_as_of"] == "2025-11-02"


def test_a_stale_profile_is_ignored(lambda_env):
    handler, ddb = lambda_env["handler"], lambda_env["ddb"]
    _store(ddb, _profile(date(2025, 10, 26)))  # 8 days before the payment: past max_age_days (7)
    assert handler.lambda_handler(_event([_payment("t1")]), Context()) == {"batchItemFailures": []}
    assert _rules_raised(ddb) & {"velocity_spike", "amount_outlier"} == set()


def test_a_profiles_table_that_does_not_answer_fails_the_records_for_a_retry(lambda_env):
    handler, ddb = lambda_env["handler"], lambda_env["ddb"]
    ddb.delete_table(TableName="profiles")
    response = handler.lambda_handler(_event([_payment("t1")]), Context())
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert _drain(lambda_env["sqs"], lambda_env["dlq"]) == []  # not the record's fault: nothing dead-lettered
    assert ddb.scan(TableName="state")["Items"] == []


def test_profiles_are_cached_per_container_including_the_missing_ones(lambda_env):
    ddb = boto3.client("dynamodb", region_name=REGION)
    _store(ddb, _profile(date(2025, 11, 2)))
    now = [0.0]
    store = ProfileStore(ddb, "profiles", lambda: KEY, clock=lambda: now[0], cache_seconds=900)
    first = store.load([ACCOUNT, "NOBODY"])
    assert first[ACCOUNT].as_of == date(2025, 11, 2) and first["NOBODY"] is None and store.calls == 1
    store.load([ACCOUNT, "NOBODY"])
    assert store.calls == 1  # both from memory, the missing one too
    _store(ddb, _profile(date(2025, 11, 3)))
    now[0] = 900.0
    assert store.load([ACCOUNT])[ACCOUNT].as_of == date(2025, 11, 3) and store.calls == 2  # expired: read again
    assert store.load([f"A{i}" for i in range(250)]) and store.calls == 5  # 100 keys per BatchGetItem


def test_an_unreadable_profile_item_is_counted_and_read_as_none(lambda_env):
    ddb = boto3.client("dynamodb", region_name=REGION)
    item = _profile(date(2025, 11, 2)).to_item(rules.load().profiles)
    ddb.put_item(TableName="profiles", Item={**item, "profile": {"S": "{not json"}})
    store = ProfileStore(ddb, "profiles", lambda: KEY)
    assert store.load([ACCOUNT]) == {ACCOUNT: None}
    assert store.take_unreadable() == 1 and store.take_unreadable() == 0


def test_a_batch_reads_its_profiles_beside_its_states(lambda_env):
    """The batch's BatchGetItem of the state table and of the profiles table overlap: each waits
    until the other has started, which a read of one table after the other would wait for in vain."""
    from threading import Event

    handler = lambda_env["handler"]
    started = {"state": Event(), "profiles": Event()}
    met: list[bool] = []

    def meet(params, **_):
        (table,) = params["RequestItems"]
        started[table].set()
        met.append(started["profiles" if table == "state" else "state"].wait(10))

    handler.runtime().clients["dynamodb"].meta.events.register("before-parameter-build.dynamodb.BatchGetItem", meet)
    assert handler.lambda_handler(_event([_payment("t1")]), Context()) == {"batchItemFailures": []}
    assert met and all(met), met
