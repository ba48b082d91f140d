"""Timed, announced pipeline stages: progress on stderr, seconds per stage in the summary."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    @contextmanager
    def stage(self, name: str, text: str):
        print(f"[{len(self.seconds) + 1}] {text} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 2)
        print(f"    {name} done in {self.seconds[name]:.1f}s", file=sys.stderr, flush=True)

    def record(self, name: str, seconds: float) -> None:
        """A stage that ran beside another (in a worker), timed where it ran."""
        self.seconds[name] = round(seconds, 2)
        print(f"    {name} done in {self.seconds[name]:.1f}s (beside the stage above)", file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self._started, 2)
