"""The background's legitimate look-alikes (issue 24): each kind present at its rate (within a
binomial tolerance), labelled 'benign' with its subject and transactions, behaving like the
legitimate activity, in contract-valid rows, the same for the same seed.

The background is built on its own here (customers, accounts, everyday banking, look-alikes),
without the injected scenarios, so these tests say nothing about them."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from faker import Faker

from aml.generate import fx
from aml.generate.background import generate_background
from aml.generate.labels import LabelBook
from aml.generate.ledger import Ledger
from aml.generate.lookalikes import KINDS
from aml.generate.lookalikes.rates import RATES, SMALL_VALUE_COUNTRY, SMALL_VALUE_CURRENCY
from aml.generate.parties import make_accounts, make_customers
from aml.generate.timebase import Timebase
from aml.generate.writers import to_arrow
from aml.reference import build
from aml_contract.schema import CHANNELS, TRANSACTION_STATUSES, TRANSACTION_TYPES, TRANSACTIONS

CUSTOMERS, DAYS, START = 2000, 60, date(2026, 1, 1)


def _background(seed: int, customers: int = CUSTOMERS) -> dict:
    time = Timebase(START, DAYS)
    rng, fake = np.random.default_rng(seed), Faker("en_US")
    fake.seed_instance(seed)
    reserved = np.zeros(0, np.int64)
    countries = tuple(c for c in ("US", "GB", "CA", "DE", "FR") if c not in build.in_memory().fatf_ever_listed)
    customers = make_customers(customers, reserved, reserved, time, rng, fake, countries)
    directory = make_accounts(customers, reserved, time, rng, fake, countries)
    ledger, book = Ledger(), LabelBook()
    is_business = customers.is_business.copy()
    generate_background(directory, time, reserved, rng, ledger, book)
    transactions, id_of_key = ledger.build(directory)
    labels = book.build(directory.account_id, id_of_key)
    tx = transactions.assign(usd=transactions.amount_base.astype("float64"))
    return {"tx": tx, "labels": labels, "directory": directory, "is_business": is_business, "time": time}


@pytest.fixture(scope="module")
def world():
    return _background(21)


def _benign(world, kind: str) -> pd.DataFrame:
    labels = world["labels"]
    return labels[(labels.kind == "benign") & (labels.typology == kind)]


def _rows(world, label) -> pd.DataFrame:
    tx = world["tx"]
    return tx[tx.transaction_id.isin(label.transaction_ids)]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_present_at_its_rate(world, kind):
    rate = RATES[kind]
    eligible = int(world["is_business"].sum()) if rate.of == "businesses" else int((~world["is_business"]).sum())
    p = rate.probability(DAYS)
    mean, sd = eligible * p, math.sqrt(eligible * p * (1 - p))
    found = len(_benign(world, kind))
    assert found >= 1, kind
    assert abs(found - mean) <= 4 * sd + 1, (kind, found, round(mean, 1))


def test_look_alikes_are_labelled_benign_one_subject_each(world):
    benign = world["labels"][world["labels"].kind == "benign"]
    assert set(benign.typology) == set(KINDS)
    assert all(len(s) == 1 for s in benign.subject_account_ids)
    subjects = benign.subject_account_ids.str[0]
    assert subjects.is_unique  # a customer does at most one look-alike
    ids = set(world["tx"].transaction_id)
    internal = set(world["directory"].account_id)
    for label in benign.itertuples():
        assert label.transaction_ids and set(label.transaction_ids) <= ids
        assert label.subject_account_ids[0] in internal
        rows = _rows(world, label)
        assert ((rows.originator_account_id == label.subject_account_ids[0])
                | (rows.beneficiary_account_id == label.subject_account_ids[0])).all(), label.typology
        assert label.window_start <= rows.booked_at.min() and rows.booked_at.max() <= label.window_end


def test_rows_are_valid_against_the_contract(world):
    tx = world["tx"]
    assert list(tx.columns[:len(TRANSACTIONS.column_names)]) == TRANSACTIONS.column_names
    to_arrow(tx[TRANSACTIONS.column_names], "transactions")  # the contract's Arrow types, or it raises
    to_arrow(world["labels"], "labels")
    assert tx.transaction_id.is_unique and tx.booked_at.is_monotonic_increasing
    assert set(tx.transaction_type) <= set(TRANSACTION_TYPES) and set(tx.channel) <= set(CHANNELS)
    assert set(tx.status) <= set(TRANSACTION_STATUSES) and set(tx.currency) <= build.in_memory().currencies
    assert (tx.amount.astype("float64") > 0).all()
    assert tx.memo.notna().all() and not tx.memo.str.contains("laund|typolog|benign|look", case=False).any()


def test_merchants_and_charities_are_paid_by_many_small_payers(world):
    for kind in ("merchant_many_payers", "charity_many_donors"):
        for label in _benign(world, kind).itertuples():
            rows = _rows(world, label)
            assert (rows.beneficiary_account_id == label.subject_account_ids[0]).all()
            assert rows.originator_account_id.nunique() >= 10 and rows.usd.median() < 200
            assert set(rows.transaction_type) <= {"ach", "check"}


def test_payroll_pays_every_employee_on_the_same_payday(world):
    for label in _benign(world, "payroll_batch").itertuples():
        rows = _rows(world, label)
        per_day = rows.groupby(rows.booked_at.dt.floor("D")).beneficiary_account_id.nunique()
        assert (per_day >= 5).all() and per_day.nunique() == 1  # the whole staff, every payday
        assert (rows.booked_at.dt.dayofweek < 5).all()


def test_supplier_runs_fall_on_one_weekday(world):
    for label in _benign(world, "supplier_payment_run").itertuples():
        rows = _rows(world, label)
        assert rows.booked_at.dt.dayofweek.nunique() == 1 and (rows.booked_at.dt.dayofweek.between(1, 3)).all()
        assert (rows.originator_account_id == label.subject_account_ids[0]).all()


def test_cash_businesses_bank_their_takings_most_days(world):
    for label in _benign(world, "cash_intensive_business").itertuples():
        rows = _rows(world, label)
        assert (rows.transaction_type == "cash_deposit").all() and (rows.booked_at.dt.dayofweek < 6).all()
        assert rows.booked_at.dt.floor("D").nunique() >= 0.6 * DAYS * 6 / 7


def test_a_house_purchase_is_one_large_inflow_then_one_wire_to_the_title_company(world):
    for label in _benign(world, "house_purchase").itertuples():
        rows = _rows(world, label).sort_values("booked_at")
        account = label.subject_account_ids[0]
        assert len(rows) in (1, 2) and rows.beneficiary_account_id.iloc[0] == account
        assert rows.usd.iloc[0] >= 8000 and (rows.transaction_type == "wire").all()
        if len(rows) == 2:
            out = rows.iloc[1]
            assert out.originator_account_id == account and out.memo == "Closing funds"
            assert 0.8 < out.usd / rows.usd.iloc[0] <= 1.0


def test_travel_spends_abroad(world):
    for label in _benign(world, "travel_abroad").itertuples():
        rows = _rows(world, label)
        assert (rows.beneficiary_country != "US").all() and (rows.transaction_type == "card").all()


def test_remittances_are_monthly_few_hundred_usd_to_a_grey_listed_country(world):
    grey = build.in_memory().fatf_lists(START).grey_list
    labels = _benign(world, "family_remittance_grey_list")
    for label in labels.itertuples():
        rows = _rows(world, label)
        assert rows.beneficiary_country.isin(grey).all() and rows.beneficiary_account_id.nunique() == 1
        assert rows.usd.dropna().max() < 2000 and 1 <= len(rows) <= math.ceil(DAYS / 28)


def test_dormant_accounts_were_idle_for_months_before_a_good_reason(world):
    tx = world["tx"]
    for label in _benign(world, "dormant_reactivated").itertuples():
        account = label.subject_account_ids[0]
        mine = tx[(tx.originator_account_id == account) | (tx.beneficiary_account_id == account)].sort_values("booked_at")
        assert set(mine.transaction_id) == set(label.transaction_ids)  # no everyday banking besides
        assert mine.booked_at.iloc[0] < pd.Timestamp(START, tz="UTC")
        assert mine.booked_at.iloc[1] - mine.booked_at.iloc[0] > pd.Timedelta(days=90)
        assert mine.memo.iloc[1] in ("Tax refund", "Insurance payout", "Estate distribution")


def test_small_value_customers_live_and_bank_there(world):
    d = world["directory"]
    labels = _benign(world, "small_value_economy")
    usd_scale = []
    for label in labels.itertuples():
        code = int(np.flatnonzero(d.account_id == label.subject_account_ids[0])[0])
        assert d.customers.country[d.account_customer[code]] == SMALL_VALUE_COUNTRY
        assert fx.CURRENCIES[d.currency[code]] == SMALL_VALUE_CURRENCY
        usd_scale.append(_rows(world, label).usd.median())
    everyone = world["tx"].usd.median()
    assert np.median(usd_scale) < everyone / 2  # small amounts for the bank's peers


def test_plain_background_stays_plain(world):
    """Unlabelled rows keep the old background's shape (no whole-thousand amounts, no FATF country)."""
    tx, labels = world["tx"], world["labels"]
    plain = tx[~tx.transaction_id.isin(set(labels.transaction_ids.explode()))]
    listed = build.in_memory().fatf_ever_listed
    assert not plain.beneficiary_country.isin(listed).any() and not plain.originator_country.isin(listed).any()
    cash = plain[plain.transaction_type.isin(["cash_deposit", "cash_withdrawal"])]
    assert cash.usd.max() < 4000


def test_same_seed_same_look_alikes():
    a, b = _background(5, 400), _background(5, 400)
    pd.testing.assert_frame_equal(a["labels"], b["labels"])
    pd.testing.assert_frame_equal(a["tx"], b["tx"])
    assert not _background(6, 400)["labels"].equals(a["labels"])


def test_benign_labels_are_never_positives_for_the_evaluation(world, tmp_path):
    """aml evaluate's contract reader keeps laundering subjects only and counts the benign kinds."""
    from aml.evaluate.importers.contract import read_labels

    labels = world["labels"]
    path = tmp_path / "labels.parquet"
    pq.write_table(to_arrow(labels, "labels"), path)
    read, note = read_labels(path, world["tx"])
    assert read.empty  # the background alone holds no laundering
    assert note["label_kinds"] == {"benign": len(labels)}
    assert note["benign_typologies"] == labels.typology.value_counts().sort_index().to_dict()


def test_the_demo_counts_flagged_accounts_by_label_kind():
    from aml.demo import kinds

    labels = pd.DataFrame({"typology": ["structuring", "structuring", "payroll_batch", "travel_abroad"],
                           "kind": ["laundering", "near_miss", "benign", "benign"],
                           "subject_account_ids": [["A1"], ["A2"], ["A3"], ["A1"]]})
    key = b"k" * 32
    by_account = kinds.account_kinds(labels, key)
    pid = {a: kinds.pseudonymise(a, key) for a in ("A1", "A2", "A3", "A4")}
    assert by_account == {pid["A1"]: "laundering", pid["A2"]: "near_miss", pid["A3"]: "payroll_batch"}
    counts = kinds.flagged_by_kind({"fan_out": {pid["A3"], pid["A4"], pid["A1"]}, "cycles": set()}, by_account)
    assert counts == {"cycles": {}, "fan_out": {"laundering": 1, "payroll_batch": 1, "unlabelled": 1}}
    assert list(counts["fan_out"]) == ["laundering", "payroll_batch", "unlabelled"]


def test_look_alikes_stay_inside_the_period_but_a_dormant_accounts_past(world):
    tx, labels = world["tx"], world["labels"]
    start, end = pd.Timestamp(START, tz="UTC"), pd.Timestamp(START, tz="UTC") + pd.Timedelta(days=DAYS)
    for label in labels[labels.kind == "benign"].itertuples():
        rows = _rows(world, label)
        if label.typology == "dormant_reactivated":
            rows = rows.sort_values("booked_at").iloc[1:]  # its last use long ago is the point
        assert (rows.booked_at >= start).all() and (rows.booked_at < end).all(), label.typology
    assert (tx.booked_at < end).all()
