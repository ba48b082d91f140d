"""The reference data (aml_contract.reference) one container keeps: read at its first batch, read
again after `REFRESH_SECONDS`.

Why a refresh at all: a FATF plenary's new lists or a new day of FX rates is published into the
curated bucket (`aml reference publish`, or the stack's deployment) without redeploying the
function; a container can live for hours. Why 15 minutes: a new publication is in force from its
effective date, known days ahead, and a rate for day d is only needed by payments booked on d, so
a quarter of an hour is well inside the margin, while the reads (three small manifests and two
objects, the FX table only when a payment lacks its amount_base) stay a handful per container per
hour.

What is loaded (`load_reference`): the published datasets and the segment statistics the Glue job
derives (aml_contract.segments; none published yet: every floor is absolute), all read at load,
so no record ever waits on S3 and a broken object fails the load, as below.

A missing or corrupt dataset (ReferenceDataError) is an error of the function, not of a record:
without the currencies or the lists no record can be judged, so dead-lettering them would lose
valid payments. At a container's first load it propagates: the invocation fails and the event
source mapping retries the batch (bisected, up to its retry attempts and record age; only then
does the batch's pointer go to the on-failure destination, the records staying in the stream for
a replay), and the function's Errors alarm fires
(https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). A refresh that
fails keeps the data already loaded (it was valid when read) and is tried again at the next batch.

Staleness (a dataset past its manifest's review date) never stops records: `on_stale` is told
each stale dataset once per load (the FX table once it has been read, lazily; the statistics'
manifest carries a review date too), for a metric and a warning.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from aml_contract.reference import ReferenceData

REFRESH_SECONDS = 15 * 60


def load_reference(s3_client, bucket: str) -> ReferenceData:
    """The reference data in `bucket` with its segment statistics read now: ReferenceData reads
    them at first use otherwise, which would be a record's rule, and a broken statistics object
    (ReferenceDataError) must fail the load (an error of the function), never a record."""
    data = ReferenceData.from_s3(s3_client, bucket)
    data.segment_floors  # noqa: B018 -- read for its effect (cached on `data`)
    return data


class ReferenceCache:
    def __init__(self, load: Callable[[], ReferenceData], *, on_stale: Callable[[str, str], None],
                 on_refresh_failed: Callable[[Exception], None], refresh_seconds: int = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()):
        self._load, self._on_stale, self._on_refresh_failed = load, on_stale, on_refresh_failed
        self._refresh, self._clock, self._today = refresh_seconds, clock, today
        self._data: ReferenceData | None = None
        self._loaded_at = 0.0
        self._reported: set[str] = set()

    def get(self) -> ReferenceData:
        """The reference data for this batch (loading or refreshing it when due). Raises what the
        load raises when there is nothing loaded yet."""
        if self._data is None or self._clock() - self._loaded_at >= self._refresh:
            try:
                data = self._load()
            except Exception as err:
                if self._data is None:
                    raise
                self._on_refresh_failed(err)
            else:
                self._data, self._loaded_at, self._reported = data, self._clock(), set()
        self._report_stale()
        return self._data

    def _report_stale(self) -> None:
        for entry in self._data.stale(self._today()):
            dataset = entry.split(" ", 1)[0]  # ReferenceData.stale: "<dataset> (version ..., review by ...)"
            if dataset not in self._reported:
                self._reported.add(dataset)
                self._on_stale(dataset, entry)
