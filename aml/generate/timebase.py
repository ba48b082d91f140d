"""The bank's calendar: epoch seconds (UTC) for everything, converted to timestamps only at the end."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

HOUR = 3600
DAY = 24 * HOUR
# Background customers act between 08:00 and 20:00: the 12-hour quiet night is longer than the
# fan-out window, so no fan-out window ever spans two days of background payments.
ACTIVE_FROM, ACTIVE_TO = 8 * HOUR, 20 * HOUR


@dataclass(frozen=True)
class Timebase:
    start_date: date
    days: int

    @property
    def start(self) -> int:
        return calendar.timegm(self.start_date.timetuple())

    @property
    def end(self) -> int:
        return self.start + self.days * DAY

    def day(self, index: int) -> int:
        return self.start + index * DAY
