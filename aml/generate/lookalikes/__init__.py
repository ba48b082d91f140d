"""Legitimate look-alikes in the background (issue 24): everyday banking that real banks see
flagged every day. Each kind is one small function that behaves like the legitimate activity
(a merchant's many small payers, payroll on fixed days, a house purchase ...), at the rate of
`rates.RATES`, and is labelled `benign` (typology = the kind) in the truth file: one label per
subject account, with every transaction of the look-alike. Nothing here is shaped to trip or to
avoid a rule: the look-alikes trip whatever they trip.

`plan` picks the subjects (disjoint: a customer does at most one look-alike) before the everyday
background is drawn, since two kinds change it: dormant accounts get no everyday activity, and
customers in a small-value economy get everyday amounts scaled to it. `inject` books the rest.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aml.generate import fx
from aml.generate.labels import LabelBook
from aml.generate.ledger import Ledger
from aml.generate.lookalikes.rates import RATES, SMALL_VALUE_COUNTRY, SMALL_VALUE_CURRENCY, SMALL_VALUE_SCALE
from aml.generate.parties import Directory
from aml.generate.timebase import DAY, Timebase

DORMANT_MIN_AGE_DAYS = 150  # an account must be older than the longest idle spell drawn for it
KINDS = tuple(RATES)


@dataclass
class Scene:
    directory: Directory
    time: Timebase
    rng: np.random.Generator
    ledger: Ledger
    labels: LabelBook

    def book(self, ts, orig, bene, usd, ttype, channel, memo) -> tuple[np.ndarray, np.ndarray]:
        """Add rows (background-like amounts, never whole units); returns (keys, timestamps)."""
        ts = np.asarray(ts, dtype=np.int64)
        return self.ledger.add(ts, orig, bene, usd, ttype, channel, memo, exact=False), ts

    def label(self, kind: str, subject: int, booked: list[tuple[np.ndarray, np.ndarray]]) -> None:
        keys = np.concatenate([k for k, _ in booked]) if booked else np.zeros(0, np.int64)
        if not len(keys):
            return
        ts = np.concatenate([t for _, t in booked])
        self.labels.add(kind, "benign", subject, keys, int(ts.min()), int(ts.max()))

    def inside(self, ts: np.ndarray) -> np.ndarray:
        return (ts >= self.time.start) & (ts < self.time.end)


@dataclass
class Plan:
    subjects: dict[str, np.ndarray]  # look-alike kind -> subject account codes
    quiet: np.ndarray  # customers the everyday background leaves alone (dormant accounts)
    scale: np.ndarray  # per internal account code: the scale of its everyday amounts

    def all_subjects(self) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int64), *self.subjects.values()])


def plan(directory: Directory, time: Timebase, individuals: np.ndarray, businesses: np.ndarray,
         rng: np.random.Generator) -> Plan:
    """Draw each kind's subjects among the background customers (account code == customer number):
    binomial(eligible, the rate over the period), disjoint across kinds."""
    pools = {"individuals": rng.permutation(individuals), "businesses": rng.permutation(businesses)}
    free = {of: np.ones(len(pool), bool) for of, pool in pools.items()}
    old_enough = directory.opened_at < time.start - DORMANT_MIN_AGE_DAYS * DAY
    subjects = {}
    for kind, rate in RATES.items():
        pool = pools[rate.of]
        eligible = free[rate.of] & (old_enough[pool] if kind == "dormant_reactivated" else True)
        n = min(int(rng.binomial(len(pool), rate.probability(time.days))), int(eligible.sum()))
        chosen = np.flatnonzero(eligible)[:n]
        free[rate.of][chosen] = False
        subjects[kind] = np.sort(pool[chosen])
    scale = np.ones(directory.n_internal)
    _relocate(directory, subjects["small_value_economy"], scale)
    return Plan(subjects, subjects["dormant_reactivated"], scale)


def _relocate(directory: Directory, customers: np.ndarray, scale: np.ndarray) -> None:
    """Customers of a small-value economy live there and bank in its currency."""
    directory.customers.country[customers] = SMALL_VALUE_COUNTRY
    accounts = np.flatnonzero(np.isin(directory.account_customer, customers))
    directory.currency[accounts] = fx.currency_code(SMALL_VALUE_CURRENCY)
    scale[accounts] = SMALL_VALUE_SCALE


def injectors() -> dict[str, Callable[[Scene, np.ndarray], None]]:
    from aml.generate.lookalikes import business, household

    found = {**business.LOOKALIKES, **household.LOOKALIKES}
    assert set(found) == set(RATES), set(found) ^ set(RATES)
    return found


def inject(the_plan: Plan, scene: Scene) -> None:
    """Book every kind's look-alikes (after the everyday background) and label them."""
    found = injectors()
    for kind in KINDS:
        if len(the_plan.subjects[kind]):
            found[kind](scene, the_plan.subjects[kind])
