"""What a rule returns, and the window arithmetic the windowed rules share.

An event whose USD amount is unknown (window.Event.cents None) takes part in what is counted
(events, counterparties, depositors of any amount) and in no sum or amount threshold: the rules
that need an amount leave it out of their evidence, as the named queries' sums ignore nulls."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aml_contract import schema
from aml_contract.rules import Rule as ContractRule
from aml_contract.rules import RuleParameters
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
    ends = sorted({ts} | {e.ts for e in events if ts < e.ts <= ts + length})
    for end in ends:
        yield end - length, end, [e for e in events if end - length <= e.ts <= end]


CASH_DEPOSITOR_PREFIX = f"{schema.CASH_ACCOUNT_ID}:"
