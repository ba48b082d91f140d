"""Per-account window summaries in DynamoDB: the one place that reads and writes rule state.

One item per account (pk = account id, sk = SUMMARY_SORT_KEY) holds the account's summary
(window.AccountState) as compact JSON; `to_item` and `from_item` are its format.

Writes are optimistic: each item carries a version and is written with a conditional put
(`version = expected`, or `attribute_not_exists` for a new account), so two concurrent invocations
cannot lose an update; the loser reloads, re-applies its (idempotent) transactions and retries.
Only accounts whose summary changed are written. A batch costs one BatchGetItem and one
TransactWriteItems per 100 changed accounts (dynamo.py), run concurrently on a small thread pool
(boto3 clients are thread-safe). The transaction only batches the puts: an account whose version
check fails is retried on its own, the others are written (twice the write units of PutItem, a
hundredth of the calls).
"""
from __future__ import annotations

import json
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aml_contract import names
from lambdas.realtime_rules import dynamo
from lambdas.realtime_rules.window import AccountState, Event, Horizons

SUMMARY_SORT_KEY = "window-summary"
CONCURRENCY = 16  # parallel DynamoDB calls per batch (the boto3 client's pool is sized to match)
CACHE_LIMIT = 20_000  # account summaries kept per container (a summary is about 1 KB)
_PK, _SK, _TTL = (names.RULE_STATE_TABLE_KEYS[k] for k in ("partition", "sort", "ttl"))
STORED_ATTRIBUTES = [_PK, "version", "summary"]  # what from_item reads: no more is fetched


class TransientStateError(dynamo.DynamoUnavailable):
    """The state table did not answer (throttling, timeout): the affected records must be retried."""


# ---- the item format ----------------------------------------------------------------------
# summary: {"w": watermark, "f": first seen, "p": pruned last, "d": days,
#           "c": country (the account's usual side country; absent when none is known),
#           "e": {transaction id: [ts, cents, direction, counterparty, transaction type, round 0|1
#                                  (, country: only when it differs from "c", null for none)]},
#           "a": {rule id: [[anchor, first ts, last ts], ...]}}   (episodes; absent when none, so an
# item written before episodes existed reads back unchanged, and one without alerts is as before)
# An account's side is booked in one country almost always (its bank's), so the country is stored
# once per item rather than once per event (a busy account keeps thousands of events); an item
# written before countries existed (issue 22) reads back with none, and a summary without any
# writes exactly that format.
def to_item(state: AccountState, horizons: Horizons, now: float) -> dict:
    """The item storing `state` as its next version, kept until `horizons.ttl` after the later of
    its watermark and `now`."""
    usual = _usual_country(state.events.values())
    summary = {"w": state.watermark, "f": state.first_seen, "p": state.pruned_last, "d": state.days}
    if usual is not None:
        summary["c"] = usual
    summary["e"] = {tid: _pack(e, usual) for tid, e in state.events.items()}
    if state.episodes:
        summary["a"] = state.episodes
    expires = int(max(state.watermark or 0, now)) + horizons.ttl
    return {_PK: {"S": state.account_id}, _SK: {"S": SUMMARY_SORT_KEY},
            "version": {"N": str(state.version + 1)}, _TTL: {"N": str(expires)},
            "summary": {"S": json.dumps(summary, separators=(",", ":"))}}


def from_item(item: dict) -> AccountState:
    summary = json.loads(item["summary"]["S"])
    return AccountState(account_id=item[_PK]["S"], version=int(item["version"]["N"]), watermark=summary["w"],
                        first_seen=summary["f"], pruned_last=summary["p"], days=summary["d"],
                        episodes=summary.get("a", {}),
                        events={tid: _unpack(tid, packed, summary.get("c")) for tid, packed in summary["e"].items()})


def _usual_country(events: Iterable[Event]) -> str | None:
    """The most frequent known country (ties: the first in code order, so the item is stable)."""
    counts = Counter(e.country for e in events if e.country is not None)
    return min(counts, key=lambda c: (-counts[c], c)) if counts else None


def _pack(event: Event, usual: str | None) -> list:
    packed = [event.ts, event.cents, event.direction, event.counterparty, event.transaction_type, int(event.round)]
    return packed if event.country == usual else [*packed, event.country]


def _unpack(transaction_id: str, packed: list, usual: str | None) -> Event:
    ts, amount, direction, counterparty, transaction_type, is_round, *country = packed
    return Event(transaction_id, ts, amount, direction, counterparty, transaction_type, bool(is_round),
                 country[0] if country else usual)


# ---- the store ----------------------------------------------------------------------------
@dataclass
class SaveResult:
    saved: set[str] = field(default_factory=set)
    conflicts: set[str] = field(default_factory=set)  # someone else wrote first: reload and retry
    failed: dict[str, str] = field(default_factory=dict)  # account -> transient error


class StateStore:
    """Bulk reads (BatchGetItem) and versioned conditional writes (TransactWriteItems) of summaries,
    with the items this container last wrote or read kept in memory (see `load`)."""

    def __init__(self, dynamodb, table: str, horizons: Horizons, clock=time.time, concurrency: int = CONCURRENCY,
                 cache_limit: int = CACHE_LIMIT):
        self._ddb = dynamodb
        self._table = table
        self.horizons = horizons
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rule-state")
        self._cache: OrderedDict[str, dict] = OrderedDict()  # account -> stored item, least recent first
        self._cache_limit = cache_limit

    def load(self, account_ids: Iterable[str]) -> dict[str, AccountState]:
        """Every account's summary (a fresh one when none is stored). Raises TransientStateError.

        An account this container has read or written before is taken from memory: a shard's
        records reach one invocation at a time, so the copy is usually current. When it is not
        (another shard's invocation wrote the account since), the version check of `save` rejects
        the write and forgets the copy, and the engine reloads: nothing is lost, a retry is spent."""
        ids = sorted(set(account_ids))
        states = {a: AccountState(a) for a in ids}
        missing = [a for a in ids if a not in self._cache]
        keys = [{_PK: {"S": a}, _SK: {"S": SUMMARY_SORT_KEY}} for a in missing]
        try:
            items = dynamo.get_all(self._ddb, self._table, keys, self._pool.map, attributes=STORED_ATTRIBUTES) \
                if keys else []
        except dynamo.DynamoUnavailable as err:
            raise TransientStateError(str(err)) from err
        for item in items:
            self._remember(item[_PK]["S"], item)
        for account in ids:
            if account in self._cache:
                self._cache.move_to_end(account)
                states[account] = from_item(self._cache[account])
        return states

    def save(self, states: Iterable[AccountState]) -> SaveResult:
        """Write every changed summary under its version check; unchanged ones cost nothing. `states`
        may be a generator (the engine's evaluation): each full chunk is written while the next is
        still being produced."""
        now = self._clock()
        pending: list[AccountState] = []
        operations: list[dict] = []

        def changed() -> Iterator[dict]:
            for state in states:
                if state.dirty:
                    pending.append(state)
                    operations.append(self._put(state, now))
                    yield operations[-1]

        outcome = dynamo.write_all(self._ddb, changed(), self._pool.map)
        result = SaveResult()
        for index, state in enumerate(pending):
            if index in outcome.written:
                state.version += 1
                state.dirty = False
                result.saved.add(state.account_id)
                self._remember(state.account_id, operations[index]["Put"]["Item"])
            else:
                self._cache.pop(state.account_id, None)  # whatever is stored now, it is not our copy
                if index in outcome.rejected:
                    result.conflicts.add(state.account_id)
                else:
                    result.failed[state.account_id] = outcome.failed[index]
        return result

    def _remember(self, account: str, item: dict) -> None:
        self._cache[account] = item
        self._cache.move_to_end(account)
        while len(self._cache) > self._cache_limit:
            self._cache.popitem(last=False)

    def _put(self, state: AccountState, now: float) -> dict:
        put = {"TableName": self._table, "Item": to_item(state, self.horizons, now)}
        if state.version:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(state.version)}}
        else:
            put["ConditionExpression"] = f"attribute_not_exists({_PK})"
        return {"Put": put}
