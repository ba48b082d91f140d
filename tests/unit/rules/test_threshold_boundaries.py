"""Every cent threshold at its exact value and one cent either side, through the rules Lambda's
rule code and the named query on the local engine (DuckDB over DECIMAL(18,2) Parquet, as the Glue
job writes it): both must give the same answer, and the one the rule's operator says.

Not cent thresholds, so not here: counts (fan_in/out, smurfing's depositors, min_count), windows,
round_amounts' modulus; structuring.min_total cannot be reached at the cent boundary while two
deposits must each be >= min_amount; smurfing's and cycles' amounts are batch-only or depositor
keyed and are covered by tests/unit/query/test_scenarios.py.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import timedelta as td
from decimal import Decimal

import pandas as pd
import pytest
from rule_runner import T0, run, tx

from aml.query import curate
from aml.query.local import LocalEngine
from aml_contract import named_queries, pseudonym, rules

KEY = pseudonym.normalise_key("boundary-test-pseudonymisation-key")
CENT = Decimal("0.01")
SUBJECT = "A"  # the one account the bank owns; every counterparty is external


@dataclass(frozen=True)
class Boundary:
    rule_id: str
    parameter: str
    value: Decimal  # the exact threshold the rows are built around, in USD
    flags: object  # operator: flagged = flags(amount, value)
    rows: object  # amount -> [tx keyword arguments]


def _cash_in(amount, day=0.0):
    return {"orig": "CASH", "benef": SUBJECT, "amount": amount, "type": "cash_deposit", "at": td(days=day),
            "channel": "branch", "originator_name": "depositor"}


def _pay(amount, day, **extra):
    return {"orig": SUBJECT, "benef": "Y", "amount": amount, "at": td(days=day), **extra}


def _baseline(per_day, days):
    return [{"orig": "X", "benef": SUBJECT, "amount": per_day, "at": td(days=d)} for d in range(days)]


def _threshold(rule_id, parameter):
    return Decimal(str(rules.load().rule(rule_id)[parameter]))


BOUNDARIES = [
    Boundary("large_cash", "threshold", _threshold("large_cash", "threshold"), operator.gt,
             lambda v: [_cash_in(v)]),
    Boundary("structuring", "min_amount", _threshold("structuring", "min_amount"), operator.ge,
             lambda v: [_cash_in(v), _cash_in("9500", 1)]),
    Boundary("structuring", "max_amount", _threshold("structuring", "max_amount"), operator.lt,
             lambda v: [_cash_in(v), _cash_in("9000", 1)]),
    Boundary("rapid_movement", "min_inflow", _threshold("rapid_movement", "min_inflow"), operator.ge,
             lambda v: [{"orig": "X", "benef": SUBJECT, "amount": v}, _pay(v, 0.1)]),
    # outflow against min_outflow_ratio x an inflow of 10,000
    Boundary("rapid_movement", "min_outflow_ratio", _threshold("rapid_movement", "min_outflow_ratio") * 10000,
             operator.ge, lambda v: [{"orig": "X", "benef": SUBJECT, "amount": "10000"}, _pay(v, 0.1)]),
    Boundary("dormant_reactivation", "min_amount", _threshold("dormant_reactivation", "min_amount"), operator.ge,
             lambda v: [_pay("100", 0), _pay(v, 100)]),
    Boundary("high_risk_jurisdiction", "grey_list_min_amount", _threshold("high_risk_jurisdiction",
             "grey_list_min_amount"), operator.ge, lambda v: [_pay(v, 0, beneficiary_country="KE")]),
    Boundary("velocity_spike", "min_amount", _threshold("velocity_spike", "min_amount"), operator.ge,
             lambda v: [*_baseline("100", 30), _pay(v, 31)]),
    # day >= multiplier x the daily baseline: 21 days of 2,100.00 put the cut-off at 10,500.00
    Boundary("velocity_spike", "multiplier", _threshold("velocity_spike", "multiplier") * 2100, operator.ge,
             lambda v: [*_baseline("2100", 21), _pay(v, 21)]),
]


def source_frames(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Source-shaped customers, accounts and transactions holding `rows` (tx keyword arguments)."""
    opened = T0 - td(days=400)
    customers = pd.DataFrame([{
        "customer_id": "C" + SUBJECT, "full_name": "n", "email": None, "phone": None, "date_of_birth": "1980-01-01",
        "national_id": None, "address_line": None, "city": None, "postal_code": None, "country": "US",
        "customer_type": "individual", "risk_rating": "low", "is_pep": False, "kyc_status": "verified",
        "onboarded_at": opened, "updated_at": opened}])
    accounts = pd.DataFrame([{"account_id": SUBJECT, "customer_id": "C" + SUBJECT, "account_type": "checking",
                              "currency": "USD", "status": "active", "branch_country": "US", "opened_at": opened,
                              "updated_at": opened}])
    transactions = pd.DataFrame([{
        "transaction_id": f"T{i:04d}", "booked_at": T0 + r.get("at", td(0)),
        "originator_account_id": r["orig"], "originator_name": r.get("originator_name"),
        "originator_country": r.get("originator_country", "US"), "beneficiary_account_id": r["benef"],
        "beneficiary_name": None, "beneficiary_country": r.get("beneficiary_country", "US"),
        "amount": r["amount"], "currency": r.get("currency", "USD"), "amount_base": r.get("amount_base", r["amount"]),
        "transaction_type": r.get("type", "wire"), "channel": r.get("channel", "online"), "ip_address": None,
        "device_id": None, "memo": None, "status": "booked", "updated_at": T0 + r.get("at", td(0)),
    } for i, r in enumerate(rows)])
    return customers, accounts, transactions


def lambda_flags(rule_id: str, rows: list[dict]) -> bool:
    txs = [tx(tid=f"T{i:04d}", **r) for i, r in enumerate(rows)]
    return bool(run(txs, SUBJECT, rule_id=rule_id))


def query_flags(rule_id: str, rows: list[dict], data_dir) -> bool:
    frames = curate.curate(*source_frames(rows), KEY)
    curate.write(frames, data_dir)
    days = frames["transactions"]["dt"]
    [query] = [q for q in named_queries.load_all() if q.name == rule_id]
    result = LocalEngine(data_dir).run(query, {"start_date": days.min(), "end_date": days.max()})
    return pseudonym.pseudonymise(SUBJECT, KEY) in set(result.frame["subject_account_pid"])


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: f"{b.rule_id}.{b.parameter}")
@pytest.mark.parametrize("offset", (-CENT, Decimal(0), CENT), ids=("minus_a_cent", "exact", "plus_a_cent"))
def test_threshold_boundary_same_answer_on_lambda_and_local_engine(boundary, offset, tmp_path):
    amount = boundary.value + offset
    rows = boundary.rows(str(amount))
    expected = boundary.flags(amount, boundary.value)
    assert (lambda_flags(boundary.rule_id, rows), query_flags(boundary.rule_id, rows, tmp_path)) == (expected,
                                                                                                      expected)
