"""The accounts' profiles (aml_contract.profiles) as the rules read them: fetched from the profiles
table with BatchGetItem, by pseudonymised account id, and kept in memory for a while.

Profiles change once a day (the daily pipeline loads them), so a copy fetched within
CACHE_SECONDS is used as is, an account without a profile included: a warm container reads the
table only for accounts it has not asked about lately. The table is read beside the state table,
in calls of its own (a BatchGetItem returns at most 100 items across all its tables, so mixing them
would not save calls); docs/profiles.md has the measured calls per 1,000 accounts.

Whether a profile may serve an event (its as_of day, its age) is the contract's
(Profile.serves); the store returns what is stored.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from aml_contract import names
from aml_contract.profiles import ITEM_ATTRIBUTES, Profile
from aml_contract.pseudonym import pseudonymise
from lambdas.realtime_rules import dynamo
from lambdas.realtime_rules.state_store import CONCURRENCY

CACHE_SECONDS = 900  # a profile changes once a day: a copy this old is as good as the stored one
CACHE_LIMIT = 50_000  # profiles kept per container (a profile is about 1 KB)
_KEY = names.PROFILES_TABLE_KEYS["partition"]


class TransientProfileError(dynamo.DynamoUnavailable):
    """The profiles table did not answer: the affected records must be retried (a missing
    profile would change what the rules decide, so it is never assumed)."""


class ProfileStore:
    def __init__(self, dynamodb, table: str, pseudonym_key: Callable[[], bytes],
                 clock: Callable[[], float] = time.monotonic, cache_seconds: float = CACHE_SECONDS,
                 cache_limit: int = CACHE_LIMIT):
        self._ddb, self._table, self._key = dynamodb, table, pseudonym_key
        # the calls run beside the state store's (engine.py): the handler's client pool fits both
        self._map = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="profiles").map
        self._clock, self._cache_seconds, self._cache_limit = clock, cache_seconds, cache_limit
        self._cache: OrderedDict[str, tuple[float, Profile | None]] = OrderedDict()  # account -> (read at, profile)
        self._pids: dict[str, str] = {}
        self.calls = 0  # BatchGetItem requests made (for the benchmark)
        self.unreadable = 0  # stored items that are no profile (taken by the engine as a count)

    def load(self, account_ids: Iterable[str]) -> dict[str, Profile | None]:
        """Each account's stored profile (None: none stored). Raises TransientProfileError."""
        now = self._clock()
        ids = sorted(set(account_ids))
        stale = [a for a in ids if a not in self._cache or now - self._cache[a][0] >= self._cache_seconds]
        if stale:
            by_pid = {self._pid(a): a for a in stale}
            keys = [{_KEY: {"S": pid}} for pid in by_pid]
            self.calls += -(-len(keys) // dynamo.GET_LIMIT)
            try:
                items = dynamo.get_all(self._ddb, self._table, keys, self._map, attributes=list(ITEM_ATTRIBUTES))
            except dynamo.DynamoUnavailable as err:
                raise TransientProfileError(str(err)) from err
            found = {item[_KEY]["S"]: self._read(item) for item in items}
            for pid, account in by_pid.items():
                self._remember(account, now, found.get(pid))
        for account in ids:
            self._cache.move_to_end(account)
        return {a: self._cache[a][1] for a in ids}

    def _read(self, item: dict) -> Profile | None:
        """The item's profile; an item that is none (a writer's defect) is counted and read as no
        profile, so one bad item cannot hold its account's records back for ever."""
        try:
            return Profile.from_item(item)
        except (KeyError, TypeError, ValueError):
            self.unreadable += 1
            return None

    def take_unreadable(self) -> int:
        found, self.unreadable = self.unreadable, 0
        return found

    def _pid(self, account: str) -> str:
        pid = self._pids.get(account)
        if pid is None:
            if len(self._pids) >= self._cache_limit:
                self._pids.clear()
            pid = self._pids[account] = pseudonymise(account, self._key())
        return pid

    def _remember(self, account: str, at: float, profile: Profile | None) -> None:
        self._cache[account] = (at, profile)
        self._cache.move_to_end(account)
        while len(self._cache) > self._cache_limit:
            self._cache.popitem(last=False)
