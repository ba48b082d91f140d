"""Batch alerts (lambdas/daily_pipeline/batch_alerts.py) in the alerts table (in-process moto, the
index as the stack declares it): reruns add nothing, overlapping findings are one alert across
paths, adjacent ones are two, counts reconcile, a failed delivery is finished by the next run."""
from __future__ import annotations

import json
from datetime import date
from unittest import mock

import pytest

from aml_contract import rules
from aml_contract.named_queries import MAX_EVIDENCE_TRANSACTIONS, load_all
from lambdas.daily_pipeline import batch_alerts as batch
from lambdas.realtime_rules.alerts import AlertSink
from lambdas.realtime_rules.rules.base import AlertDraft

TABLE = "alerts"
KEY = b"k" * 32
NOW = 1_741_000_000.0  # 2025-03-03
QUERIES = {q.name: q for q in load_all()}
RUN = batch.Run("2025-03-05-r1", date(2025, 3, 5), {"start_date": "2025-02-01", "end_date": "2025-03-05"})


def structuring_row(pid: str, first: str, last: str) -> dict:
    return {"subject_account_pid": pid, "subject_customer_pid": "C" + pid, "first_window_start": first,
            "last_window_end": last, "max_deposit_count": "3", "max_total_amount": "28000.00",
            "qualifying_windows": "1"}


class Delivery:
    """SNS and Firehose doubles recording what was sent; `fail` makes Firehose refuse everything."""

    def __init__(self):
        self.published, self.landed, self.fail = [], [], False
        self.sns, self.firehose = mock.Mock(), mock.Mock()
        self.sns.publish_batch.side_effect = self._publish
        self.firehose.put_record_batch.side_effect = self._land

    def _publish(self, **kw):
        self.published += [json.loads(e["Message"]) for e in kw["PublishBatchRequestEntries"]]
        return {"Successful": [{"Id": e["Id"]} for e in kw["PublishBatchRequestEntries"]]}

    def _land(self, **kw):
        if self.fail:
            return {"RequestResponses": [{"ErrorCode": "ServiceUnavailableException"} for _ in kw["Records"]]}
        self.landed += [json.loads(r["Data"]) for r in kw["Records"]]
        return {"RequestResponses": [{} for _ in kw["Records"]]}


@pytest.fixture()
def store(contract_table):
    with contract_table("alerts_table", TABLE) as ddb:
        yield ddb, Delivery()


def write(store, rows: list[dict], query: str = "structuring", run: batch.Run = RUN) -> batch.Outcome:
    ddb, delivery = store
    outcome = batch.Outcome()
    hits = batch.hits_of(QUERIES[query], rows, outcome)
    writer = batch.BatchAlertWriter(ddb, delivery.sns, delivery.firehose, table=TABLE, topic_arn="arn:topic",
                                    delivery_stream="alerts", ttl_days=400, params=rules.load(), clock=lambda: NOW)
    return writer.write(hits, run, outcome)


def items(store) -> list[dict]:
    ddb, _ = store
    return sorted((batch._known(i) for i in ddb.scan(TableName=TABLE)["Items"]), key=lambda k: k.window_start)


def reconciles(outcome: batch.Outcome) -> bool:
    return outcome.hits == (outcome.new + outcome.merged + outcome.joined + outcome.already_raised
                            + sum(outcome.unusable.values()))


def test_a_new_hit_is_stored_notified_and_landed_once_and_a_rerun_adds_nothing(store):
    rows = [structuring_row("P1", "2025-03-01 09:00:00.000", "2025-03-02 17:30:00.000")]
    first = write(store, rows)
    assert (first.new, first.already_raised) == (1, 0)
    (alert,) = items(store)
    assert alert.sources == {"batch"} and alert.batch_landed and alert.sns_published
    assert (alert.window_start.isoformat(), alert.window_end.isoformat()) == (
        "2025-03-01T00:00:00+00:00", "2025-03-03T00:00:00+00:00")  # whole days
    _, delivery = store
    (row,) = delivery.landed
    assert row["source"] == "batch" and row["dt"] == "2025-03-02" and delivery.published == [row]
    details = json.loads(row["details"])
    assert (details["query"], details["run_id"], details["parameters"]) == ("structuring", RUN.run_id, RUN.parameters)

    again = write(store, rows)  # the same date again (a rerun): the same id, already raised
    assert (again.new, again.already_raised, len(items(store))) == (0, 1, 1)
    assert len(delivery.landed) == 1 and len(delivery.published) == 1
    assert reconciles(first) and reconciles(again)


def test_overlapping_hits_are_one_alert_and_adjacent_hits_two(store):
    overlapping = [structuring_row("P1", "2025-03-01 09:00:00", "2025-03-02 10:00:00"),
                   structuring_row("P1", "2025-03-02 11:00:00", "2025-03-03 10:00:00")]
    adjacent = [structuring_row("P2", "2025-03-01 09:00:00", "2025-03-01 10:00:00"),
                structuring_row("P2", "2025-03-02 09:00:00", "2025-03-02 10:00:00")]  # days 1 and 2: they touch
    outcome = write(store, overlapping + adjacent)
    assert (outcome.new, outcome.joined) == (3, 1) and reconciles(outcome)
    assert sorted(k.alert_id for k in items(store)) == sorted(
        {batch.alert_id(h) for h in batch.hits_of(QUERIES["structuring"], overlapping[:1] + adjacent, batch.Outcome())})


def test_a_batch_hit_overlapping_a_realtime_alert_joins_it(store):
    ddb, delivery = store
    from aml_contract.pseudonym import pseudonymise

    pid = pseudonymise("ACC-1", KEY)
    draft = AlertDraft("structuring", "ACC-1", "t1", ("t1", "t2", "t3"), 1_740_830_400, 1_740_826_800,
                       1_740_900_000)  # 2025-03-01 12:00 .. 2025-03-02 07:20 UTC
    AlertSink(ddb, delivery.sns, delivery.firehose, table=TABLE, topic_arn="arn:topic", delivery_stream="alerts",
              ttl_days=400, params=rules.load(), pseudonym_key=lambda: KEY, clock=lambda: NOW).deliver([draft])
    assert len(delivery.published) == len(delivery.landed) == 1
    outcome = write(store, [structuring_row(pid, "2025-03-02 09:00:00", "2025-03-03 10:00:00")])
    assert (outcome.merged, outcome.new) == (1, 0) and reconciles(outcome)
    (alert,) = items(store)
    assert alert.sources == {"realtime", "batch"} and alert.batch_landed
    realtime, batch_side = delivery.landed
    assert realtime["alert_id"] == batch_side["alert_id"] == alert.alert_id
    assert (realtime["source"], batch_side["source"]) == ("realtime", "batch")
    assert len(delivery.published) == 1  # notified once, by the path that found it first
    assert write(store, [structuring_row(pid, "2025-03-02 09:00:00", "2025-03-03 10:00:00")]).already_raised == 1


def test_a_batch_hit_adjacent_to_a_realtime_alert_is_a_new_alert(store):
    ddb, delivery = store
    from aml_contract.pseudonym import pseudonymise

    pid = pseudonymise("ACC-1", KEY)
    draft = AlertDraft("structuring", "ACC-1", "t1", ("t1",), 1_740_830_400, 1_740_787_200,
                       1_740_873_600)  # [2025-03-01 00:00, 2025-03-02 00:00)
    AlertSink(ddb, delivery.sns, delivery.firehose, table=TABLE, topic_arn="arn:topic", delivery_stream="alerts",
              ttl_days=400, params=rules.load(), pseudonym_key=lambda: KEY, clock=lambda: NOW).deliver([draft])
    outcome = write(store, [structuring_row(pid, "2025-03-02 09:00:00", "2025-03-02 10:00:00")])
    assert (outcome.new, outcome.merged) == (1, 0)
    assert [k.sources for k in items(store)] == [{"realtime"}, {"batch"}]


def test_a_pattern_going_on_for_days_joins_the_realtime_alert_raised_on_a_later_day(store):
    """fan_in's evidence runs from the first qualifying window's start to the last's: a batch hit
    whose first window was on 1 March joins the real-time alert raised on 4 March."""
    ddb, delivery = store
    from aml_contract.pseudonym import pseudonymise

    pid = pseudonymise("ACC-1", KEY)
    draft = AlertDraft("fan_in", "ACC-1", "t9", ("t9",), 1_741_089_600, 1_741_082_400,
                       1_741_168_800)  # 2025-03-04 10:00 .. 2025-03-05 10:00 UTC
    AlertSink(ddb, delivery.sns, delivery.firehose, table=TABLE, topic_arn="arn:topic", delivery_stream="alerts",
              ttl_days=400, params=rules.load(), pseudonym_key=lambda: KEY, clock=lambda: NOW).deliver([draft])
    row = {"subject_account_pid": pid, "subject_customer_pid": "C1", "window_hours": "24",
           "first_window_start": "2025-03-01 09:00:00.000", "last_window_start": "2025-03-04 11:00:00.000",
           "max_counterparties": "5", "max_window_amount": "250", "qualified_window_hours": "24",
           "qualifying_windows": "2", "amount_floor": ""}
    (hit,) = batch.hits_of(QUERIES["fan_in"], [row], batch.Outcome())
    assert (hit.window_start.isoformat(), hit.window_end.isoformat()) == (
        "2025-03-01T00:00:00+00:00", "2025-03-05T00:00:00+00:00")
    outcome = write(store, [row], query="fan_in")
    assert (outcome.merged, outcome.new) == (1, 0) and reconciles(outcome)
    (alert,) = items(store)
    assert alert.sources == {"realtime", "batch"}


def test_a_failed_landing_fails_the_step_and_its_retry_finishes_it_without_a_second_notification(store):
    _, delivery = store
    rows = [structuring_row("P1", "2025-03-01 09:00:00", "2025-03-02 10:00:00")]
    delivery.fail = True
    with pytest.raises(batch.BatchAlertsIncomplete, match="1 not delivered") as failed:
        write(store, rows)
    assert list(failed.value.undelivered) == [items(store)[0].alert_id]
    assert not items(store)[0].batch_landed and items(store)[0].sns_published
    delivery.fail = False
    assert write(store, rows).already_raised == 1  # the step's retry
    assert items(store)[0].batch_landed
    assert len(delivery.landed) == 1 and len(delivery.published) == 1


def test_rows_without_a_subject_or_evidence_time_are_counted_not_dropped(store):
    rows = [structuring_row("", "2025-03-01", "2025-03-02"), structuring_row("P1", None, "2025-03-02"),
            structuring_row("P2", "2025-03-01", "2025-03-01")]
    outcome = write(store, rows)
    assert outcome.new == 1 and dict(outcome.unusable) == {
        "structuring: no subject account": 1, "structuring: no evidence time": 1}
    assert reconciles(outcome) and outcome.as_dict()["per_rule"]["structuring"] == {"hits": 3, "unusable": 2, "new": 1}


def test_transaction_evidence_comes_from_the_declared_columns(store):
    _, delivery = store
    row = {"subject_account_pid": "P1", "subject_customer_pid": "C1", "hops": "3", "first_transaction_id": "T1",
           "return_transaction_id": "T9", "sent_at": "2025-03-01 10:00:00", "returned_at": "2025-03-04 10:00:00",
           "sent_amount": "5000", "returned_amount": "4900", "via_account_pids": "A,B", "amount_floor": "1000",
           "amount_pattern": "kept", "transaction_ids": "[T1, T5, T9]", "transaction_count": "3"}
    assert write(store, [row], query="cycles").new == 1
    (landed,) = delivery.landed
    assert landed["transaction_ids"] == ["T1", "T5", "T9"] and landed["window_end"] == "2025-03-05T00:00:00+00:00"
    assert json.loads(landed["details"])["transaction_count"] == 3


def test_a_row_about_one_transaction_names_it(store):
    """high_risk_jurisdiction declares one id column, no list: the row's transaction is the alert's."""
    _, delivery = store
    row = {"subject_account_pid": "P1", "direction": "out", "transaction_id": "T7",
           "booked_at": "2025-03-01 10:00:00.000", "counterparty_country": "IR", "dt": "2025-03-01"}
    assert write(store, [row], query="high_risk_jurisdiction").new == 1
    (landed,) = delivery.landed
    assert landed["transaction_ids"] == ["T7"] and json.loads(landed["details"])["transaction_count"] == 1


def listed_row(pid: str, ids: list[str], count: int) -> dict:
    """A structuring row as Athena's CSV gives it: the ids as `[a, b, c]`, every value text."""
    return structuring_row(pid, "2025-03-01 09:00:00.000", "2025-03-02 17:30:00.000") | {
        "transaction_ids": "[" + ", ".join(ids) + "]", "transaction_count": str(count)}


def test_athena_arrays_read_as_their_elements():
    assert batch.athena_array("[T1, T2, T3]") == ["T1", "T2", "T3"]
    assert batch.athena_array("[T1]") == ["T1"] and batch.athena_array("[]") == []
    with pytest.raises(ValueError):
        batch.athena_array("T1, T2")


def test_a_listed_hit_names_its_transactions_and_their_count(store):
    _, delivery = store
    outcome = write(store, [listed_row("P1", ["T1", "T2", "T3"], 3)])
    (landed,) = delivery.landed
    assert landed["transaction_ids"] == ["T1", "T2", "T3"]
    assert json.loads(landed["details"])["transaction_count"] == 3
    (alert,) = items(store)
    assert alert.batch_row["transaction_ids"] == ["T1", "T2", "T3"]
    assert "ids_unreadable" not in outcome.per_rule["structuring"]


def test_a_capped_list_names_its_first_ids_and_says_how_many_there_are(store):
    _, delivery = store
    ids = [f"T{i:04d}" for i in range(MAX_EVIDENCE_TRANSACTIONS)]
    write(store, [listed_row("P1", ids, 2_345)])
    (landed,) = delivery.landed
    assert landed["transaction_ids"] == ids
    assert json.loads(landed["details"])["transaction_count"] == 2_345


def test_a_list_that_does_not_read_back_as_its_count_raises_the_alert_naming_none(store):
    """An id holding ", " splits in two: the list no longer matches its count. The alert is still
    raised (alert_evidence lists its window), named ids are not guessed, and the run counts it."""
    _, delivery = store
    outcome = write(store, [listed_row("P1", ["T, 1", "T2"], 2), listed_row("P2", ["T3"], 1)])
    assert outcome.new == 2 and reconciles(outcome)
    landed = {a["subject_account_pid"]: a for a in delivery.landed}
    assert landed["P1"]["transaction_ids"] == [] and json.loads(landed["P1"]["details"])["transaction_count"] == 2
    assert landed["P2"]["transaction_ids"] == ["T3"]
    assert outcome.as_dict()["per_rule"]["structuring"]["ids_unreadable"] == 1


def test_the_cap_keeps_a_batch_alert_well_inside_dynamodb_and_sns_limits(store):
    """The ids sit three times in the item (its list, its curated row, the query row in its details):
    at the cap, with ids of the contract's longest, the item stays far under DynamoDB's 400 KB and
    the notification under SNS's 256 KB."""
    ddb, delivery = store
    ids = [f"{i:064d}" for i in range(MAX_EVIDENCE_TRANSACTIONS)]  # schema.ID_LENGTH characters each
    write(store, [listed_row("P1", ids, 10_000)])
    (item,) = ddb.scan(TableName=TABLE)["Items"]
    size = sum(len(name) + len(json.dumps(value)) for name, value in item.items())  # an upper bound
    assert size < 40_000
    (message,) = delivery.published
    assert len(json.dumps(message)) < 256 * 1024 and message["transaction_ids"] == ids


def test_every_scenario_query_declares_evidence_among_its_columns_and_no_listing_query_does():
    params = rules.load()
    for query in QUERIES.values():
        assert (query.evidence is not None) == (query.name in params.rules), query.name


def test_a_realtime_finding_overlapping_a_batch_alert_joins_it_once(store):
    """The other direction: the batch path raised the alert first; the Lambda's finding of the same
    episode joins it (a redelivery finds the join), and one adjacent to it is a new alert."""
    ddb, delivery = store
    from aml_contract.pseudonym import pseudonymise

    pid = pseudonymise("ACC-1", KEY)
    assert write(store, [structuring_row(pid, "2025-03-01 09:00:00", "2025-03-01 10:00:00")]).new == 1
    sink = AlertSink(ddb, delivery.sns, delivery.firehose, table=TABLE, topic_arn="arn:topic", delivery_stream="alerts",
                     ttl_days=400, params=rules.load(), pseudonym_key=lambda: KEY, clock=lambda: NOW)
    overlapping = AlertDraft("structuring", "ACC-1", "t1", ("t1", "t2"), 1_740_830_400, 1_740_826_800,
                             1_740_900_000)  # 2025-03-01 11:00 .. 2025-03-02 07:20
    first = sink.deliver([overlapping])
    assert (first.new, len(first.merged), first.failed) == ([], 1, {})
    (alert,) = items(store)
    assert alert.sources == {"batch", "realtime"}
    assert [(r["alert_id"], r["source"]) for r in delivery.landed] == [(alert.alert_id, "batch"),
                                                                       (alert.alert_id, "realtime")]
    again = sink.deliver([overlapping])  # redelivered: found joined, nothing sent
    assert (again.new, again.merged, again.duplicates) == ([], [], 1)
    assert len(delivery.landed) == 2 and len(delivery.published) == 1
    adjacent = AlertDraft("structuring", "ACC-1", "t7", ("t7",), 1_740_960_000, 1_740_960_000,
                          1_740_963_600)  # 2025-03-03 00:00 .. 01:00: after the batch window's last day
    assert len(sink.deliver([adjacent]).new) == 1
    assert len(items(store)) == 2


@pytest.mark.parametrize("text", ["2025-03-01 10:00:00.000", "2025-03-01 10:00:00.000 UTC", "2025-03-01T10:00:00Z",
                                  "2025-03-01T11:00:00+01:00", "2025-03-01 10:00:00"])
def test_athena_timestamps_read_as_utc_instants(text):
    assert batch.parse_instant(text).isoformat() == "2025-03-01T10:00:00+00:00"


def test_athena_dates_read_as_midnight_utc():
    assert batch.parse_instant("2025-03-01").isoformat() == "2025-03-01T00:00:00+00:00"


def test_a_write_failing_transiently_fails_the_step_and_its_retry_stores_the_alert_once(store):
    from botocore.exceptions import ClientError

    ddb, delivery = store

    class Throttled:  # the first TransactWriteItems is throttled
        def __init__(self):
            self.throttled = False

        def __getattr__(self, name):
            return getattr(ddb, name)

        def transact_write_items(self, **kw):
            if not self.throttled:
                self.throttled = True
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                                  "TransactWriteItems")
            return ddb.transact_write_items(**kw)

    rows = [structuring_row("P1", "2025-03-01 09:00:00", "2025-03-02 10:00:00")]
    with pytest.raises(batch.BatchAlertsIncomplete, match="1 alerts not stored"):
        write((Throttled(), delivery), rows)
    assert items(store) == [] and delivery.landed == [] and delivery.published == []
    assert write(store, rows).new == 1 and len(items(store)) == 1 and len(delivery.published) == 1
