"""Scoring against labels, on the hand-made bank whose injected and look-alike accounts are known."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from handmade_bank import DAYS, KEY, START

from aml.query import scoring


def labels_of(bank) -> pd.DataFrame:
    rows = []
    for kind, groups in (("laundering", bank.expected), ("near_miss", bank.near_misses)):
        for typology, accounts in groups.items():
            for account in sorted(accounts):
                rows.append({"label_id": f"{typology}-{kind}-{account}", "typology": typology, "kind": kind,
                             "subject_account_ids": [account], "transaction_ids": [],
                             "window_start": START + timedelta(days=100), "window_end": START + timedelta(days=101)})
    return pd.DataFrame(rows)


def test_scores_recall_precision_and_near_misses(small_bank, curated_dir):
    labels = labels_of(small_bank)
    first, last = START.date(), (START + timedelta(days=DAYS - 1)).date()
    scores = {s.scenario: s for s in scoring.score_all(labels, KEY, curated_dir, first, last)}
    assert scores["structuring"].recall == 1.0 and scores["structuring"].near_misses_flagged == 0
    # every large amount, and a dormancy look-alike's sudden inflow, are rightly flagged: recall only
    assert scores.pop("high_value_transactions").recall == 1.0
    assert scores.pop("velocity_spike").recall == 1.0
    assert all(s.recall == 1.0 and s.precision == 1.0 for s in scores.values()), scoring.table(list(scores.values()))
    assert "| structuring | 100% (1/1) | 100% (1/1) | 0/1 |" in scoring.table(list(scores.values()))


def test_unflagged_instance_lowers_recall(small_bank, curated_dir):
    labels = labels_of(small_bank)
    extra = labels.iloc[[0]].assign(label_id="x", subject_account_ids=[["B000"]])
    first, last = START.date(), (START + timedelta(days=DAYS - 1)).date()
    s = scoring.score(extra.typology.iloc[0], pd.concat([labels, extra]), KEY, curated_dir, first, last)
    assert s.instances == 2 and s.detected == 1 and s.recall == 0.5


def test_results_already_run_are_scored_without_running_them_again(small_bank, curated_dir, monkeypatch):
    labels = labels_of(small_bank)
    first, last = START.date(), (START + timedelta(days=DAYS - 1)).date()
    window = {"start_date": first.isoformat(), "end_date": last.isoformat()}
    results = {name: scoring.execute(name, window, data_dir=curated_dir) for name in set(labels["typology"])}
    expected = scoring.score_all(labels, KEY, curated_dir, first, last)

    def run_again(*args, **kwargs):
        raise AssertionError("a query given in `results` was run again")

    monkeypatch.setattr(scoring, "execute", run_again)
    assert scoring.score_all(labels, KEY, curated_dir, first, last, results) == expected
