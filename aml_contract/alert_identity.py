"""When two findings are the same alert: one rule for the real-time and the batch path.

Two findings are one alert when they name the same subject account, the same scenario (rule id)
and windows that overlap. A window is half-open, [start, end): two windows overlap when each
starts before the other ends, so adjacent windows (one ending where the next starts) are two
alerts. Real-time windows slide with the events (the rules Lambda's window_start/window_end);
batch windows are whole UTC days, [first day 00:00, the day after the last 00:00), because a
scenario query reports the days of its evidence (`batch_window`).

A finding that overlaps several alerts joins the earliest, by window start and then id. This is
the rules Lambda's re-anchoring rule for late records (lambdas/realtime_rules/window.py,
AccountState.episode_anchor, over the closed event-time span [first, last] of an episode's
evidence, i.e. [first, last + 1) in whole seconds), used here for every path, so the alert a
finding joins never depends on which path or which record saw it first.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

T = TypeVar("T", int, float, datetime)


def overlaps(a_start: T, a_end: T, b_start: T, b_end: T) -> bool:
    """[a_start, a_end) and [b_start, b_end) share an instant."""
    return a_start < b_end and b_start < a_end


def join_target(known: Iterable[tuple[str, T, T]], start: T, end: T) -> str | None:
    """The id of the alert a finding with window [start, end) joins: the earliest (window start,
    then id) of `known` (id, start, end) overlapping it, or None (a new alert)."""
    found = [(s, ident) for ident, s, e in known if overlaps(s, e, start, end)]
    return min(found)[1] if found else None


def batch_window(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """A batch finding's window: [first_day 00:00 UTC, the day after last_day 00:00 UTC)."""
    if last_day < first_day:
        raise ValueError(f"a window cannot end ({last_day}) before it starts ({first_day})")
    start = datetime.combine(first_day, time(), UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time(), UTC)
