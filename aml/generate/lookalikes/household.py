"""Household look-alikes: a house purchase, travel abroad, family remittances to a grey-listed
country, a dormant account woken for a good reason, customers in a small-value economy. One
function per kind: (scene, subject account codes) -> None."""
from __future__ import annotations

import numpy as np

from aml.generate.draws import daytime, lognormal, monthly
from aml.generate.lookalikes import Scene
from aml.generate.lookalikes.rates import DIASPORA_COUNTRIES, TRAVEL_DESTINATIONS
from aml.generate.timebase import DAY, HOUR
from aml.reference import build

# Why a dormant account wakes: (memo, transaction type, median USD, sigma), equally likely.
WAKE_REASONS = (("Tax refund", "ach", 3000, 0.5), ("Insurance payout", "wire", 9000, 0.6),
                ("Estate distribution", "wire", 30_000, 0.8))


def _day_in_period(scene: Scene, n: int, room_days: int = 0) -> np.ndarray:
    """n midnights, uniform over the period, leaving `room_days` after them where it can."""
    last = max(1, scene.time.days - room_days)
    return scene.time.start + scene.rng.integers(0, last, n) * DAY


def house_purchase(scene: Scene, accounts: np.ndarray) -> None:
    """The buyer brings the money for the closing in (sale proceeds of the old home from a title
    company, or savings from a brokerage account), and wires the down payment and closing costs
    to the title company a few days later (NAR: median home ~400k USD, down payment ~18%)."""
    rng, d = scene.rng, scene.directory
    closing = lognormal(rng, 75_000, 0.6, len(accounts), 8000, 800_000)
    arrive = _day_in_period(scene, len(accounts), 5) + 10 * HOUR + rng.integers(0, 5 * HOUR, len(accounts))
    leave = arrive + rng.integers(1, 5, len(accounts)) * DAY + rng.integers(-HOUR, HOUR, len(accounts))
    from_sale = rng.random(len(accounts)) < 0.5
    for i, account in enumerate(accounts.tolist()):
        source, title = d.new_companies(1), d.new_companies(1)
        memo = "Sale proceeds" if from_sale[i] else "Brokerage transfer"
        booked = [scene.book([arrive[i]], source, account, closing[i] * rng.uniform(1.0, 1.15), "wire", "online",
                             memo)]
        if leave[i] < scene.time.end:
            booked.append(scene.book([leave[i]], account, title, closing[i], "wire", "online", "Closing funds"))
        scene.label("house_purchase", account, booked)


def travel_abroad(scene: Scene, accounts: np.ndarray) -> None:
    """A trip abroad (NTTO destinations): card spending at foreign merchants every day of the trip
    and the hotel bill at check-out."""
    rng = scene.rng
    countries = rng.choice(list(TRAVEL_DESTINATIONS), len(accounts),
                           p=np.array(list(TRAVEL_DESTINATIONS.values())) / sum(TRAVEL_DESTINATIONS.values()))
    for account, country in zip(accounts.tolist(), countries.tolist(), strict=True):
        nights = int(np.clip(rng.lognormal(np.log(7), 0.5), 3, 21))
        start = _day_in_period(scene, 1)[0]
        per_day = rng.poisson(3, nights + 1)
        ts = np.repeat(start + np.arange(nights + 1) * DAY, per_day) + daytime(rng, int(per_day.sum()))
        merchants = scene.directory.new_companies(max(1, len(ts)), (country,))
        amounts = lognormal(rng, 45, 0.9, len(ts), 2, 1500)
        inside = scene.inside(ts)  # a trip that runs past the period's end is seen up to it
        booked = [scene.book(ts[inside], account, merchants[:len(ts)][inside], amounts[inside], "card", "pos",
                             "Card purchase")]
        checkout = start + nights * DAY + 10 * HOUR
        hotel = lognormal(rng, 150, 0.5, 1, 40, 1500) * nights
        if checkout < scene.time.end:
            booked.append(scene.book([checkout], account, scene.directory.new_companies(1, (country,)), hotel,
                                     "card", "pos", "Hotel"))
        scene.label("travel_abroad", account, booked)


def family_remittance_grey_list(scene: Scene, accounts: np.ndarray) -> None:
    """Family support of a few hundred USD a month to a relative in a diaspora country on the FATF
    grey list on the bank's first day, on the sender's own day of the month."""
    lists = build.in_memory().fatf_lists(scene.time.start_date)
    grey = [c for c in DIASPORA_COUNTRIES if c in lists.grey_list]
    if not grey:
        return
    rng = scene.rng
    usual = lognormal(rng, 300, 0.5, len(accounts), 80, 1500)
    relatives = np.array([scene.directory.new_people(1, (grey[i],))[0]
                          for i in rng.integers(0, len(grey), len(accounts)).tolist()])
    i, ts = monthly(scene.time, rng.integers(1, 29, len(accounts)), daytime(rng, len(accounts)))
    amounts = usual[i] * rng.uniform(0.85, 1.15, len(i))
    keys = scene.ledger.add(ts, accounts[i], relatives[i], amounts, "wire",
                            np.where(rng.random(len(i)) < 0.5, "mobile", "online"), "Family support", exact=False)
    for k, account in enumerate(accounts.tolist()):
        mine = i == k
        scene.label("family_remittance_grey_list", account, [(keys[mine], ts[mine])])


def dormant_reactivated(scene: Scene, accounts: np.ndarray) -> None:
    """An account idle for months (last used long before the period) wakes for a good reason: a
    tax refund, an insurance payout or an estate distribution; its owner then uses it again, a card
    purchase or two a day (the core system lifts its dormant flag on that day)."""
    rng, d = scene.rng, scene.directory
    for account in accounts.tolist():
        wake = int(_day_in_period(scene, 1)[0]) + 9 * HOUR + int(rng.integers(0, 6 * HOUR))
        idle = int(rng.integers(100, 400)) * DAY
        last_seen = max(int(d.opened_at[account]) + DAY, wake - idle)
        old = scene.book([last_seen], account, d.new_companies(1), lognormal(rng, 40, 0.8, 1, 3, 500), "card",
                         "pos", "Card purchase")
        memo, ttype, median, sigma = WAKE_REASONS[int(rng.integers(0, len(WAKE_REASONS)))]
        payer = d.new_companies(1)
        woke = scene.book([wake], payer, account, lognormal(rng, median, sigma, 1, 300, 500_000), ttype, "online",
                          memo)
        days_left = max(0, (scene.time.end - wake) // DAY)
        per_day = rng.poisson(1.3, days_left)
        ts = wake + HOUR + np.repeat(np.arange(days_left) * DAY, per_day) + rng.integers(0, 10 * HOUR, per_day.sum())
        ts = ts[ts < scene.time.end]
        merchants = d.new_companies(max(1, len(ts) // 2 + 1))
        spent = scene.book(ts, account, merchants[rng.integers(0, len(merchants), len(ts))],
                           lognormal(rng, 40, 0.9, len(ts), 2, 900), "card", "pos", "Card purchase")
        d.updated_at[account] = wake
        scene.label("dormant_reactivated", account, [old, woke, spent])


def small_value_economy(scene: Scene, accounts: np.ndarray) -> None:
    """Customers who live in a small-value economy: their everyday banking (drawn with the rest of
    the background, amounts scaled by `rates.SMALL_VALUE_SCALE`) is the look-alike, labelled here."""
    cols = scene.ledger.columns()
    mine = np.isin(scene.directory.account_customer, accounts)
    owner = np.full(scene.directory.n_internal + 1, -1)
    owner[np.flatnonzero(mine)] = scene.directory.account_customer[mine]
    for side in ("orig", "bene"):
        cols[side + "_owner"] = owner[np.minimum(cols[side], scene.directory.n_internal)]
    for account in accounts.tolist():
        rows = (cols["orig_owner"] == account) | (cols["bene_owner"] == account)
        scene.label("small_value_economy", account, [(cols["key"][rows], cols["ts"][rows])])


LOOKALIKES = {f.__name__: f for f in (house_purchase, travel_abroad, family_remittance_grey_list,
                                      dormant_reactivated, small_value_economy)}
