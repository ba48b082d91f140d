"""The rules' window model: one account's recent activity on event time, and the time helpers
the rules share. Pure data and arithmetic: no AWS, no cache, no threads (the store, state_store.py,
reads and writes it; its item format lives there).

An account's summary holds:
- `events`: the account's transactions within the longest event-level window plus the late-record
  horizon (round-amount ones for the round-amount window), keyed by transaction id so re-applying
  a redelivered record is a no-op;
- `days`: per UTC day [count, cents, last event ts] for the velocity baseline and dormancy (the
  count holds every event, the cents only those whose amount is known, as SQL's sum ignores nulls);
- `episodes`: per sliding-window rule, the alerts already raised, as [anchor, first, last] (the
  event-time span of the alert's evidence), so a window re-anchored by a late record joins the
  alert it overlaps instead of raising a second one (see `episode_anchor`);
- the watermark (latest event time seen), first event time, and the latest pruned event time.

Late records. An event up to `Horizons.tolerance` (the parameter file's
`out_of_order_tolerance_hours`, 7 days) behind its account's watermark is applied and every window
containing it is evaluated again, since the summary keeps every event and day those windows read.
An event further behind is beyond the horizon: `beyond_horizon` says so, it is not applied (its
windows' other events are gone), only the stateless rules see it, and the engine counts, logs and
publishes it (metric `names.LATE_BEYOND_HORIZON_METRIC`, alarmed by the monitoring stack).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from aml_contract.alert_identity import join_target
from aml_contract.profiles import Profile
from aml_contract.rules import RuleParameters
from aml_contract.segments import side_country
from lambdas.realtime_rules.records import Transaction

DAY = 86_400
HOUR = 3_600


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def utc_day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


@dataclass(frozen=True)
class Horizons:
    """How long each part of the summary is kept, derived from the rule parameters.

    The events are kept for the longest event-level window the Lambda evaluates plus the
    late-record horizon. For fan_in/fan_out that is their `realtime` windows only
    (Rule.count_windows(realtime_only=True); 168 h today, no longer than smurfing's 7 days, so the
    horizon stays 14 days). Their 672 h windows carry `realtime: false` and are batch-only
    (Athena): keeping 28 days plus the 7-day horizon of every account's events would make the
    state item 2.5 times larger, and a busy account's item would reach DynamoDB's 400 KB limit at
    about 135 transactions a day instead of about 340 (README, "Rule state of very busy accounts"),
    with each put's write units growing alike."""

    tolerance: int  # the late-record horizon: seconds an event may be behind its account's watermark
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
            r("structuring_non_cash")["window_days"] * DAY,
            r("smurfing")["window_days"] * DAY, r("rapid_movement")["window_hours"] * HOUR,
            r("dormant_reactivation")["window_days"] * DAY, r("velocity_spike")["window_days"] * DAY,
        ] + [w.window_hours * HOUR for rule_id in ("fan_in", "fan_out")
             for w in r(rule_id).count_windows(realtime_only=True)]
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
    cents: int | None  # amount_base (USD) in cents; None: unknown (no source value, no reference rate)
    direction: str  # "in" | "out", seen from the account
    counterparty: str
    transaction_type: str
    round: bool  # a round amount in its own currency (round-amount rule)
    # The country on the account's side (aml_contract.segments.side_country): its segment, whose
    # statistics may lower a rule's amount floor. None: unknown, or stored before issue 22.
    country: str | None = None


@dataclass
class AccountState:
    account_id: str
    version: int = 0  # the stored summary's version (0: not stored yet); the store checks and bumps it
    watermark: int | None = None
    first_seen: int | None = None
    pruned_last: int | None = None  # latest event time dropped from `days`
    events: dict[str, Event] = field(default_factory=dict)
    days: dict[str, list[int]] = field(default_factory=dict)  # day -> [count, cents, last ts]
    episodes: dict[str, list[list]] = field(default_factory=dict)  # rule -> [[anchor, first ts, last ts]]
    dirty: bool = False  # changed since loaded or stored
    # The account's profile from the daily pipeline (aml_contract.profiles), set by the engine for
    # the batch: read by the rules, never stored with the summary.
    profile: Profile | None = field(default=None, repr=False, compare=False)
    # Views the rules read many times per batch, rebuilt after a change (add and prune reset them).
    _sorted: list[Event] | None = field(default=None, repr=False, compare=False)
    _activity: list[int] | None = field(default=None, repr=False, compare=False)

    def beyond_horizon(self, ts: int, horizons: Horizons) -> bool:
        """Too far behind the watermark for the windows to be evaluated again."""
        return self.watermark is not None and ts < self.watermark - horizons.tolerance

    def add(self, event: Event, horizons: Horizons) -> bool:
        """Apply an event once (False if already applied or beyond the horizon)."""
        if event.transaction_id in self.events or self.beyond_horizon(event.ts, horizons):
            return False
        self.events[event.transaction_id] = event
        day = self.days.setdefault(utc_day(event.ts), [0, 0, event.ts])
        day[0] += 1
        day[1] += event.cents or 0
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
        # An episode can be joined only by a window holding an event within the horizon: one
        # ending before the oldest such window's start is kept no longer than the events.
        for rule_id, known in list(self.episodes.items()):
            keep = mark - (horizons.round_events if rule_id == "round_amounts" else horizons.events)
            kept = [e for e in known if e[2] >= keep]
            if kept:
                self.episodes[rule_id] = kept
            else:
                del self.episodes[rule_id]

    def episode_anchor(self, rule_id: str, anchor: str, first: int, last: int) -> str:
        """The anchor under which a finding of `rule_id` with evidence spanning event times
        [first, last] is raised: that of an episode already raised for the rule whose evidence span
        overlaps it (the earliest such, by first event time then anchor: aml_contract.alert_identity,
        the rule batch alerts follow too), else `anchor`, recorded as
        a new episode. A finding found again (redelivery, another window of the same activity,
        a window re-anchored by a late record) so keeps the alert id it was first raised under."""
        known = self.episodes.setdefault(rule_id, [])
        # closed spans of whole seconds: [first, last] is [first, last + 1) (aml_contract.alert_identity)
        joined = join_target(((e[0], e[1], e[2] + 1) for e in known), first, last + 1)
        if joined is not None:
            return joined
        known.append([anchor, first, last])
        self.dirty = True
        return anchor

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

    def profile_for(self, ts: int, params: RuleParameters) -> Profile | None:
        """The account's profile when it may describe the history before an event at `ts`
        (Profile.serves: as of an earlier day, not older than max_age_days), else None."""
        profile = self.profile
        return profile if profile is not None and profile.serves(ts, params.profiles) else None

    def day_totals(self, first_day: str, end_day: str) -> tuple[int, int]:
        """(count, cents) over the days in [first_day, end_day)."""
        picked = [v for d, v in self.days.items() if first_day <= d < end_day]
        return sum(v[0] for v in picked), sum(v[1] for v in picked)


def known_cents(events) -> list[int]:
    """The amounts of the events whose amount is known: what a sum or a threshold reads."""
    return [e.cents for e in events if e.cents is not None]


def event_for(tx: Transaction, direction: str, counterparty: str, round_modulus: int) -> Event:
    amount = None if tx.amount_base is None else cents(tx.amount_base)
    return Event(tx.transaction_id, tx.ts, amount, direction, counterparty, tx.transaction_type,
                 tx.amount % round_modulus == 0, side_country(direction, tx.originator_country, tx.beneficiary_country))
