"""Who takes part: our customers and their accounts (PII from a seeded Faker), and the external
parties they deal with (other banks' accounts, merchants, utilities, and the cash counterparty).

Every party has an integer code so the transaction builder can work on numpy arrays: codes
below `Directory.n_internal` are our accounts, the rest are external parties (code
`Directory.cash` is the contract's `CASH_ACCOUNT_ID`).

Scenario subjects come from a pool of *reserved* customers who get no background activity: their
accounts are opened shortly before their scenario (the usual profile of a mule account), so a
scenario's transactions match its own rule and not another one by accident.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from faker import Faker

from aml.generate import fx
from aml.generate.timebase import DAY, Timebase
from aml.reference import build
from aml_contract.rules import RuleParameters
from aml_contract.schema import CASH_ACCOUNT_ID

# Countries our customers live in and (for background) send money to: none is on any FATF list.
LOW_RISK_COUNTRIES = ("US", "GB", "CA", "DE", "FR", "NL", "IE", "ES", "IT", "CH", "SE", "AU", "JP", "SG",
                      "NZ", "DK", "NO", "FI", "AT", "BE")
HOME_COUNTRY = "US"
BUSINESS_SHARE = 0.12
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")


def scrambled_ids(prefix: str, start: int, count: int, digits: int) -> np.ndarray:
    """prefix + `digits` digits, unique: k -> k * M mod 10**digits is a bijection (M is odd and not
    a multiple of 5), so ids look random yet never collide."""
    k = np.arange(start, start + count, dtype=np.int64)
    values = (k * 7_654_321 + 12_345_678) % (10 ** digits)
    return np.array([f"{prefix}{v:0{digits}d}" for v in values.tolist()], dtype=object)


def low_risk_countries(rules: RuleParameters) -> tuple[str, ...]:
    listed = build.in_memory().fatf_ever_listed
    return tuple(c for c in LOW_RISK_COUNTRIES if c not in listed)


@dataclass
class Customers:
    """Column arrays of the customers table (index = customer number)."""
    customer_id: np.ndarray
    full_name: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    date_of_birth: np.ndarray  # datetime64[D]; NaT for businesses
    national_id: np.ndarray
    address_line: np.ndarray
    city: np.ndarray
    postal_code: np.ndarray
    country: np.ndarray
    is_business: np.ndarray
    risk_rating: np.ndarray
    is_pep: np.ndarray
    kyc_status: np.ndarray
    onboarded_at: np.ndarray  # int64 epoch seconds
    updated_at: np.ndarray
    device_id: np.ndarray  # the customer's online/mobile device and address, for transaction rows
    ip_address: np.ndarray


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]+", ".", name.lower()).strip(".")


def make_customers(n: int, reserved: np.ndarray, reserved_business: np.ndarray, time: Timebase,
                   rng: np.random.Generator, fake: Faker, countries: tuple[str, ...]) -> Customers:
    is_business = rng.random(n) < BUSINESS_SHARE
    is_business[reserved] = False
    is_business[reserved_business] = True
    names, streets, cities, postcodes = [], [], [], []
    for business in is_business.tolist():
        names.append(fake.company() if business else fake.name())
        streets.append(fake.street_address())
        cities.append(fake.city())
        postcodes.append(fake.postcode())
    tags = rng.integers(1, 999, n)
    domains = rng.integers(0, len(EMAIL_DOMAINS), n)
    email = np.array([f"{_slug(nm)}{t}@{EMAIL_DOMAINS[d]}" for nm, t, d in zip(names, tags.tolist(),
                                                                               domains.tolist(), strict=True)],
                     dtype=object)
    area, line, last = rng.integers(201, 990, n), rng.integers(200, 999, n), rng.integers(0, 10_000, n)
    phone = np.array([f"+1-{a}-{b}-{c:04d}" for a, b, c in zip(area.tolist(), line.tolist(), last.tolist(),
                                                               strict=True)], dtype=object)
    ssn_a, ssn_b, ssn_c = rng.integers(100, 900, n), rng.integers(10, 100, n), rng.integers(1000, 10_000, n)
    national_id = np.array([
        f"{a // 10:02d}-{b}{c:04d}"[:10] if biz else f"{a}-{b}-{c}"
        for a, b, c, biz in zip(ssn_a.tolist(), ssn_b.tolist(), ssn_c.tolist(), is_business.tolist(), strict=True)
    ], dtype=object)
    age_days = rng.integers(18 * 365, 85 * 365, n)
    dob = np.datetime64(time.start_date, "D") - age_days.astype("timedelta64[D]")
    dob = np.where(is_business, np.datetime64("NaT", "D"), dob)
    country = np.where(rng.random(n) < 0.9, HOME_COUNTRY, np.array(countries, dtype=object)[rng.integers(0, len(countries), n)])
    country = country.astype(object)
    country[reserved] = HOME_COUNTRY
    country[reserved_business] = HOME_COUNTRY
    risk = np.array(("low", "medium", "high"), dtype=object)[rng.choice(3, n, p=(0.8, 0.16, 0.04))]
    kyc = np.array(("verified", "pending", "expired"), dtype=object)[rng.choice(3, n, p=(0.93, 0.04, 0.03))]
    onboarded = time.start - rng.integers(30, 3650, n) * DAY - rng.integers(0, DAY, n)
    updated = onboarded + rng.integers(0, 30, n) * DAY
    octets = rng.integers(1, 255, (n, 4))
    octets[:, 0] = rng.choice(np.array([24, 50, 66, 73, 98, 107, 142, 173, 184, 206]), n)
    ip = np.array([".".join(map(str, row)) for row in octets.tolist()], dtype=object)
    device = np.array([f"D{v:012x}" for v in rng.integers(0, 2 ** 48, n).tolist()], dtype=object)
    return Customers(
        customer_id=scrambled_ids("C", 1, n, 8), full_name=np.array(names, dtype=object), email=email,
        phone=phone, date_of_birth=dob, national_id=national_id, address_line=np.array(streets, dtype=object),
        city=np.array(cities, dtype=object), postal_code=np.array(postcodes, dtype=object), country=country,
        is_business=is_business, risk_rating=risk, is_pep=rng.random(n) < 0.015, kyc_status=kyc,
        onboarded_at=onboarded, updated_at=updated, device_id=device, ip_address=ip)


class Directory:
    """Every party, by integer code. Internal accounts come first; externals are appended."""

    def __init__(self, customers: Customers, account_customer: np.ndarray, account_type: np.ndarray,
                 currency: np.ndarray, opened_at: np.ndarray, fake: Faker, rng: np.random.Generator,
                 countries: tuple[str, ...]):
        self.customers = customers
        self.account_customer = account_customer
        self.account_type = account_type
        self.currency = currency  # code into CURRENCIES
        self.opened_at = opened_at
        self.status = np.full(len(account_customer), "active", dtype=object)
        self.updated_at = opened_at.copy()
        self.account_id = scrambled_ids("A", 1, len(account_customer), 8)
        self.n_internal = len(account_customer)
        self.low_risk = countries
        self._rng = rng
        self._ext_ids: list[np.ndarray] = []
        self._ext_names: list[np.ndarray] = []
        self._ext_countries: list[np.ndarray] = []
        self._n_external = 0
        pool = max(200, len(customers.customer_id) // 2)
        self.person_names = np.array([fake.name() for _ in range(pool)], dtype=object)
        self.company_names = np.array([fake.company() for _ in range(pool // 2)], dtype=object)
        self.cash = self.add_external(np.array([HOME_COUNTRY], dtype=object), np.array([None], dtype=object),
                                      ids=np.array([CASH_ACCOUNT_ID], dtype=object))[0]

    def add_external(self, countries: np.ndarray, names: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """Register external parties (other banks' accounts: X + country + 10 digits); returns codes."""
        n = len(countries)
        if ids is None:
            digits = scrambled_ids("", self._n_external + 1, n, 10)
            ids = np.array([f"X{c}{d}" for c, d in zip(countries.tolist(), digits.tolist(), strict=True)],
                           dtype=object)
        codes = self.n_internal + self._n_external + np.arange(n)
        self._ext_ids.append(ids)
        self._ext_names.append(names)
        self._ext_countries.append(countries)
        self._n_external += n
        return codes

    def new_people(self, n: int, countries: tuple[str, ...] | None = None) -> np.ndarray:
        """n external individuals at other banks (domestic unless countries are given)."""
        pool = countries or (HOME_COUNTRY,)
        picked = np.array(pool, dtype=object)[self._rng.integers(0, len(pool), n)]
        names = self.person_names[self._rng.integers(0, len(self.person_names), n)]
        return self.add_external(picked, names)

    def new_companies(self, n: int, countries: tuple[str, ...] | None = None) -> np.ndarray:
        pool = countries or (HOME_COUNTRY,)
        picked = np.array(pool, dtype=object)[self._rng.integers(0, len(pool), n)]
        names = self.company_names[self._rng.integers(0, len(self.company_names), n)]
        return self.add_external(picked, names)

    # ---- lookups over every party code (internal then external) ---------------------------
    def party_ids(self) -> np.ndarray:
        return np.concatenate([self.account_id, *self._ext_ids])

    def party_names(self) -> np.ndarray:
        return np.concatenate([self.customers.full_name[self.account_customer], *self._ext_names])

    def party_countries(self) -> np.ndarray:
        return np.concatenate([self.customers.country[self.account_customer], *self._ext_countries])

    def party_currency(self) -> np.ndarray:
        """Currency code of our accounts; -1 for external parties."""
        return np.concatenate([self.currency, np.full(self._n_external, -1)])

    def party_device(self) -> np.ndarray:
        return np.concatenate([self.customers.device_id[self.account_customer],
                               np.full(self._n_external, None, dtype=object)])

    def party_ip(self) -> np.ndarray:
        return np.concatenate([self.customers.ip_address[self.account_customer],
                               np.full(self._n_external, None, dtype=object)])


def make_accounts(customers: Customers, reserved: np.ndarray, time: Timebase, rng: np.random.Generator,
                  fake: Faker, countries: tuple[str, ...]) -> Directory:
    """One primary account per customer (account code = customer number), plus savings accounts
    for a fifth of the individuals. Reserved customers bank in USD so scenario amounts are exact."""
    n = len(customers.customer_id)
    currency_names = np.array(fx.ACCOUNT_CURRENCIES, dtype=object)
    currency = np.array([fx.currency_code(c) for c in currency_names[
        rng.choice(len(currency_names), n, p=fx.ACCOUNT_CURRENCY_WEIGHTS)]])
    currency[reserved] = fx.currency_code("USD")
    primary_type = np.where(customers.is_business, "business", "checking").astype(object)
    savers = np.flatnonzero(~customers.is_business & (rng.random(n) < 0.2))
    savers = np.setdiff1d(savers, reserved)
    account_customer = np.concatenate([np.arange(n), savers])
    account_type = np.concatenate([primary_type, np.full(len(savers), "savings", dtype=object)])
    account_currency = np.concatenate([currency, currency[savers]])
    opened = customers.onboarded_at[account_customer] + rng.integers(0, 5, len(account_customer)) * DAY
    return Directory(customers, account_customer, account_type, account_currency, opened, fake, rng, countries)
