"""`generate(config) -> Bank`: the whole synthetic bank, deterministic for a given config."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from faker import Faker

from aml.errors import AmlError
from aml.generate.background import generate_background
from aml.generate.config import BankConfig
from aml.generate.labels import LabelBook
from aml.generate.ledger import Ledger, utc
from aml.generate.parties import Customers, Directory, low_risk_countries, make_accounts, make_customers
from aml.generate.scenarios import Context, injectors, reserved_needs
from aml.generate.timebase import Timebase
from aml_contract import rules as rule_parameters
from aml_contract.schema import ACCOUNTS, CUSTOMERS

log = logging.getLogger(__name__)


@dataclass
class Bank:
    customers: pd.DataFrame
    accounts: pd.DataFrame
    transactions: pd.DataFrame
    labels: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # typology -> why it was not injected

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"customers": self.customers, "accounts": self.accounts, "transactions": self.transactions,
                "labels": self.labels}


def _customers_frame(c: Customers) -> pd.DataFrame:
    frame = pd.DataFrame({
        "customer_id": c.customer_id, "full_name": c.full_name, "email": c.email, "phone": c.phone,
        "date_of_birth": pd.arrays.ArrowExtensionArray(pa.array(c.date_of_birth, type=pa.date32())),
        "national_id": c.national_id, "address_line": c.address_line, "city": c.city,
        "postal_code": c.postal_code, "country": c.country,
        "customer_type": np.where(c.is_business, "business", "individual").astype(object),
        "risk_rating": c.risk_rating, "is_pep": c.is_pep, "kyc_status": c.kyc_status,
        "onboarded_at": utc(c.onboarded_at), "updated_at": utc(np.maximum(c.updated_at, c.onboarded_at)),
    })
    assert list(frame.columns) == CUSTOMERS.column_names
    return frame


def _accounts_frame(d: Directory) -> pd.DataFrame:
    from aml.generate import fx

    frame = pd.DataFrame({
        "account_id": d.account_id, "customer_id": d.customers.customer_id[d.account_customer],
        "account_type": d.account_type, "currency": fx.CURRENCY_CODES[d.currency], "status": d.status,
        "branch_country": d.customers.country[d.account_customer], "opened_at": utc(d.opened_at),
        "updated_at": utc(np.maximum(d.updated_at, d.opened_at)),
    })
    assert list(frame.columns) == ACCOUNTS.column_names
    return frame


def generate(config: BankConfig) -> Bank:
    rules = rule_parameters.load()
    time = Timebase(config.start_date, config.days)
    rng = np.random.default_rng(config.seed)
    fake = Faker("en_US")
    fake.seed_instance(config.seed)
    n, near = config.instances(), config.near_misses()
    need_individual, need_business = reserved_needs(rules, n, near)
    if need_individual + need_business > config.customers // 2:
        raise AmlError(f"--rate {config.rate} needs {need_individual + need_business} scenario customers, "
                       f"more than half of --customers {config.customers}",
                       f"lower --rate or use at least {2 * (need_individual + need_business)} customers")
    order = rng.permutation(config.customers)
    reserved = order[:need_individual]
    reserved_business = order[need_individual:need_individual + need_business]
    countries = low_risk_countries(rules)
    customers = make_customers(config.customers, reserved, reserved_business, time, rng, fake, countries)
    directory = make_accounts(customers, np.concatenate([reserved, reserved_business]), time, rng, fake, countries)
    ledger = Ledger()
    book = LabelBook()
    background = generate_background(directory, time, np.concatenate([reserved, reserved_business]), rng, ledger,
                                     book)
    ctx = Context(config, time, rules, rng, ledger, directory, book, background, reserved.tolist(),
                  reserved_business.tolist())
    available = injectors()
    for rule_id in rules.rules:
        if rule_id not in available:
            ctx.skip(rule_id, "the generator has no injector for this rule")
            continue
        available[rule_id](ctx, n, near)
    transactions, id_of_key = ledger.build(directory)
    log.info("generated %d customers, %d accounts, %d transactions, %d labels", config.customers,
             directory.n_internal, len(transactions), len(book.rows))
    return Bank(customers=_customers_frame(customers), accounts=_accounts_frame(directory),
                transactions=transactions, labels=book.build(directory.account_id, id_of_key),
                skipped=dict(book.skipped))
