"""Per-account window summaries in DynamoDB: the one place that reads and writes rule state.

One item per account (pk = account id, sk = SUMMARY_SORT_KEY) holds a compact summary:
- `events`: the account's transactions within the longest event-level window plus the
  out-of-order tolerance (round-amount ones for the round-amount window), keyed by transaction id
  so re-applying a redelivered record is a no-op;
- `days`: per UTC day [count, cents, last event ts] for the velocity baseline and dormancy;
- the watermark (latest event time seen), first event time, and the latest pruned event time.

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
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from aml_contract import names
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules import dynamo
from lambdas.realtime_rules.records import Transaction

SUMMARY_SORT_KEY = "window-summary"
DAY = 86_400
HOUR = 3_600
CONCURRENCY = 16  # parallel DynamoDB calls per batch (the boto3 client's pool is sized to match)
CACHE_LIMIT = 20_000  # account summaries kept per container (a summary is about 1 KB)
_PK, _SK, _TTL = (names.RULE_STATE_TABLE_KEYS[k] for k in ("partition", "sort", "ttl"))
STORED_ATTRIBUTES = [_PK, "version", "summary"]  # what from_item reads: no more is fetched


class TransientStateError(dynamo.DynamoUnavailable):
    """The state table did not answer (throttling, timeout): the affected records must be retried."""


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def utc_day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


@dataclass(frozen=True)
class Horizons:
    """How long each part of the summary is kept, derived from the rule parameters."""

    tolerance: int  # seconds an event may arrive behind the account's watermark
    events: int
    round_events: int
    days: int
    ttl: int

    @classmethod
    def from_params(cls, params: RuleParameters) -> Horizons:
        r = params.rule
        tolerance = params.out_of_order_tolerance_hours * HOUR
        event_windows = [
            r("large_cash")["window_days"] * DAY, r("structuring")["window_days"] * DAY,
            r("smurfing")["window_days"] * DAY, r("rapid_movement")["window_hours"] * HOUR,
            r("fan_in")["window_hours"] * HOUR, r("fan_out")["window_hours"] * HOUR,
            r("dormant_reactivation")["window_days"] * DAY, r("velocity_spike")["window_days"] * DAY,
        ]
        velocity = r("velocity_spike")
        days = velocity["baseline_days"] + velocity["window_days"] + -(-tolerance // DAY) + 1
        events = max(event_windows) + tolerance
        round_events = r("round_amounts")["window_days"] * DAY + tolerance
        # Kept past the dormancy period too, so an account idle that long is still recognised.
        ttl = max(events, round_events, days * DAY) + r("dormant_reactivation")["dormant_days"] * DAY
        return cls(tolerance, events, round_events, days, ttl)


@dataclass(frozen=True)
class Event:
    transaction_id: str
    ts: int
    cents: int  # amount_base (USD) in cents
    direction: str  # "in" | "out", seen from the account
    counterparty: str
    transaction_type: str
    round: bool  # a round amount in its own currency (round-amount rule)

    def pack(self) -> list:
        return [self.ts, self.cents, self.direction, self.counterparty, self.transaction_type, int(self.round)]

    @classmethod
    def unpack(cls, transaction_id: str, packed: list) -> Event:
        ts, amount, direction, counterparty, transaction_type, is_round = packed
        return cls(transaction_id, ts, amount, direction, counterparty, transaction_type, bool(is_round))


@dataclass
class AccountState:
    account_id: str
    version: int = 0  # 0: not stored yet
    watermark: int | None = None
    first_seen: int | None = None
    pruned_last: int | None = None  # latest event time dropped from `days`
    events: dict[str, Event] = field(default_factory=dict)
    days: dict[str, list[int]] = field(default_factory=dict)  # day -> [count, cents, last ts]
    dirty: bool = False
    # Views the rules read many times per batch, rebuilt after a change (add and prune reset them).
    _sorted: list[Event] | None = field(default=None, repr=False, compare=False)
    _activity: list[int] | None = field(default=None, repr=False, compare=False)

    def is_late(self, ts: int, horizons: Horizons) -> bool:
        return self.watermark is not None and ts < self.watermark - horizons.tolerance

    def add(self, event: Event, horizons: Horizons) -> bool:
        """Apply an event once (False if already applied); the caller checks lateness first."""
        if event.transaction_id in self.events or self.is_late(event.ts, horizons):
            return False
        self.events[event.transaction_id] = event
        day = self.days.setdefault(utc_day(event.ts), [0, 0, event.ts])
        day[0] += 1
        day[1] += event.cents
        day[2] = max(day[2], event.ts)
        self.watermark = max(self.watermark or event.ts, event.ts)
        self.first_seen = min(self.first_seen or event.ts, event.ts)
        self.dirty = True
        self._sorted = self._activity = None
        self._prune(horizons)
        return True

    def _prune(self, horizons: Horizons) -> None:
        mark = self.watermark or 0
        self.events = {tid: e for tid, e in self.events.items()
                       if e.ts >= mark - horizons.events or (e.round and e.ts >= mark - horizons.round_events)}
        oldest_day = utc_day(mark - horizons.days * DAY)
        for day in [d for d in self.days if d < oldest_day]:
            self.pruned_last = max(self.pruned_last or 0, self.days.pop(day)[2])

    # ---- read helpers for the rules --------------------------------------------------------
    def sorted_events(self) -> list[Event]:
        """The events by time (shared: callers must not modify the list)."""
        if self._sorted is None:
            self._sorted = sorted(self.events.values(), key=lambda e: (e.ts, e.transaction_id))
        return self._sorted

    def previous_activity(self, before: int) -> int | None:
        """The latest event time strictly before `before` that the summary still knows of."""
        if self._activity is None:
            known = [e.ts for e in self.events.values()] + [d[2] for d in self.days.values()]
            self._activity = sorted(known + ([self.pruned_last] if self.pruned_last is not None else []))
        at = bisect_left(self._activity, before)
        return self._activity[at - 1] if at else None

    def day_totals(self, first_day: str, end_day: str) -> tuple[int, int]:
        """(count, cents) over the days in [first_day, end_day)."""
        picked = [v for d, v in self.days.items() if first_day <= d < end_day]
        return sum(v[0] for v in picked), sum(v[1] for v in picked)

    # ---- storage format --------------------------------------------------------------------
    def to_item(self, horizons: Horizons, now: float) -> dict:
        summary = {"w": self.watermark, "f": self.first_seen, "p": self.pruned_last, "d": self.days,
                   "e": {tid: e.pack() for tid, e in self.events.items()}}
        expires = int(max(self.watermark or 0, now)) + horizons.ttl
        return {_PK: {"S": self.account_id}, _SK: {"S": SUMMARY_SORT_KEY},
                "version": {"N": str(self.version + 1)}, _TTL: {"N": str(expires)},
                "summary": {"S": json.dumps(summary, separators=(",", ":"))}}

    @classmethod
    def from_item(cls, item: dict) -> AccountState:
        summary = json.loads(item["summary"]["S"])
        return cls(account_id=item[_PK]["S"], version=int(item["version"]["N"]), watermark=summary["w"],
                   first_seen=summary["f"], pruned_last=summary["p"], days=summary["d"],
                   events={tid: Event.unpack(tid, packed) for tid, packed in summary["e"].items()})


def event_for(tx: Transaction, direction: str, counterparty: str, round_modulus: int) -> Event:
    return Event(tx.transaction_id, tx.ts, cents(tx.amount_base), direction, counterparty,
                 tx.transaction_type, tx.amount % round_modulus == 0)


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
                states[account] = AccountState.from_item(self._cache[account])
        return states

    def save(self, states: Iterable[AccountState]) -> SaveResult:
        """Write every changed summary under its version check; unchanged ones cost nothing."""
        pending = [s for s in states if s.dirty]
        now = self._clock()
        operations = [self._put(s, now) for s in pending]
        outcome = dynamo.write_all(self._ddb, operations, self._pool.map)
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
        put = {"TableName": self._table, "Item": state.to_item(self.horizons, now)}
        if state.version:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(state.version)}}
        else:
            put["ConditionExpression"] = f"attribute_not_exists({_PK})"
        return {"Put": put}
