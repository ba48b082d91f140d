"""The container's reference data (reference_cache.py): loaded once, loaded again after the refresh
interval (a new publication is picked up without a redeploy), a failed refresh keeps the copy
already loaded, a failed first load fails the batch, stale datasets reported once per load."""
from datetime import date

import pytest

from aml_contract.reference import ReferenceDataError
from lambdas.realtime_rules.reference_cache import REFRESH_SECONDS, ReferenceCache


class FakeData:
    def __init__(self, name, stale=()):
        self.name, self._stale = name, list(stale)

    def stale(self, today):
        return [f"{d} (version v, review by 2000-01-01)" for d in self._stale]


class Harness:
    def __init__(self, *loads):
        self.loads, self.now, self.stale, self.failed = list(loads), 0.0, [], []
        self.cache = ReferenceCache(self._load, on_stale=lambda d, text: self.stale.append(d),
                                    on_refresh_failed=self.failed.append, clock=lambda: self.now,
                                    today=lambda: date(2026, 1, 1))

    def _load(self):
        loaded = self.loads.pop(0)
        if isinstance(loaded, Exception):
            raise loaded
        return loaded


def test_loaded_once_then_again_after_the_refresh_interval():
    first, second = FakeData("first"), FakeData("second")
    h = Harness(first, second)
    assert h.cache.get() is first
    h.now = REFRESH_SECONDS - 1
    assert h.cache.get() is first
    h.now = REFRESH_SECONDS
    assert h.cache.get() is second and h.loads == []


def test_a_first_load_that_fails_raises_and_is_tried_again_at_the_next_batch():
    data = FakeData("ok")
    h = Harness(ReferenceDataError("fatf_lists is not published"), data)
    with pytest.raises(ReferenceDataError):
        h.cache.get()
    assert h.cache.get() is data


def test_a_refresh_that_fails_keeps_the_loaded_copy_and_is_tried_again():
    first, later = FakeData("first"), FakeData("later")
    err = ReferenceDataError("S3 did not answer")
    h = Harness(first, err, later)
    h.cache.get()
    h.now = REFRESH_SECONDS
    assert h.cache.get() is first and h.failed == [err]
    assert h.cache.get() is later


def test_stale_datasets_are_reported_once_per_load_and_never_refuse():
    stale = FakeData("stale", ["fx_rates", "fatf_lists"])
    h = Harness(stale, FakeData("reloaded", ["fatf_lists"]))
    assert h.cache.get() is stale and h.cache.get() is stale
    assert h.stale == ["fx_rates", "fatf_lists"]
    h.now = REFRESH_SECONDS
    h.cache.get()
    assert h.stale == ["fx_rates", "fatf_lists", "fatf_lists"]
