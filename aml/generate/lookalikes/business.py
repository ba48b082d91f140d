"""Business look-alikes: merchants and charities with many payers, payroll and supplier fan-out,
cash-intensive businesses. One function per kind: (scene, subject account codes) -> None."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

import numpy as np

from aml.generate.draws import day_starts, daytime, lognormal, weekday
from aml.generate.lookalikes import Scene
from aml.generate.lookalikes.rates import DECEMBER_GIVING, PAY_FREQUENCY
from aml.generate.timebase import DAY, HOUR, Timebase

FRIDAY, SUNDAY = 4, 6


def _many_payers(scene: Scene, kind: str, account: int, per_day: float, weight: np.ndarray, median: float,
                 sigma: float, high: float, types: tuple[str, ...], type_p: tuple[float, ...], memo: str) -> None:
    """Payments from a pool of payers (people at other banks, some paying again), `per_day` on
    average, each day weighted by `weight`."""
    rng, days = scene.rng, day_starts(scene.time)
    counts = rng.poisson(per_day * weight)
    ts = np.repeat(days, counts) + daytime(rng, int(counts.sum()))
    payers = scene.directory.new_people(max(10, int(per_day * len(days) * 0.6)))
    ttype = np.array(types, dtype=object)[rng.choice(len(types), len(ts), p=type_p)]
    channel = np.where(ttype == "check", "branch", np.where(rng.random(len(ts)) < 0.7, "mobile", "online"))
    booked = scene.book(ts, payers[rng.integers(0, len(payers), len(ts))], account,
                        lognormal(rng, median, sigma, len(ts), 2, high), ttype, channel, memo)
    scene.label(kind, account, [booked])


def merchant_many_payers(scene: Scene, accounts: np.ndarray) -> None:
    """A shop or service firm its customers pay directly (ACH / person-to-person), most days of
    the week, in small amounts: many distinct payers a day."""
    for account, rate in zip(accounts.tolist(), lognormal(scene.rng, 5, 0.5, len(accounts), 2, 25).tolist(),
                             strict=True):
        open_days = (weekday(day_starts(scene.time)) != SUNDAY).astype(float)
        _many_payers(scene, "merchant_many_payers", account, rate, open_days, 45, 0.8, 900, ("ach",), (1.0,),
                     "Payment")


def charity_many_donors(scene: Scene, accounts: np.ndarray) -> None:
    """Donations by ACH and check from many donors, heavier in December (year-end giving)."""
    months = np.array([(date(1970, 1, 1) + timedelta(days=int(d // DAY))).month for d in day_starts(scene.time)])
    weight = np.where(months == 12, DECEMBER_GIVING, 1.0)
    for account, rate in zip(accounts.tolist(), lognormal(scene.rng, 3, 0.6, len(accounts), 0.5, 20).tolist(),
                             strict=True):
        _many_payers(scene, "charity_many_donors", account, rate, weight, 60, 1.0, 5000, ("ach", "check"),
                     (0.7, 0.3), "Donation")


def paydays(time: Timebase, frequency: str, phase: int) -> np.ndarray:
    """Midnight of each payday inside the period: Fridays (weekly; biweekly from `phase` 0/1),
    the 15th and the last day (semimonthly) or the last day (monthly), moved back to the Friday
    before when they fall on a weekend."""
    days = day_starts(time)
    if frequency in ("weekly", "biweekly"):
        fridays = days[weekday(days) == FRIDAY]
        return fridays if frequency == "weekly" else fridays[(fridays // DAY // 7 + phase) % 2 == 0]
    out = []
    for d in days.tolist():
        when = date(1970, 1, 1) + timedelta(days=d // DAY)
        last = calendar.monthrange(when.year, when.month)[1]
        if when.day == last or (frequency == "semimonthly" and when.day == 15):
            out.append(d - max(0, when.weekday() - FRIDAY) * DAY)
    return np.array(out, dtype=np.int64)


def payroll_batch(scene: Scene, accounts: np.ndarray) -> None:
    """An employer with 5+ staff at other banks pays them all in one ACH batch on its paydays
    (BLS pay frequencies), early in the morning: net pay of a yearly salary."""
    rng = scene.rng
    frequencies = rng.choice(list(PAY_FREQUENCY), len(accounts), p=list(PAY_FREQUENCY.values()))
    per_year = {"weekly": 52, "biweekly": 26, "semimonthly": 24, "monthly": 12}
    for account, frequency in zip(accounts.tolist(), frequencies.tolist(), strict=True):
        staff = int(np.clip(rng.lognormal(np.log(12), 0.6), 5, 60))
        employees = scene.directory.new_people(staff)
        net = lognormal(rng, 52_000, 0.35, staff, 25_000, 200_000) * 0.75 / per_year[frequency]
        days = paydays(scene.time, frequency, int(rng.integers(0, 2)))
        days = days[days >= scene.time.start]  # a month-end moved back before the period's first day
        batch = np.repeat(days + 6 * HOUR + rng.integers(0, 2 * HOUR, len(days)), staff) \
            + np.tile(np.arange(staff), len(days))
        booked = scene.book(batch, account, np.tile(employees, len(days)),
                            np.tile(net, len(days)) * rng.uniform(0.97, 1.03, len(batch)), "ach", "online", "Payroll")
        scene.label("payroll_batch", account, [booked])


def supplier_payment_run(scene: Scene, accounts: np.ndarray) -> None:
    """A weekly accounts-payable run on a fixed weekday: several of its suppliers paid at once."""
    rng, days = scene.rng, day_starts(scene.time)
    for account in accounts.tolist():
        suppliers = scene.directory.new_companies(int(rng.integers(6, 25)))
        runs = days[weekday(days) == int(rng.integers(1, 4))]  # Tuesday to Thursday
        paid = rng.integers(3, min(12, len(suppliers)) + 1, len(runs))
        ts = np.repeat(runs + 10 * HOUR, paid) + rng.integers(0, HOUR, int(paid.sum()))
        who = np.concatenate([rng.choice(suppliers, k, replace=False) for k in paid.tolist()]) if len(runs) \
            else np.zeros(0, np.int64)
        usual = rng.lognormal(np.log(1500), 0.6)
        ttype = np.where(rng.random(len(ts)) < 0.8, "ach", "wire")
        booked = scene.book(ts, account, who, lognormal(rng, usual, 0.7, len(ts), 50, 50_000), ttype, "online",
                            "Supplier payment")
        scene.label("supplier_payment_run", account, [booked])


def cash_intensive_business(scene: Scene, accounts: np.ndarray) -> None:
    """A restaurant, shop or laundromat that banks its cash takings most days (Monday-Saturday),
    late in the day; the size of the takings varies from day to day around its usual level."""
    rng, days = scene.rng, day_starts(scene.time)
    open_days = days[weekday(days) != SUNDAY]
    for account, usual in zip(accounts.tolist(), lognormal(rng, 1800, 0.7, len(accounts), 200, 20_000).tolist(),
                              strict=True):
        banked = open_days[rng.random(len(open_days)) < 0.8]
        ts = banked + 16 * HOUR + rng.integers(0, 3 * HOUR, len(banked))
        booked = scene.book(ts, scene.directory.cash, account, usual * rng.lognormal(0, 0.35, len(ts)),
                            "cash_deposit", "branch", "Cash deposit")
        scene.label("cash_intensive_business", account, [booked])


LOOKALIKES = {f.__name__: f for f in (merchant_many_payers, charity_many_donors, payroll_batch,
                                      supplier_payment_run, cash_intensive_business)}
