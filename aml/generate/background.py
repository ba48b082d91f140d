"""Everyday banking that surrounds the injected scenarios.

Individuals receive monthly salaries (from employers that bank with us or elsewhere), pay bills
by ACH, spend by card (pos/online), move money to contacts (some at other banks, a few abroad in
low-risk countries), to their own savings, and use modest cash. Businesses receive client
payments and pay payroll and suppliers. Activity levels vary per customer (lognormal rates).

The background is shaped so it rarely looks like a typology by accident (the detection engines
measure precision against the labels): amounts are never whole thousands, cash stays small,
transfers between customers stay below the cycle rule's minimum, salaries stay below the
rapid-movement inflow, and a customer pays at most `MAX_OUT_PER_DAY` and receives at most
`MAX_IN_PER_DAY` counterparties a day, during daytime only. Businesses are paid mid-month
(days 13-22) and pay out early in the month (days 1-8), more than 72 hours apart, so payroll
is never a pass-through; payroll is staggered (two payees a day).

That everyday banking is the unlabelled background. Beside it, `aml.generate.lookalikes` books
the legitimate look-alikes real banks see flagged (a merchant's many payers, payroll on one day,
a house purchase ...), at public rates, each labelled `benign` in the truth file; the look-alike
customers keep their everyday banking too (but dormant accounts, which have none), and customers
of a small-value economy have it scaled to their economy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aml.generate import fx, lookalikes
from aml.generate.draws import daytime as _daytime
from aml.generate.draws import lognormal as _lognormal
from aml.generate.draws import monthly as _monthly
from aml.generate.labels import LabelBook
from aml.generate.ledger import Ledger
from aml.generate.parties import HOME_COUNTRY, Directory
from aml.generate.timebase import DAY, HOUR, Timebase

MAX_OUT_PER_DAY = 3
MAX_IN_PER_DAY = 2
MAX_EMPLOYEES_PER_EMPLOYER = 12  # two payees a day over the first six days of the month
SALARY_RANGE = (1200.0, 4500.0)
REVERSED_SHARE = 0.002


@dataclass(frozen=True)
class Background:
    individuals: np.ndarray  # account codes of plain background individuals' primary accounts (no look-alike)
    salary_day: np.ndarray  # per account code: day of month the salary arrives, 0 if none
    rows: int


def _cap_per_day(account: np.ndarray, ts: np.ndarray, priority: np.ndarray, cap: int) -> np.ndarray:
    """Mask keeping at most `cap` rows per account and day (scheduled rows, priority 0, first)."""
    day = ts // DAY
    order = np.lexsort((ts, priority, day, account))
    a, d = account[order], day[order]
    new_group = np.ones(len(order), bool)
    new_group[1:] = (a[1:] != a[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new_group)
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
    keep = np.zeros(len(order), bool)
    keep[order] = rank < cap
    return keep


class _Rows:
    """Candidate rows, gathered before the per-day caps are applied to both sides at once."""

    def __init__(self) -> None:
        self.parts: list[tuple] = []

    def add(self, ts, orig, bene, usd, ttype, channel, memo, priority, exact=False):
        n = len(ts)
        self.parts.append((np.asarray(ts), np.broadcast_to(orig, (n,)), np.broadcast_to(bene, (n,)), usd,
                           np.broadcast_to(np.asarray(ttype, dtype=object), (n,)),
                           np.broadcast_to(np.asarray(channel, dtype=object), (n,)),
                           np.broadcast_to(np.asarray(memo, dtype=object), (n,)), np.full(n, priority),
                           np.full(n, exact)))

    def book(self, ledger: Ledger, directory: Directory, rng, scale: np.ndarray) -> int:
        """Book the rows; `scale` (per internal account code) scales the amounts of an account's
        everyday banking to its economy (the smaller of the two sides' scales; exact rows, cash in
        notes of the account's currency, are kept)."""
        ts, orig, bene, usd, ttype, channel, memo, priority, exact = (np.concatenate(c) for c in zip(*self.parts,
                                                                                                    strict=True))
        with_ones = np.append(scale, 1.0)
        side_scale = np.minimum(with_ones[np.minimum(orig, directory.n_internal)],
                                with_ones[np.minimum(bene, directory.n_internal)])
        usd = np.where(exact, usd, usd * side_scale)
        # each of our accounts: at most MAX_OUT_PER_DAY payments out and MAX_IN_PER_DAY in;
        # external parties each get a distinct negative id so the per-day caps never group them
        distinct_external = -1 - np.arange(len(ts))
        keep = _cap_per_day(np.where(orig < directory.n_internal, orig, distinct_external), ts, priority, MAX_OUT_PER_DAY)
        keep &= _cap_per_day(np.where(bene < directory.n_internal, bene, distinct_external), ts, priority, MAX_IN_PER_DAY)
        reversible = np.isin(ttype, ("card", "ach", "internal")) & (priority > 0)
        reversed_mask = reversible & (rng.random(len(ts)) < REVERSED_SHARE)
        for flag in (True, False):
            m = keep & (exact == flag)
            ledger.add(ts[m], orig[m], bene[m], usd[m], ttype[m], channel[m], memo[m], exact=flag,
                       reversed_mask=reversed_mask[m])
        return int(keep.sum())


def generate_background(directory: Directory, time: Timebase, reserved: np.ndarray, rng: np.random.Generator,
                        ledger: Ledger, labels: LabelBook) -> Background:
    """Everyday banking of every customer but the reserved ones, and the labelled look-alikes."""
    cust = directory.customers
    n_customers = len(cust.customer_id)
    primary = np.setdiff1d(np.arange(n_customers), reserved)  # account code == customer number
    plan = lookalikes.plan(directory, time, primary[~cust.is_business[primary]], primary[cust.is_business[primary]],
                           rng)
    primary = np.setdiff1d(primary, plan.quiet)  # dormant accounts have no everyday banking
    businesses = primary[cust.is_business[primary]]
    individuals = primary[~cust.is_business[primary]]
    abroad = tuple(c for c in directory.low_risk if c != HOME_COUNTRY)
    rows = _Rows()
    salary_day = np.zeros(directory.n_internal, dtype=np.int64)

    # -- salaries: employers that bank with us take two payees a day over days 1-6 ----------
    salaried = individuals[rng.random(len(individuals)) < 0.75]
    slots = np.repeat(businesses, MAX_EMPLOYEES_PER_EMPLOYER)
    slots = slots[rng.permutation(len(slots))]
    n_internal_paid = min(len(slots), int(len(salaried) * 0.3))
    employer = np.empty(len(salaried), dtype=np.int64)
    employer[:n_internal_paid] = slots[:n_internal_paid]
    n_external_paid = len(salaried) - n_internal_paid
    external_employers = directory.new_companies(max(10, n_external_paid // 3))
    employer[n_internal_paid:] = external_employers[rng.integers(0, len(external_employers), n_external_paid)]
    internal_paid = np.arange(len(salaried)) < n_internal_paid
    rank = np.zeros(len(salaried), dtype=np.int64)
    order = np.argsort(employer[:n_internal_paid], kind="stable")
    sorted_emp = employer[:n_internal_paid][order]
    first = np.searchsorted(sorted_emp, sorted_emp, side="left")
    rank[order] = np.arange(n_internal_paid) - first
    pay_day = np.where(internal_paid, 1 + rank // 2, rng.integers(1, 29, len(salaried)))
    pay_second = np.where(internal_paid, np.where(rank % 2 == 0, 9 * HOUR, 14 * HOUR), 8 * HOUR) \
        + rng.integers(0, 40 * 60, len(salaried))
    salary = _lognormal(rng, 3000, 0.3, len(salaried), *SALARY_RANGE)
    salary_day[salaried] = pay_day
    i, ts = _monthly(time, pay_day, pay_second)
    rows.add(ts, employer[i], salaried[i], salary[i],
            np.where(employer[i] < directory.n_internal, "internal", "ach"), "online", "Salary", 0)
    payroll = np.bincount(employer[:n_internal_paid], weights=salary[:n_internal_paid],
                          minlength=directory.n_internal)

    # -- businesses: client payments on days 13-22, supplier payments on days 1-8 ------------
    revenue = np.where(payroll[businesses] > 0, 1.1 * payroll[businesses],
                       _lognormal(rng, 12_000, 0.5, len(businesses), 3000, 30_000))
    n_payments = np.minimum(np.ceil(revenue / 2500).astype(np.int64), 20)
    clients = directory.new_companies(4 * len(businesses), directory.low_risk).reshape(len(businesses), 4)
    biz_rep = np.repeat(np.arange(len(businesses)), n_payments)
    slot = np.arange(len(biz_rep)) - np.repeat(np.cumsum(n_payments) - n_payments, n_payments)
    i, ts = _monthly(time, 13 + slot // 2, np.where(slot % 2 == 0, 10 * HOUR, 15 * HOUR)
                     + rng.integers(0, 3 * HOUR, len(slot)))
    b = biz_rep[i]
    amount = revenue[b] / n_payments[b] * rng.uniform(0.9, 1.1, len(b))
    rows.add(ts, clients[b, rng.integers(0, 4, len(b))], businesses[b], amount, "wire", "online",
            "Invoice payment", 0)
    suppliers_of = directory.new_companies(3 * len(businesses)).reshape(len(businesses), 3)
    buyers = np.flatnonzero(payroll[businesses] == 0)
    n_sup = np.full(len(buyers), 12)
    biz_rep = np.repeat(buyers, n_sup)
    slot = np.tile(np.arange(12), len(buyers))
    i, ts = _monthly(time, 1 + slot // 2, np.where(slot % 2 == 0, 9 * HOUR, 15 * HOUR)
                     + rng.integers(0, 3 * HOUR, len(slot)))
    b = biz_rep[i]
    amount = 0.7 * revenue[b] / 12 * rng.uniform(0.85, 1.15, len(b))
    rows.add(ts, businesses[b], suppliers_of[b, rng.integers(0, 3, len(b))], amount, "ach",
            "online", "Supplier payment", 0)

    # -- individuals: bills, savings, card spend, transfers, cash ------------------------------
    n_ind = len(individuals)
    utilities = directory.new_companies(25)
    bill_to = utilities[rng.integers(0, len(utilities), (n_ind, 2))]
    bill_day = rng.integers(3, 28, (n_ind, 2))
    bill_amount = _lognormal(rng, 110, 0.5, 2 * n_ind, 25, 600).reshape(n_ind, 2)
    for k in range(2):
        i, ts = _monthly(time, bill_day[:, k], _daytime(rng, n_ind))
        rows.add(ts, individuals[i], bill_to[i, k], bill_amount[i, k], "ach", "online",
                "Utility bill", 0)
    savings = np.flatnonzero(directory.account_type == "savings")
    owner = directory.account_customer[savings]
    keep = np.isin(owner, individuals)
    savings, owner = savings[keep], owner[keep]
    i, ts = _monthly(time, rng.integers(2, 28, len(savings)), _daytime(rng, len(savings)))
    rows.add(ts, owner[i], savings[i], _lognormal(rng, 200, 0.5, len(savings), 20, 900)[i], "internal",
            "mobile", "Savings", 0)

    contacts = individuals[rng.integers(0, n_ind, (n_ind, 3))]
    contacts[:, 2] = directory.new_people(n_ind)
    abroad_contact = directory.new_people(n_ind, abroad)
    rate_out = _lognormal(rng, 0.9, 0.6, n_ind, 0.15, 3.5)
    expected_cards = rate_out.sum() * 0.57
    merchants = directory.new_companies(int(np.clip(expected_cards * 2, 200, 4000)))
    online_merchants = directory.new_companies(max(50, len(merchants) // 5), directory.low_risk)

    count = rng.poisson(rate_out * time.days)
    who = np.repeat(np.arange(n_ind), count)
    ts = time.start + rng.integers(0, time.days, len(who)) * DAY + _daytime(rng, len(who))
    kind = rng.choice(7, len(who), p=(0.35, 0.22, 0.15, 0.03, 0.12, 0.05, 0.08))
    acct = individuals[who]
    m = kind == 0
    rows.add(ts[m], acct[m], merchants[rng.integers(0, len(merchants), m.sum())],
            _lognormal(rng, 42, 0.9, m.sum(), 1.5, 900), "card", "pos", "Card purchase", 1)
    m = kind == 1
    rows.add(ts[m], acct[m], online_merchants[rng.integers(0, len(online_merchants), m.sum())],
            _lognormal(rng, 55, 0.9, m.sum(), 1.5, 900), "card", "online", "Online purchase", 1)
    m = (kind == 2) | (kind == 6)
    pick = contacts[who[m], rng.integers(0, 3, m.sum())]
    internal = pick < directory.n_internal
    rows.add(ts[m], acct[m], pick, _lognormal(rng, 160, 0.8, m.sum(), 10, 950),
            np.where(internal, "internal", "ach"), np.where(rng.random(m.sum()) < 0.5, "mobile", "online"),
            "Transfer", 1)
    m = kind == 3
    rows.add(ts[m], acct[m], abroad_contact[who[m]], _lognormal(rng, 400, 0.6, m.sum(), 50, 2900),
            "wire", "online", "International transfer", 1)
    m = kind == 4
    rate_usd = fx.RATE_BY_CODE[directory.currency[acct[m]]]
    rows.add(ts[m], acct[m], directory.cash, 20 * rng.integers(1, 41, m.sum()) * rate_usd,
            "cash_withdrawal", "atm", "ATM withdrawal", 1, exact=True)
    m = kind == 5
    rows.add(ts[m], acct[m], contacts[who[m], 2], _lognormal(rng, 250, 0.6, m.sum(), 20, 1900),
            "check", "branch", "Check", 1)

    count = rng.poisson((0.12 * rate_out + 0.03) * time.days)
    who = np.repeat(np.arange(n_ind), count)
    ts = time.start + rng.integers(0, time.days, len(who)) * DAY + _daytime(rng, len(who))
    acct = individuals[who]
    cash = rng.random(len(who)) < 0.4
    m = ~cash
    sender = contacts[who[m], rng.integers(0, 3, m.sum())]
    rows.add(ts[m], sender, acct[m], _lognormal(rng, 160, 0.8, m.sum(), 10, 950),
            np.where(sender < directory.n_internal, "internal", "ach"), "online", "Transfer", 1)
    m = cash
    rows.add(ts[m], directory.cash, acct[m], _lognormal(rng, 300, 0.8, m.sum(), 20, 2500),
            "cash_deposit", np.where(rng.random(m.sum()) < 0.6, "branch", "atm"), "Cash deposit", 1)

    booked = rows.book(ledger, directory, rng, plan.scale)
    lookalikes.inject(plan, lookalikes.Scene(directory, time, rng, ledger, labels))
    return Background(individuals=np.setdiff1d(individuals, plan.all_subjects()), salary_day=salary_day,
                      rows=booked)
