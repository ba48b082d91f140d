"""The engine's partial batch response, the shape Lambda reads with ReportBatchItemFailures."""
from lambdas.realtime_rules.engine import BatchOutcome


def test_failed_records_are_reported_in_batch_order():
    outcome = BatchOutcome(["10", "11", "12", "13"], failed={"13": "state of A: throttled", "11": "dead-letter: x"})
    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "13"}]}


def test_a_batch_without_failures_reports_none():
    assert BatchOutcome(["10", "11"]).response() == {"batchItemFailures": []}
