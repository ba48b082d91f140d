"""A small hand-made bank in the source shape: quiet background activity plus, per scenario, one
injected instance and one near-miss look-alike, so each query's logic is pinned down exactly."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from aml_contract import pseudonym

# The pseudonymisation key the hand-made bank is curated with (a module of its own name, not
# conftest: `from conftest import ...` takes whichever conftest was imported first).
KEY = pseudonym.normalise_key("unit-test-pseudonymisation-key-0123")

START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 110  # dormant_reactivation needs 90 days of provable silence before its window
BACKGROUND_ACCOUNTS = 30
SAME = object()  # amount_base: the source books the amount itself (a USD payment)


class BankBuilder:
    def __init__(self) -> None:
        self.customers: list[dict] = []
        self.accounts: list[dict] = []
        self.transactions: list[dict] = []
        self.expected: dict[str, set[str]] = {}  # scenario -> account ids that must be flagged
        self.near_misses: dict[str, set[str]] = {}  # scenario -> account ids that must not be
        # scenario -> account id -> the transactions its hit must name, in time order (hand-picked)
        self.evidence: dict[str, dict[str, list[str]]] = {}

    def customer(self, cid: str, *, pep: bool = False, risk: str = "low", opened_day: int = -400) -> str:
        onboarded = START + timedelta(days=opened_day)
        self.customers.append({
            "customer_id": cid, "full_name": f"Name {cid}", "email": f"{cid}@example.org", "phone": "555",
            "date_of_birth": "1980-05-01", "national_id": f"N{cid}", "address_line": "1 Main St", "city": "Town",
            "postal_code": "00000", "country": "US", "customer_type": "individual", "risk_rating": risk,
            "is_pep": pep, "kyc_status": "verified", "onboarded_at": onboarded, "updated_at": onboarded})
        return cid

    def account(self, aid: str, cid: str, opened_day: int = -400) -> str:
        opened = START + timedelta(days=opened_day)
        self.accounts.append({"account_id": aid, "customer_id": cid, "account_type": "checking", "currency": "USD",
                              "status": "active", "branch_country": "US", "opened_at": opened,
                              "updated_at": opened})
        return aid

    def own(self, aid: str, **kw) -> str:
        return self.account(aid, self.customer("C" + aid, **kw), kw.get("opened_day", -400))

    def tx(self, src: str, dst: str, amount: float, day: float | datetime, ttype: str = "wire", *,
           src_country: str = "US", dst_country: str = "US", currency: str = "USD",
           amount_base: float | None | object = SAME) -> str:
        """Book a transaction `day` days after START (or at a datetime); its id. amount_base is the
        source's own value: the amount by default, None for a row the reference rate must convert."""
        booked = day if isinstance(day, datetime) else START + timedelta(days=day)
        self.transactions.append({
            "transaction_id": f"T{len(self.transactions):06d}", "booked_at": booked,
            "originator_account_id": src, "originator_name": "x", "originator_country": src_country,
            "beneficiary_account_id": dst, "beneficiary_name": "y", "beneficiary_country": dst_country,
            "amount": amount, "currency": currency, "amount_base": amount if amount_base is SAME else amount_base,
            "transaction_type": ttype, "channel": "branch" if ttype.startswith("cash") else "online",
            "ip_address": None, "device_id": None, "memo": None, "status": "booked", "updated_at": booked})
        return self.transactions[-1]["transaction_id"]

    def inject(self, scenario: str, aid: str) -> str:
        self.expected.setdefault(scenario, set()).add(aid)
        return aid

    def proof(self, scenario: str, aid: str, *transaction_ids: str) -> None:
        """The transactions `aid`'s hit of `scenario` is made of."""
        self.evidence.setdefault(scenario, {})[aid] = list(transaction_ids)

    def near_miss(self, scenario: str, aid: str) -> str:
        self.near_misses.setdefault(scenario, set()).add(aid)
        return aid

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return pd.DataFrame(self.customers), pd.DataFrame(self.accounts), pd.DataFrame(self.transactions)


def build() -> BankBuilder:
    b = BankBuilder()
    rng = np.random.default_rng(7)
    # Background: every account pays two merchants a day, small amounts with cents.
    for i in range(BACKGROUND_ACCOUNTS):
        aid = b.own(f"B{i:03d}")
        for day in range(DAYS):
            for k in range(2):
                b.tx(aid, f"M{(i + k) % 7}", float(rng.integers(2_000, 40_000)) / 100 + 0.37, day + 0.3 + k * 0.2,
                     "card")

    def active(aid: str) -> str:  # an injected account with the same quiet history as the background
        for day in range(DAYS):
            b.tx(aid, "M0", 55.25, day + 0.1, "card")
        return aid

    s = b.inject("structuring", active(b.own("S1")))
    b.proof("structuring", s, b.tx("CASH", s, 9_500.0, 20.4, "cash_deposit"),
            b.tx("CASH", s, 9_200.0, 21.9, "cash_deposit"))
    s = b.near_miss("structuring", active(b.own("S2")))
    b.tx("CASH", s, 9_500.0, 20.4, "cash_deposit")
    b.tx("CASH", s, 9_400.0, 25.0, "cash_deposit")  # outside the window

    cust = b.customer("CL1")
    a1, a2 = b.account("L1a", cust), b.account("L1b", cust)
    b.inject("large_cash", a1), b.inject("large_cash", a2)
    b.proof("large_cash", a1, b.tx("CASH", a1, 6_000.0, 30.2, "cash_deposit"))  # each account its own cash
    b.proof("large_cash", a2, b.tx("CASH", a2, 5_000.0, 30.6, "cash_deposit"))
    n = b.near_miss("large_cash", b.own("L2"))
    b.tx("CASH", n, 6_000.0, 30.2, "cash_deposit")
    b.tx("CASH", n, 4_000.0, 30.6, "cash_deposit")  # 10,000 is not above the threshold

    s = b.inject("smurfing", b.own("SM1"))
    b.proof("smurfing", s, *[b.tx(f"SMX{k}", s, 2_500.0, 40 + k * 1.5, "cash_deposit") for k in range(3)])
    n = b.near_miss("smurfing", b.own("SM2"))
    for k in range(2):
        b.tx(f"SMY{k}", n, 2_500.0, 40 + k * 1.5, "cash_deposit")

    f = b.inject("fan_in", b.own("FI1"))
    b.proof("fan_in", f, *[b.tx(f"FIX{k}", f, 700.0 + k, 50 + k * 0.1) for k in range(5)])
    n = b.near_miss("fan_in", b.own("FI2"))
    for k in range(5):
        b.tx(f"FIY{k}", n, 700.0 + k, 50 + k * 0.5)  # spread over two days

    f = b.inject("fan_out", b.own("FO1"))
    b.proof("fan_out", f, *[b.tx(f, f"FOX{k}", 300.0 + k, 55 + k * 0.05) for k in range(5)])
    n = b.near_miss("fan_out", b.own("FO2"))
    for k in range(4):
        b.tx(n, f"FOY{k}", 300.0 + k, 55 + k * 0.05)

    r = b.inject("rapid_movement", b.own("RM1"))
    b.proof("rapid_movement", r, b.tx("RMX", r, 20_000.0, 60.1), b.tx(r, "RMY", 17_500.0, 61.0))
    n = b.near_miss("rapid_movement", b.own("RM2"))
    b.tx("RMX", n, 20_000.0, 60.1)
    b.tx(n, "RMY", 12_000.0, 61.0)

    r = b.inject("round_amounts", b.own("RA1"))
    b.proof("round_amounts", r, *[b.tx(r, "RAX", 5_000.0, 65 + k * 5) for k in range(3)])
    n = b.near_miss("round_amounts", b.own("RA2"))
    for k in range(3):
        b.tx(n, "RAX", 5_000.0 + (0.5 if k else 0), 65 + k * 5)

    c = b.inject("cycles", b.own("CY1"))
    b.proof("cycles", c, b.tx(c, "CYX1", 15_000.0, 70.0), b.tx("CYX1", "CYX2", 14_600.0, 71.0),
            b.tx("CYX2", c, 14_100.0, 73.0))
    n = b.near_miss("cycles", b.own("CY2"))
    b.tx(n, "CYY1", 15_000.0, 70.0)
    b.tx("CYY1", n, 15_000.0, 100.5)  # returns 30.5 days later: outside the 30-day window

    d = b.inject("dormant_reactivation", b.own("DR1"))
    b.tx(d, "M1", 42.5, 5.0, "card")  # last seen 95.5 days before it wakes up: not part of the burst
    b.proof("dormant_reactivation", d, b.tx("DRX", d, 25_000.0, 100.5))
    n = b.near_miss("dormant_reactivation", b.own("DR2"))
    b.tx(n, "M1", 42.5, 40.0, "card")  # silent for 60 days only
    b.tx("DRX", n, 25_000.0, 100.5)
    n = b.near_miss("dormant_reactivation", b.own("DR3"))  # no history in the data: nothing proves dormancy
    b.tx("DRX", n, 25_000.0, 100.5)

    v = b.inject("velocity_spike", active(b.own("VS1")))
    day_95_card = next(t["transaction_id"] for t in b.transactions
                       if t["originator_account_id"] == v and t["booked_at"] == START + timedelta(days=95.1))
    b.proof("velocity_spike", v, day_95_card, b.tx("VSX", v, 30_000.0, 95.5))  # the day's activity, both
    n = b.near_miss("velocity_spike", b.own("VS2"))
    for day in range(DAYS):
        b.tx("VSY", n, 4_000.0 + day, day + 0.5)  # large but steady
    b.expected.setdefault("high_value_transactions", set()).update({v})

    h = b.inject("high_risk_jurisdiction", b.own("HR1"))
    b.proof("high_risk_jurisdiction", h, b.tx(h, "HRX", 500.0, 80.0, dst_country="IR"))
    n = b.near_miss("high_risk_jurisdiction", b.own("HR2"))
    b.tx(n, "HRY", 1_000.0, 80.0, dst_country="VN")  # grey list, below its threshold
    p = b.inject("pep_high_risk_activity", b.own("PEP1", pep=True))
    b.tx("PX", p, 12_000.0, 85.0)
    n = b.near_miss("pep_high_risk_activity", b.own("PEP2", pep=True))
    b.tx("PX", n, 3_000.0, 85.0)
    return b
