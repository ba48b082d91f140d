"""Amount floors relative to the bank: one definition for the Glue job that computes the segment
statistics, the rules Lambda and the named queries that apply them.

A fixed USD floor silently excludes whole economies (a public simulator's amounts are 2.5 to 600;
a Kenyan retail customer moves far less than a US one). So a rule's absolute amount floor
``<name>`` may carry ``<name>_percentile`` (rule_parameters.json): the floor an amount is compared
with is then

    min(<name>, the segment's <name>_percentile-th percentile of amount_base)

so it never rises above the absolute floor (large economies keep today's behaviour) and falls to
what is large for the account's peers in a small-value one. Regulatory thresholds (the $10,000 CTR
of 31 CFR 1010.311 and the structuring band below it) set no percentile: the law fixes them.

**Segment.** The country on the account's side of a transaction: ``originator_country`` when the
account pays, ``beneficiary_country`` when it receives (the country of the bank that books the
account, as SAML-D's ``*_bank_location``). No country: the whole bank (``BANK``). Where a rule
compares a sum over several transactions, the floor is the lowest of their floors.

**Statistics** (dataset ``segment_amounts`` in the reference layout, under ``statistics/``; the Glue
job publishes it after each curation run). Over the ``segments.statistics_days`` UTC days ending on
the latest booking day in the curated zone, every booked transaction with a known amount_base
contributes its amount once for each side that is one of our accounts, to that side's segment and
to ``BANK``. For each segment and each level of ``segments.percentiles`` one row holds the
nearest-rank percentile (``nearest_rank``): an amount actually booked, the same on every engine.
A segment with fewer than ``segments.min_transactions`` amounts carries the bank's values
(``basis`` "bank"); a segment never seen takes the ``BANK`` row; no statistics at all (before the
first run): the absolute floors.

Standard library only: this ships in the Glue job and the Lambda.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from aml_contract import reference
from aml_contract.rules import Rule, RuleParameters

DATASET = "segment_amounts"
BANK = "*"  # the segment of the whole bank, and of a side without a country
BASIS_SEGMENT, BASIS_BANK = "segment", "bank"


def segment_of(country: str | None) -> str:
    return country if country else BANK


def side_country(direction: str, originator_country: str | None, beneficiary_country: str | None) -> str | None:
    """The country on the account's side: `direction` "out" (it pays) or "in" (it receives)."""
    return originator_country if direction == "out" else beneficiary_country


def nearest_rank(values: list[Decimal], percentile: int) -> Decimal:
    """The nearest-rank percentile of `values` (sorted ascending, not empty): the smallest value
    with at least `percentile` % of the values at or below it, x[ceil(p/100 * n)] counting from 1."""
    rank = max(1, math.ceil(percentile * len(values) / 100))
    return values[rank - 1]


def statistics_rows(sides: Iterable[tuple[str | None, Decimal]], params: RuleParameters, *,
                    window_start: date, window_end: date) -> list[dict]:
    """The rows of ``segment_amounts`` from (side country, amount_base) pairs: the reference
    definition the Glue job's Spark computation is tested against."""
    by_segment: dict[str, list[Decimal]] = defaultdict(list)
    for country, amount in sides:
        by_segment[BANK].append(amount)
        if country:
            by_segment[country].append(amount)
    if not by_segment:
        return []
    config = params.segments
    bank = sorted(by_segment[BANK])
    rows = []
    for segment in sorted(by_segment):
        values = sorted(by_segment[segment])
        own = segment == BANK or len(values) >= config.min_transactions
        for p in config.percentiles:
            rows.append({"segment": segment, "percentile": p,
                         "amount_base": str(nearest_rank(values if own else bank, p).quantize(reference.CENTS)),
                         "amounts": len(values), "basis": BASIS_SEGMENT if own else BASIS_BANK,
                         "window_start": window_start.isoformat(), "window_end": window_end.isoformat()})
    return rows


@dataclass(frozen=True)
class SegmentFloors:
    """The published statistics as the rules apply them. Empty: every floor is absolute."""

    amounts: dict[tuple[str, int], Decimal]  # (segment, percentile) -> amount_base
    manifest: reference.Manifest | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[dict], manifest: reference.Manifest | None = None) -> SegmentFloors:
        return cls({(r["segment"], int(r["percentile"])): Decimal(str(r["amount_base"])) for r in rows}, manifest)

    @classmethod
    def read(cls, fetch: reference.Fetch, exists: Callable[[str], bool] | None = None) -> SegmentFloors:
        """The published dataset; empty when none is published yet (before the first curation
        run), as `exists` says of its manifest (default: the fetch finds no such key). A
        published one that breaks the layout raises ReferenceDataError."""
        if exists is not None:
            if not exists(reference.manifest_key(DATASET)):
                return cls({})
        else:
            try:
                fetch(reference.manifest_key(DATASET))
            except (FileNotFoundError, KeyError):
                return cls({})
        manifest, rows = reference.read_dataset(fetch, DATASET)
        return cls.from_rows(rows, manifest)

    def percentile_amount(self, country: str | None, percentile: int) -> Decimal | None:
        """The segment's amount at `percentile`; a segment never seen takes the bank's."""
        found = self.amounts.get((segment_of(country), percentile))
        return found if found is not None else self.amounts.get((BANK, percentile))

    def floor(self, rule: Rule, name: str, countries: Iterable[str | None] = (None,)) -> Decimal:
        """The floor the rule's amount parameter `name` sets for transactions on the account's
        side in `countries` (the lowest across them), in USD."""
        absolute = Decimal(repr(rule[name]))
        level = rule.percentile(name)
        if level is None:
            return absolute
        floors = [absolute]
        for country in set(countries) or {None}:
            relative = self.percentile_amount(country, level)
            if relative is not None:
                floors.append(relative)
        return min(floors)
