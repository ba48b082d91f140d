"""What to generate: `BankConfig`, validated once so every later step can trust it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from aml.errors import AmlError

# A fixed default start date: the same arguments must always give the same bytes.
DEFAULT_START_DATE = date(2026, 1, 1)
DEFAULT_RATE = 5.0  # injected instances per typology per 1,000 customers
MIN_CUSTOMERS = 50  # below this the reserved scenario customers would crowd out the background


@dataclass(frozen=True)
class BankConfig:
    customers: int
    days: int
    seed: int
    start_date: date = DEFAULT_START_DATE
    rate: float = DEFAULT_RATE

    def __post_init__(self) -> None:
        if not isinstance(self.customers, int) or self.customers < MIN_CUSTOMERS:
            raise AmlError(f"--customers must be an integer >= {MIN_CUSTOMERS}, got {self.customers!r}",
                           "the bank needs room for background customers and the injected scenarios")
        if not isinstance(self.days, int) or self.days <= 0:
            raise AmlError(f"--days must be a positive integer, got {self.days!r}")
        if not isinstance(self.start_date, date):
            raise AmlError(f"--start-date must be a date, got {self.start_date!r}", "use YYYY-MM-DD")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise AmlError(f"--seed must be a non-negative integer, got {self.seed!r}")
        if not (isinstance(self.rate, int | float) and math.isfinite(self.rate) and self.rate > 0):
            raise AmlError(f"--rate must be a positive number (instances per 1,000 customers), got {self.rate!r}")

    def instances(self) -> int:
        """Laundering instances per typology: the rate scaled to the bank, at least one."""
        return max(1, round(self.rate * self.customers / 1000))

    def near_misses(self) -> int:
        """Look-alike instances per typology: about half as many, at least one."""
        return max(1, self.instances() // 2)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AmlError(f"--start-date {text!r} is not a valid date", "use YYYY-MM-DD, e.g. 2026-01-01") from None
