"""What a rule returns, and the window arithmetic and amount floors the rules share.

An event whose USD amount is unknown (window.Event.cents None) takes part in what is counted
(events, counterparties, depositors of any amount) and in no sum or amount threshold: the rules
that need an amount leave it out of their evidence, as the named queries' sums ignore nulls.

Amount floors (`amount_floor`): a rule's USD floor may be lowered to a percentile of the amounts
booked in the account-side country of the transactions it reads (aml_contract.segments, the one
definition; the statistics come with the reference data, ReferenceData.segment_floors). The
alert's details name the floor applied and where it came from, so an analyst sees why it fired."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aml_contract import schema
from aml_contract.reference import FatfLists
from aml_contract.rules import Rule as ContractRule
from aml_contract.rules import RuleParameters
from aml_contract.segments import SegmentFloors, segment_of
from lambdas.realtime_rules.records import Transaction
from lambdas.realtime_rules.window import DAY, HOUR, AccountState, Event


@dataclass(frozen=True)
class AlertDraft:
    """A rule's finding. `anchor` plus rule and subject identify the episode: the alert id is
    derived from them, so the same episode found again (redelivery, a later record extending
    the same window) maps to the same alert."""

    rule_id: str
    subject_account_id: str
    anchor: str
    transaction_ids: tuple[str, ...]
    event_time: int
    window_start: int
    window_end: int
    details: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[Transaction, AccountState, RuleParameters], list[AlertDraft]]


def direction(tx: Transaction, state: AccountState) -> str:
    """The transaction seen from the state's account: money out of it, or into it."""
    return "out" if tx.originator_account_id == state.account_id else "in"


def counterparty_country(tx: Transaction, side: str) -> str | None:
    """The other party's country seen from the account's `side`: the beneficiary's of money out,
    the originator's of money in."""
    return tx.beneficiary_country if side == "out" else tx.originator_country


def fatf_listing(tx: Transaction, country: str | None) -> tuple[FatfLists, str | None]:
    """The FATF publication in force on the transaction's UTC booking day, and the list `country`
    is on in it ('call_for_action', 'grey_list'; None for none, or no country)."""
    lists = tx.reference.fatf_lists(tx.booked_on)
    return lists, lists.list_of(country)


def usd(cents: int | None) -> float | None:
    return None if cents is None else cents / 100


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def seconds(rule: ContractRule) -> int:
    """A rule's window length: `window_days` or `window_hours`."""
    return rule["window_days"] * DAY if "window_days" in rule.params else rule["window_hours"] * HOUR


def windows_containing(ts: int, events: list[Event], length: int) -> Iterator[tuple[int, int, list[Event]]]:
    """Each window [end - length, end] (both ends inclusive) that contains `ts`: one ending at
    `ts` and one ending at every later event within `length` of it. `events` sorted by time."""
    times = [e.ts for e in events]
    ends = sorted({ts, *times[bisect_right(times, ts):bisect_right(times, ts + length)]})
    for end in ends:  # slices of the sorted events: a busy account's late record reads each window once
        yield end - length, end, events[bisect_left(times, end - length):bisect_right(times, end)]


@dataclass(frozen=True)
class Floor:
    """The USD floor a rule's amount parameter `name` sets for some transactions: the absolute
    parameter (`segment` None), or the `percentile` of `segment`'s amounts below it."""

    name: str
    usd: Decimal
    shown: int | float  # in the details: the parameter as the file writes it, or the percentile amount
    segment: str | None = None
    percentile: int | None = None

    def reached_by(self, cents: int) -> bool:
        """`cents` at or above the floor, exactly (Decimal: no float decides a boundary)."""
        return cents >= self.usd * 100

    def details(self) -> dict[str, Any]:
        return {f"{self.name}_usd": self.shown, "floor_basis": "absolute" if self.segment is None else "segment",
                "floor_segment": self.segment, "floor_percentile": self.percentile}


# amount_floor's answers, by the identities of the statistics and rule objects (both immutable; a
# refreshed reference or parameter set is a new object), the parameter and the set of countries.
# The rules ask for the same few floors for every transaction: this is a dictionary lookup instead
# of Decimal and Fraction arithmetic (a tenth of a batch's time before). The entry keeps both
# objects, so an id reused after one is freed never answers for another.
_FLOORS: dict[tuple, tuple[SegmentFloors, ContractRule, Floor]] = {}
_FLOORS_MAX = 4096


def amount_floor(tx: Transaction, rule: ContractRule, name: str, countries: Iterable[str | None]) -> Floor:
    """The floor of `rule`'s parameter `name` for transactions whose account-side countries are
    `countries` (aml_contract.segments.SegmentFloors.floor: the lowest across them), with the
    segment that set it (the first in code order on a tie; the absolute floor wins a tie with it)."""
    statistics, wanted = tx.reference.segment_floors, frozenset(countries)
    key = (id(statistics), id(rule), name, wanted)
    hit = _FLOORS.get(key)
    if hit is not None and hit[0] is statistics and hit[1] is rule:
        return hit[2]
    if len(_FLOORS) >= _FLOORS_MAX:
        _FLOORS.clear()
    floor = _floor(statistics, rule, name, wanted)
    _FLOORS[key] = (statistics, rule, floor)
    return floor


def _floor(statistics: SegmentFloors, rule: ContractRule, name: str, wanted: frozenset[str | None]) -> Floor:
    countries = sorted(wanted, key=lambda c: c or "") or [None]
    lowest = statistics.floor(rule, name, countries)
    if lowest >= rule.exact(name):
        return Floor(name, lowest, rule[name])
    country = next(c for c in countries if statistics.floor(rule, name, [c]) == lowest)
    return Floor(name, lowest, float(lowest), segment_of(country), rule.percentile(name))


CASH_DEPOSITOR_PREFIX = f"{schema.CASH_ACCOUNT_ID}:"
