"""Account profiles: the per-account feature store that batch computes and real time reads.

The daily pipeline runs the named query `account_profiles` (athena_queries/account_profiles.sql)
over the curated zone, then its LoadProfiles step (lambdas/daily_pipeline/profiles.py) writes the
profiles that changed into the profiles table (names.RESOURCES["profiles_table"], key
`account_pid`). The rules Lambda reads them (lambdas/realtime_rules/profile_store.py) so its rules
see history older than the stream: docs/profiles.md.

Time. A profile *as of* day D summarises the account's booked transactions up to the end of D
(UTC). It serves an event booked on a day E with D < E <= D + max_age_days (`serves`): never one on
or before D (the profile would hold the event's own day: no look-ahead), never a stale one. The
daily run for D publishes profiles as of D; the events of D+1 read them.

What "changed" means (`needs_write`). The stored item keeps a hash of the profile's content, as_of
excluded. The loader writes a profile whose content differs, or whose stored copy is
refresh_days or more older than the new one (so a profile whose content stays the same, an
inactive account's, is rewritten before it would go stale), and never replaces a newer copy with an
older one. A rerun of the same day therefore writes nothing.

Only pseudonymised identifiers (aml_contract.pseudonym): the profiles table holds no PII, like the
curated zone it is computed from. Standard library only (both Lambdas bundle it).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

QUERY_NAME = "account_profiles"  # athena_queries/<name>.sql; its one parameter is end_date (as_of)
LIST_SEPARATOR = ","  # the query joins its bounded lists with it (identifiers and codes hold none)
ITEM_ATTRIBUTES = ("account_pid", "as_of", "content_hash", "profile", "ttl")  # the stored item


@dataclass(frozen=True)
class ProfileParameters:
    """rule_parameters.json's `profiles` section."""

    baseline_days: int  # the trailing days (ending on as_of) the baselines and sets describe
    max_age_days: int  # a profile as of D serves events on D+1 .. D+max_age_days
    refresh_days: int  # an unchanged profile is rewritten once its stored copy is this old
    max_counterparties: int  # the most frequent counterparties kept (ties: the smaller pid)
    max_countries: int  # the most frequent counterparty countries kept (ties: the smaller code)

    def ttl(self, as_of: date) -> int:
        """The item's expiry (epoch seconds): the end of the last day it may serve, plus a day. A
        profile the loader stops refreshing (its account fell out of the query) expires by itself."""
        end = datetime.combine(as_of + timedelta(days=self.max_age_days + 2), datetime.min.time(), UTC)
        return int(end.timestamp())


@dataclass(frozen=True)
class Profile:
    """One account's history as of the end of `as_of`. Amounts in USD cents (amount_base: a
    transaction without one counts in the counts and in no sum); day statistics over `covered_days`
    (the baseline days the data covers for this account, zero-activity days included)."""

    account_pid: str
    as_of: date
    customer_pid: str | None
    history_from: date  # the account's first booked day within the query's scan
    covered_days: int  # baseline days from max(history_from, as_of - baseline_days + 1) to as_of
    active_days: int  # days with at least one transaction among them
    baseline_count: int  # transactions over the covered days (either side)
    baseline_cents: int  # their known USD amounts, summed
    daily_count_stddev: float  # population standard deviation of the daily count
    daily_usd_stddev: float  # ... of the daily USD amount
    amount_count: int  # transactions of known amount over the covered days
    amount_mean_usd: float | None  # their mean USD amount (None: none known)
    amount_stddev_usd: float | None  # their population standard deviation
    amount_max_cents: int | None
    last_activity_at: int | None  # epoch seconds of the latest booked transaction (within the scan)
    counterparties: tuple[str, ...]  # most frequent counterparty account pids, most frequent first
    counterparty_countries: tuple[str, ...]  # most frequent counterparty countries
    residence_country: str | None  # the customer's country
    risk_rating: str | None
    customer_type: str | None
    is_pep: bool | None

    # ---- what the rules ask ------------------------------------------------------------------
    def serves(self, event_ts: int, params: ProfileParameters) -> bool:
        """Whether this profile may describe the history before an event at `event_ts`: as of an
        earlier day, and no more than max_age_days earlier."""
        event_day = datetime.fromtimestamp(event_ts, UTC).date()
        return self.as_of < event_day <= self.as_of + timedelta(days=params.max_age_days)

    @property
    def end_ts(self) -> int:
        """The end of as_of (exclusive), epoch seconds: everything the profile read is before it."""
        return int(datetime.combine(self.as_of + timedelta(days=1), datetime.min.time(), UTC).timestamp())

    # ---- the query's row (Athena result CSV: every value a string, NULL as None) -------------
    @classmethod
    def from_row(cls, row: dict[str, str | None]) -> Profile:
        """A profile from a row of the `account_profiles` query. Raises ValueError naming the column."""
        def text(name: str) -> str | None:
            return row.get(name)

        def required(name: str) -> str:
            value = text(name)
            if value is None:
                raise ValueError(f"column {name} is empty")
            return value

        def decimal(name: str, optional: bool) -> Decimal | None:
            value = text(name) if optional else required(name)
            if value is None:
                return None
            try:
                return Decimal(value)
            except ArithmeticError:
                raise ValueError(f"column {name} is not a number: {value!r}") from None

        def integer(name: str, optional: bool = False) -> int | None:
            value = decimal(name, optional)
            return None if value is None else int(value)

        def number(name: str, optional: bool = False) -> float | None:
            value = decimal(name, optional)
            return None if value is None else round(float(value), 6)

        def cents(name: str) -> int | None:
            value = decimal(name, True)
            return None if value is None else int((value * 100).to_integral_value())

        def listed(name: str) -> tuple[str, ...]:
            value = text(name)
            return tuple(v for v in value.split(LIST_SEPARATOR) if v) if value else ()

        def timestamp(name: str) -> int | None:
            value = text(name)
            if value is None:
                return None
            parsed = datetime.fromisoformat(value.replace(" UTC", "").replace("Z", "+00:00"))
            return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())

        pep = text("is_pep")
        try:
            return cls(
                account_pid=required("account_pid"), as_of=date.fromisoformat(required("as_of")[:10]),
                customer_pid=text("customer_pid"), history_from=date.fromisoformat(required("history_from")[:10]),
                covered_days=integer("covered_days"), active_days=integer("active_days"),
                baseline_count=integer("baseline_count"), baseline_cents=cents("baseline_amount") or 0,
                daily_count_stddev=number("daily_count_stddev"), daily_usd_stddev=number("daily_amount_stddev"),
                amount_count=integer("amount_count"), amount_mean_usd=number("amount_mean", True),
                amount_stddev_usd=number("amount_stddev", True), amount_max_cents=cents("amount_max"),
                last_activity_at=timestamp("last_activity_at"), counterparties=listed("counterparties"),
                counterparty_countries=listed("counterparty_countries"),
                residence_country=text("residence_country"), risk_rating=text("risk_rating"),
                customer_type=text("customer_type"),
                is_pep=None if pep is None else pep.strip().lower() in ("true", "1"))
        except (ValueError, ArithmeticError) as err:
            raise ValueError(f"profile row {row.get('account_pid')!r}: {err}") from None

    # ---- the stored item (DynamoDB) ---------------------------------------------------------
    def content(self) -> dict[str, Any]:
        """Every field but the key and as_of, JSON-ready."""
        body = asdict(self)
        for name in ("account_pid", "as_of"):
            body.pop(name)
        body["history_from"] = self.history_from.isoformat()
        body["counterparties"], body["counterparty_countries"] = list(self.counterparties), list(
            self.counterparty_countries)
        return body

    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def to_item(self, params: ProfileParameters) -> dict:
        """The DynamoDB item (low-level attribute values) storing this profile."""
        return {"account_pid": {"S": self.account_pid}, "as_of": {"S": self.as_of.isoformat()},
                "content_hash": {"S": self.content_hash()},
                "profile": {"S": json.dumps(self.content(), sort_keys=True, separators=(",", ":"))},
                "ttl": {"N": str(params.ttl(self.as_of))}}

    @classmethod
    def from_item(cls, item: dict) -> Profile:
        body = json.loads(item["profile"]["S"])
        known = {f.name for f in fields(cls)}
        body = {k: v for k, v in body.items() if k in known}  # a newer writer's extra fields are ignored
        return cls(account_pid=item["account_pid"]["S"], as_of=date.fromisoformat(item["as_of"]["S"]),
                   **{**body, "history_from": date.fromisoformat(body["history_from"]),
                      "counterparties": tuple(body["counterparties"]),
                      "counterparty_countries": tuple(body["counterparty_countries"])})


def needs_write(profile: Profile, stored: dict | None, params: ProfileParameters) -> bool:
    """Whether the loader must write `profile` over the `stored` item (its `as_of` and
    `content_hash` attributes; None when there is none): see the module's docstring."""
    if stored is None:
        return True
    stored_as_of = date.fromisoformat(stored["as_of"]["S"])
    if stored_as_of > profile.as_of:
        return False  # a newer run already wrote it: an older rerun must not go back in time
    if stored["content_hash"]["S"] != profile.content_hash():
        return True
    return (profile.as_of - stored_as_of).days >= params.refresh_days


def parse_parameters(raw: dict[str, Any]) -> ProfileParameters:
    """rule_parameters.json's `profiles` section, checked."""
    values = {f.name: raw.get(f.name) for f in fields(ProfileParameters)}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"profiles.{name} must be a positive integer, got {value!r}")
    if values["refresh_days"] >= values["max_age_days"]:
        raise ValueError("profiles.refresh_days must be below max_age_days, or an unchanged profile goes stale")
    return ProfileParameters(**values)
