"""The latency bench's pure parts (percentiles, the kept-up decision, the sustained rate) and the
poller's follow mode it runs on, against a fake Kinesis client (no services)."""
from datetime import UTC, datetime

import pytest

from aml.bench import latency
from aml.stream import poller as poller_module


def test_percentile_interpolates_between_ranks():
    assert latency.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert latency.percentile([1.0, 2.0], 50) == 1.5
    assert latency.percentile(list(range(101)), 99) == 99
    assert latency.percentile([0.0, 10.0], 99) == pytest.approx(9.9)
    assert latency.percentile([4.0], 99) == 4.0
    with pytest.raises(ValueError):
        latency.percentile([], 50)


def test_summarise():
    assert latency.summarise([]) == {"count": 0}
    assert latency.summarise([0.1, 0.2, 0.3, 1.0]) == {"count": 4, "p50": 0.25, "p99": 0.979, "max": 1.0}


def test_lag_growth_flat_when_keeping_up_and_rising_with_a_backlog():
    steady = [(t, 1.0 + 0.1 * (t % 2)) for t in range(40)]
    assert abs(latency.lag_growth(steady)) <= 0.1
    # 25% overload for 20 s: each record waits a quarter of a second longer per second of the step.
    backlog = [(t / 2, 1.0 + 0.25 * t / 2) for t in range(40)]
    assert latency.lag_growth(backlog) == pytest.approx(3.75)
    assert latency.lag_growth([(0, 1.0), (1, 9.0)]) == 0.0  # too few to tell


def test_kept_up_needs_every_alert_a_bounded_p99_no_growth_and_the_rate():
    assert latency.kept_up(20, 400, 19.9, 0, 1.5, 0.2) == (True, [])
    for args, why in [((20, 400, 19.9, 3, 1.5, 0.2), "3 of 400 alerts missing"),
                      ((20, 400, 19.9, 0, latency.P99_BOUND_SECONDS + 0.1, 0.2), "p99"),
                      ((20, 400, 19.9, 0, 1.5, latency.GROWTH_BOUND_SECONDS + 0.1), "a backlog"),
                      ((20, 400, 15.0, 0, 1.5, 0.2), "the committer reached 15.0/s of 20/s")]:
        ok, reasons = latency.kept_up(*args)
        assert not ok and why in reasons[0]


def test_sustained_rate_is_the_last_rate_before_the_first_failure():
    steps = [{"rate": 5, "kept_up": True}, {"rate": 10, "kept_up": True}, {"rate": 20, "kept_up": False},
             {"rate": 40, "kept_up": True}]
    assert latency.sustained_rate(steps) == 10
    assert latency.sustained_rate([{"rate": 5, "kept_up": False}]) is None
    assert latency.sustained_rate([]) is None


def test_parts_add_up_to_the_total():
    trace = {"arrival": 10.3, "invoked": 10.9, "returned": 11.2}
    split = latency.parts(10.0, trace, detected=11.0)
    assert split["total"] == pytest.approx(1.2)
    assert split["replicator"] + split["poller"] + split["handler"] == pytest.approx(split["total"])
    assert split["rules"] + split["store"] == pytest.approx(split["handler"])


class _FakeKinesis:
    """One shard whose records appear on a schedule: after the n-th GetRecords call."""

    meta = type("Meta", (), {"region_name": "us-east-1"})()

    def __init__(self, schedule: dict[int, list[bytes]]):
        self.schedule, self.calls, self.position = schedule, 0, 0
        self.records: list[dict] = []

    def describe_stream_summary(self, StreamName):  # noqa: N803 (boto3's names)
        return {"StreamDescriptionSummary": {"StreamARN": f"arn:aws:kinesis:us-east-1:0:stream/{StreamName}"}}

    def list_shards(self, StreamName):  # noqa: N803
        return {"Shards": [{"ShardId": "shardId-000000000000"}]}

    def get_shard_iterator(self, **_):
        return {"ShardIterator": "it"}

    def get_records(self, ShardIterator, Limit):  # noqa: N803
        self.calls += 1
        for data in self.schedule.get(self.calls, []):
            self.records.append({"Data": data, "PartitionKey": "A", "SequenceNumber": str(len(self.records) + 1),
                                 "ApproximateArrivalTimestamp": datetime.now(UTC)})
        batch = self.records[self.position:self.position + Limit]
        self.position += len(batch)
        return {"Records": batch, "NextShardIterator": "it"}


def _poller(monkeypatch, kinesis, delivered):
    monkeypatch.setattr(poller_module.aws, "client", lambda _: kinesis)

    def handler(event, _context):
        delivered.extend(r["kinesis"]["sequenceNumber"] for r in event["Records"])
        return {"batchItemFailures": []}

    return poller_module.Poller("s", handler, mapping=poller_module.LOCAL_MAPPING)


def test_follow_waits_on_an_idle_shard_and_delivers_what_arrives_later(monkeypatch):
    kinesis, delivered, sleeps = _FakeKinesis({1: [b"{}"], 4: [b"{}", b"{}"]}), [], []
    monkeypatch.setattr(poller_module.time, "sleep", sleeps.append)
    stats = _poller(monkeypatch, kinesis, delivered).follow(lambda: kinesis.calls >= 6, poll_seconds=0.25)
    assert delivered == ["1", "2", "3"] and stats.batches == 2
    assert sleeps and set(sleeps) == {0.25}  # idle rounds wait the poll interval


def test_follow_drains_the_shard_before_it_stops(monkeypatch):
    kinesis, delivered = _FakeKinesis({1: [b"{}", b"{}"]}), []
    monkeypatch.setattr(poller_module.time, "sleep", lambda _: None)
    _poller(monkeypatch, kinesis, delivered).follow(lambda: True)
    assert delivered == ["1", "2"]
