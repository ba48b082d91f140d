"""What Lambda makes of a Kinesis handler's response when the event source mapping reports batch
item failures (FunctionResponseTypes: ReportBatchItemFailures), as documented in "Configuring
partial batch response with Kinesis Data Streams and Lambda"
(https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html):

- complete success: an empty or null `batchItemFailures` list, an empty or null response;
- complete failure: an `itemIdentifier` that is null or an empty string, or an entry with a wrong
  key name; Lambda then retries the batch under the mapping's retry policy;
- otherwise the checkpoint is the lowest sequence number listed: that record and every later one
  of the batch are delivered again.

Two shapes the page does not list are read the same strict way (a checkpoint Lambda cannot place
is no checkpoint): an `itemIdentifier` that is no sequence number of the batch, and a response
that is not a JSON object or whose `batchItemFailures` is not a list of objects (a malformed
body). Both are complete failures, so a handler bug never silently skips records.
"""
from __future__ import annotations

from dataclasses import dataclass

SUCCESS, PARTIAL, FAILURE = "success", "partial", "failure"


@dataclass(frozen=True)
class BatchOutcome:
    kind: str  # SUCCESS | PARTIAL | FAILURE
    retry_from: str | None = None  # PARTIAL: the sequence number to re-deliver from
    reason: str = ""  # FAILURE: which rule made it one

    @property
    def failed(self) -> bool:
        return self.kind != SUCCESS


def read_response(response: object, sequence_numbers: list[str]) -> BatchOutcome:
    """The outcome of one invocation whose batch held `sequence_numbers`."""
    if response is None:
        return BatchOutcome(SUCCESS)
    if not isinstance(response, dict):
        return BatchOutcome(FAILURE, reason=f"response is not a JSON object: {type(response).__name__}")
    failures = response.get("batchItemFailures")
    if not failures:  # absent, null or empty: the batch succeeded
        return BatchOutcome(SUCCESS)
    if not isinstance(failures, list):
        return BatchOutcome(FAILURE, reason="batchItemFailures is not a list")
    known = set(sequence_numbers)
    listed = []
    for entry in failures:
        if not isinstance(entry, dict) or "itemIdentifier" not in entry:
            return BatchOutcome(FAILURE, reason=f"batch item failure without itemIdentifier: {entry!r}")
        identifier = entry["itemIdentifier"]
        if identifier is None or identifier == "":
            return BatchOutcome(FAILURE, reason="null or empty itemIdentifier")
        if identifier not in known:
            return BatchOutcome(FAILURE, reason=f"itemIdentifier {identifier!r} is not in the batch")
        listed.append(identifier)
    return BatchOutcome(PARTIAL, retry_from=min(listed, key=int))
