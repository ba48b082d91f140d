"""Kinesis PutRecords for the local runtime's producers (the replicator's DMS target, `aml stream
replay`): records in chunks of the API's maximum, only the failed ones re-sent, with back-off."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from aml.errors import AmlError

log = logging.getLogger(__name__)
PUT_RECORDS_LIMIT = 500  # records per PutRecords call (the API's maximum)
MAX_ATTEMPTS = 8


def put_records(kinesis, stream: str, records: Sequence[tuple[str, bytes]], *, hint: str | None = None,
                max_attempts: int = MAX_ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Put (partition key, data) records on `stream`, in order, PUT_RECORDS_LIMIT per call; a record
    the stream rejects (throttling) is re-sent up to `max_attempts` times in all. Returns each
    record's result ({"ShardId", "SequenceNumber"}) in the order of `records`. Raises AmlError,
    with `hint`, for records still rejected after the last attempt."""
    results: list[dict] = []
    for start in range(0, len(records), PUT_RECORDS_LIMIT):
        chunk = records[start:start + PUT_RECORDS_LIMIT]
        answered: list[dict | None] = [None] * len(chunk)
        pending = list(range(len(chunk)))
        for attempt in range(1, max_attempts + 1):
            response = kinesis.put_records(StreamName=stream, Records=[
                {"PartitionKey": chunk[i][0], "Data": chunk[i][1]} for i in pending])
            failed = []
            for index, result in zip(pending, response["Records"], strict=True):
                if "ErrorCode" in result:
                    failed.append((index, result["ErrorCode"]))
                else:
                    answered[index] = result
            if not failed:
                break
            codes = ", ".join(sorted({code for _, code in failed}))
            if attempt == max_attempts:
                raise AmlError(f"{len(failed)} records could not be written to stream {stream!r} after "
                               f"{max_attempts} attempts ({codes})", hint)
            log.warning("PutRecords: %d of %d records failed (%s), retrying", len(failed), len(pending), codes)
            pending = [index for index, _ in failed]
            sleep(min(0.1 * 2 ** attempt, 5))
        results += answered
    return results
