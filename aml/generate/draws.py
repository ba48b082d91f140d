"""Small random draws and calendar helpers shared by the everyday background and its look-alikes."""
from __future__ import annotations

import calendar

import numpy as np

from aml.generate.timebase import ACTIVE_FROM, ACTIVE_TO, DAY, Timebase


def lognormal(rng, median: float, sigma: float, n: int, low: float, high: float) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median), sigma, n), low, high)


def months(time: Timebase) -> list[tuple[int, int]]:
    out, (y, m) = [], (time.start_date.year, time.start_date.month)
    while calendar.timegm((y, m, 1, 0, 0, 0)) < time.end:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def monthly(time: Timebase, day_of_month: np.ndarray, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index into the inputs, timestamp) of each monthly occurrence inside the bank's period."""
    idx, ts = [], []
    for y, m in months(time):
        last = calendar.monthrange(y, m)[1]
        stamp = calendar.timegm((y, m, 1, 0, 0, 0)) + (np.minimum(day_of_month, last) - 1) * DAY + seconds
        inside = np.flatnonzero((stamp >= time.start) & (stamp < time.end))
        idx.append(inside)
        ts.append(stamp[inside])
    return np.concatenate(idx), np.concatenate(ts)


def daytime(rng, n: int) -> np.ndarray:
    return rng.integers(ACTIVE_FROM, ACTIVE_TO, n)


def day_starts(time: Timebase) -> np.ndarray:
    """Midnight (UTC) of every day of the period."""
    return time.start + np.arange(time.days, dtype=np.int64) * DAY


def weekday(stamps: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (np.asarray(stamps) // DAY + 3) % 7
