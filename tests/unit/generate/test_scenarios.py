"""Every typology is injected, every laundering instance satisfies its rule and every near miss
fails it, checked by an independent checker (checks.py) against rule_parameters.json."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from aml.generate import BankConfig, generate
from aml.reference import build
from aml_contract import rules
from aml_contract.schema import CASH_TYPES

from .checks import CHECKS
from .conftest import SMALL

PARAMS = rules.load()


def _check(label, tx):
    rows = tx[tx.transaction_id.isin(label.transaction_ids)]
    assert len(rows) == len(label.transaction_ids)
    check = CHECKS[label.typology]
    extra = {"fatf": build.in_memory().fatf_lists} if label.typology == "high_risk_jurisdiction" else {}
    return check(PARAMS.rule(label.typology), rows, list(label.subject_account_ids), label, tx, **extra)


def test_every_rule_has_laundering_and_near_miss_labels(bank):
    counts = bank.labels.groupby(["typology", "kind"]).size()
    for rule_id in PARAMS.rules:
        assert counts.get((rule_id, "laundering"), 0) >= 1, rule_id
        assert counts.get((rule_id, "near_miss"), 0) >= 1, rule_id
    assert bank.skipped == {}
    hops = {len(s) for s in bank.labels[(bank.labels.typology == "cycles")
                                        & (bank.labels.kind == "laundering")].subject_account_ids}
    cycles = PARAMS.rule("cycles")
    assert hops == set(range(cycles["min_hops"], cycles["max_hops"] + 1))


@pytest.mark.parametrize("rule_id", sorted(CHECKS))
def test_laundering_satisfies_and_near_miss_fails_its_rule(bank, tx, rule_id):
    labels = bank.labels[bank.labels.typology == rule_id]
    assert not labels.empty
    for label in labels.itertuples():
        flagged = _check(label, tx)
        assert flagged == (label.kind == "laundering"), (label.label_id, label.kind)


def test_labels_reference_real_transactions_and_internal_subjects(bank):
    ids = set(bank.transactions.transaction_id)
    accounts = set(bank.accounts.account_id)
    for label in bank.labels.itertuples():
        assert set(label.transaction_ids) <= ids
        assert label.subject_account_ids and set(label.subject_account_ids) <= accounts
        assert label.window_start <= label.window_end
    assert bank.labels.label_id.is_unique


def test_dormant_accounts_prove_dormancy_with_history_before_the_period(bank, tx):
    start = pd.Timestamp(SMALL.start_date, tz="UTC")
    for label in bank.labels[bank.labels.typology == "dormant_reactivation"].itertuples():
        account = label.subject_account_ids[0]
        row = bank.accounts.set_index("account_id").loc[account]
        assert row.status == "active" and row.updated_at == label.window_start
    laundering = bank.labels[(bank.labels.typology == "dormant_reactivation") & (bank.labels.kind == "laundering")]
    for label in laundering.itertuples():
        history = tx[(tx.originator_account_id == label.subject_account_ids[0])
                     & ~tx.transaction_id.isin(label.transaction_ids)]
        assert history.booked_at.max() < start  # the last activity lies before the period
    assert (bank.accounts.status == "dormant").any()


def test_background_does_not_look_like_a_typology(bank, tx):
    labelled = set(bank.labels.transaction_ids.explode())
    background = tx[~tx.transaction_id.isin(labelled)]
    structuring = PARAMS.rule("structuring")
    cash = background[background.transaction_type.isin(CASH_TYPES)]
    assert cash.usd.max() < structuring["min_amount"] / 2
    round_rule = PARAMS.rule("round_amounts")
    assert not ((background.local % round_rule["modulus"] == 0) & (background.local >= round_rule["min_amount"])).any()
    listed = build.in_memory().fatf_ever_listed
    assert not background.beneficiary_country.isin(listed).any()
    assert not background.originator_country.isin(listed).any()
    internal = set(bank.accounts.account_id)
    between_customers = background[background.originator_account_id.isin(internal)
                                   & background.beneficiary_account_id.isin(internal)
                                   & (background.memo == "Transfer")]
    assert between_customers.usd.max() < PARAMS.rule("cycles")["min_amount"]


def test_a_changed_threshold_changes_the_injection(monkeypatch):
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["rules"]["structuring"].update(min_amount=5000, max_amount=6000, min_total=9000)
    for window in raw["rules"]["fan_in"]["windows"]:
        window["min_counterparties"] = 9
    changed = rules.parse(raw)
    monkeypatch.setattr("aml.generate.bank.rule_parameters.load", lambda: changed)
    bank = generate(BankConfig(customers=200, days=30, seed=3))
    tx = bank.transactions.assign(usd=bank.transactions.amount_base.astype("float64"))
    for label in bank.labels[bank.labels.kind == "laundering"].itertuples():
        if label.typology == "structuring":
            amounts = tx[tx.transaction_id.isin(label.transaction_ids)].usd
            assert amounts.between(5000, 6000, inclusive="left").all() and amounts.sum() > 9000
        if label.typology == "fan_in":
            assert len(label.transaction_ids) >= 9


def test_a_short_bank_skips_velocity_spikes_and_says_so(caplog):
    bank = generate(BankConfig(customers=200, days=10, seed=5))
    assert "velocity_spike" in bank.skipped
    assert "velocity_spike" not in set(bank.labels.typology)
    assert "velocity_spike not injected" in caplog.text
    assert {"large_cash", "structuring", "fan_out"} <= set(bank.labels.typology)


@pytest.mark.parametrize("seed", [4, 6])
def test_velocity_spikes_pick_accounts_with_their_own_minimum_history(monkeypatch, seed):
    """The query and the rule count history from an account's first activity, not the bank's
    first day: with a minimum history close to the bank's length, accounts that began later are
    passed over, and every spike still satisfies the independent check."""
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["rules"]["velocity_spike"]["min_baseline_days"] = 28
    changed = rules.parse(raw)
    monkeypatch.setattr("aml.generate.bank.rule_parameters.load", lambda: changed)
    bank = generate(BankConfig(customers=200, days=30, seed=seed))
    tx = bank.transactions.assign(usd=bank.transactions.amount_base.astype("float64"))
    spikes = bank.labels[bank.labels.typology == "velocity_spike"]
    assert (spikes.kind == "laundering").any()
    for label in spikes.itertuples():
        account = label.subject_account_ids[0]
        mine = tx[(tx.originator_account_id == account) | (tx.beneficiary_account_id == account)]
        assert label.window_start - mine.booked_at.min().floor("D") >= pd.Timedelta(days=28), label.label_id
        assert CHECKS["velocity_spike"](changed.rule("velocity_spike"), None, [account], label, tx) == (
            label.kind == "laundering")
