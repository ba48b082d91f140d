"""Run-time helpers of a curation run: the per-step timing log, and the frames it keeps."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import DataFrame

log = logging.getLogger("aml.glue.curation")


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Log how long a step took: the per-step profile of a run (the Spark UI is off locally)."""
    started = time.monotonic()
    try:
        yield
    finally:
        log.info("step %s took %.2f s", step, time.monotonic() - started)


class Checkpoints:
    """Frames computed once and read by several later actions, released when the run ends."""

    def __init__(self) -> None:
        self._kept: list[DataFrame] = []

    def keep(self, df: DataFrame) -> DataFrame:
        """Compute `df` now (one Spark action: observations on its plan report) and keep its rows,
        with the lineage cut. A local checkpoint keeps the rows as they are, where `persist` would
        first encode them into compressed column batches, which costs more than the merge
        (docs/glue-performance.md). The price: a lost executor loses its blocks and fails the
        run, which publishes nothing and is simply run again."""
        kept = df.localCheckpoint(eager=True)
        self._kept.append(kept)
        return kept

    def release(self) -> None:
        for df in self._kept:
            # Checkpointed blocks belong to the frame's RDD, not to the cache `unpersist` clears.
            df._jdf.queryExecution().logical().rdd().unpersist(False)
        self._kept.clear()
