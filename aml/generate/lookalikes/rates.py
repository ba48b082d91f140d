"""How often each legitimate look-alike happens: the one table of rates (issue 24).

`share` is the share of eligible background customers (`of`) that do the look-alike: over the
whole generated period for a standing trait (a merchant stays a merchant), or per month for an
event (a house purchase), scaled to the period's length. `why` cites the public figure the rate
follows, or says 'assumed' where no public one fits. No rate is fitted to a detection result.
"""
from __future__ import annotations

from dataclasses import dataclass

MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class Rate:
    share: float
    of: str  # "businesses" or "individuals": who is eligible
    per_month: bool  # an event rate per month (else a standing share of the customers)
    why: str

    def probability(self, days: int) -> float:
        """Chance that one eligible customer does it within a period of `days` days."""
        if not self.per_month:
            return self.share
        return 1.0 - (1.0 - self.share) ** (days / MONTH_DAYS)


RATES: dict[str, Rate] = {
    "merchant_many_payers": Rate(0.10, "businesses", False,
                                 "assumed: small shops and service firms paid person-to-person (ACH) by many customers"),
    "charity_many_donors": Rate(0.045, "businesses", False,
                                "IRS Data Book: ~1.5 M 501(c)(3) organisations against SBA's ~33 M US small "
                                "businesses"),
    "payroll_batch": Rate(0.07, "businesses", False,
                          "SBA Office of Advocacy 2023: ~18% of small businesses have employees; Census SUSB: ~4 in "
                          "10 employer firms have 5 or more"),
    "supplier_payment_run": Rate(0.10, "businesses", False,
                                 "assumed: businesses that pay their suppliers in one weekly accounts-payable run"),
    "cash_intensive_business": Rate(0.10, "businesses", False,
                                    "assumed: Census SUSB puts retail (~10%) and food services (~9%) among employer "
                                    "establishments; not all of them run on cash (IRS Cash Intensive Businesses ATG)"),
    "house_purchase": Rate(0.003, "individuals", True,
                           "~4.7 M US home sales a year (NAR existing 4.06 M in 2024, Census new ~0.68 M) over ~131 M "
                           "households: ~0.3% a month"),
    "travel_abroad": Rate(0.025, "individuals", True,
                          "NTTO: 98.5 M US citizen departures in 2023 over ~335 M residents: ~2.5% a month"),
    "family_remittance_grey_list": Rate(0.006, "individuals", False,
                                        "ACS 2022: 13.9% of US residents foreign-born, x ~4 in 10 immigrants remit "
                                        "(surveys range 17-60%), x ~1 in 10 to a grey-listed country (assumed)"),
    "dormant_reactivated": Rate(0.002, "individuals", True,
                                "assumed: accounts idle 90+ days that wake for a tax refund, a payout or an "
                                "inheritance"),
    "small_value_economy": Rate(0.03, "individuals", False,
                                "assumed: customers banking from Mexico (amounts scaled by GNI per capita, see "
                                "SMALL_VALUE_SCALE)"),
}

# World Bank GNI per capita, Atlas method, 2023: Mexico ~12,000 USD against the United States'
# ~80,000 USD; the everyday amounts of a customer in Mexico are scaled by the ratio.
SMALL_VALUE_COUNTRY, SMALL_VALUE_CURRENCY, SMALL_VALUE_SCALE = "MX", "MXN", 0.15

# Payroll frequency of US private businesses (BLS CES, length of pay period, 2019):
# weekly 33.8%, biweekly 42.2%, semimonthly 18.6%, monthly 5.4%.
PAY_FREQUENCY = {"weekly": 0.338, "biweekly": 0.422, "semimonthly": 0.186, "monthly": 0.054}

# Destinations of US residents' trips abroad (NTTO 2019: Mexico ~40%, Canada ~15% of 99.7 M
# departures; the overseas rest split over the usual regions, assumed).
TRAVEL_DESTINATIONS = {"MX": 0.40, "CA": 0.15, "GB": 0.07, "FR": 0.05, "IT": 0.05, "DE": 0.04, "ES": 0.04,
                       "DO": 0.06, "JP": 0.05, "VN": 0.02, "CR": 0.03, "GR": 0.04}

# Countries with large US diasporas that send family support home: remittances go to those of
# them on the FATF grey list on the bank's first day (World Bank/KNOMAD bilateral remittance
# estimates list each among US corridors).
DIASPORA_COUNTRIES = ("VN", "HT", "VE", "NG", "KE", "NP", "CM", "PH", "ZA", "CI", "LB", "BO", "BG", "CD", "DZ")

# Month of year multiplier for charities: about a third of a year's giving arrives in December
# (assumed from fundraising reports, e.g. Blackbaud's Charitable Giving Report ~30%).
DECEMBER_GIVING = 3.0
