"""Every hit shows its evidence: each scenario query's row names the transactions that make up the
hit (`-- evidence: ...; transactions ...`), here checked against ids picked by hand on the
hand-made bank; a hit of more than MAX_EVIDENCE_TRANSACTIONS names its first ones by time and
counts them all; and the list reaches a batch alert through the CSV Athena writes."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from handmade_bank import START, BankBuilder
from test_scenarios import FULL, WINDOWS

from aml.pipeline.athena_binding import result_csv
from aml.query import catalog
from aml.query.run import execute
from aml_contract import rules
from aml_contract.named_queries import MAX_EVIDENCE_TRANSACTIONS
from lambdas.daily_pipeline import batch_alerts, query_results

PARAMS = rules.load()
# the injected hits of the hand-made bank and the row that holds each (velocity_spike: one per day)
SCENARIOS = ["structuring", "large_cash", "smurfing", "fan_in", "fan_out", "rapid_movement", "round_amounts",
             "cycles", "dormant_reactivation", "velocity_spike", "high_risk_jurisdiction"]


def named(row: pd.Series, evidence) -> list[str]:
    if evidence.is_list:
        return list(row[evidence.transactions[0]])
    return [row[c] for c in evidence.transactions if pd.notna(row[c])]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_injected_hit_names_exactly_its_transactions(scenario, small_bank, curated_dir, pid):
    query = catalog.get(scenario)
    frame = execute(scenario, WINDOWS.get(scenario, FULL), data_dir=curated_dir).frame
    for account, expected in small_bank.evidence[scenario].items():
        rows = frame[frame["subject_account_pid"] == pid(account)]
        if scenario == "velocity_spike":  # the account-day of the spike
            rows = rows[pd.to_datetime(rows["day"]) == pd.Timestamp((START + timedelta(days=95)).date())]
        (row,) = [r for _, r in rows.iterrows()]
        assert named(row, query.evidence) == expected, account
        if query.evidence.is_list:
            assert row[query.evidence.count] == len(expected)


def test_every_scenario_query_names_its_transactions():
    """The contract: a named query whose name is a rule id declares the transactions behind each
    row, and a list of them is counted beside it."""
    scenarios = [q for q in catalog.queries().values() if q.name in PARAMS.rules]
    assert len(scenarios) == 17
    for query in scenarios:
        assert query.evidence is not None and query.evidence.transactions, query.name
        if query.evidence.is_list and query.name != "cycles":  # cycles lists its hops: at most max_hops
            assert f", 1, {MAX_EVIDENCE_TRANSACTIONS})" in query.sql, query.name  # slice(ids, 1, cap)


@pytest.fixture(scope="module")
def crowded(make_zone, tmp_path_factory):
    """A fan-in of more payers than the cap, all within its shortest window, and a structuring
    hit beside it: the first 100 payments by time are named, all are counted."""
    b = BankBuilder()
    hub = b.own("CROWD")
    short, _, _ = PARAMS.rule("fan_in").count_windows()
    payers = MAX_EVIDENCE_TRANSACTIONS + 37
    minutes = short.window_hours * 60 // (payers + 1)
    ids = [b.tx(f"P{i:03d}", hub, 50.0, START + timedelta(days=10, minutes=i * minutes)) for i in range(payers)]
    s = b.own("STRUCT")
    deposits = [b.tx("CASH", s, 9_500.0, 20.4, "cash_deposit"), b.tx("CASH", s, 9_200.0, 21.9, "cash_deposit")]
    root = tmp_path_factory.mktemp("crowded")
    make_zone(b, root)
    window = {"start_date": START.date().isoformat(), "end_date": (START + timedelta(days=30)).date().isoformat()}
    return root, window, {hub: ids, s: deposits}


def test_a_hit_of_more_than_the_cap_names_its_first_ones_by_time_and_counts_all(crowded, pid):
    root, window, expected = crowded
    frame = execute("fan_in", window, data_dir=root).frame.set_index("subject_account_pid")
    row = frame.loc[pid("CROWD")]
    assert len(expected["CROWD"]) > MAX_EVIDENCE_TRANSACTIONS
    assert list(row["transaction_ids"]) == expected["CROWD"][:MAX_EVIDENCE_TRANSACTIONS]
    assert row["transaction_count"] == len(expected["CROWD"])


@pytest.mark.parametrize(("scenario", "account"), [("fan_in", "CROWD"), ("structuring", "STRUCT")])
def test_the_ids_reach_the_batch_alert_through_athenas_csv(crowded, pid, scenario, account):
    """DuckDB's rows written as Athena writes its result file (arrays as `[a, b, c]`), read back by
    the daily pipeline's batch-alerts step: the hit names the ids the query named, with their count."""
    root, window, expected = crowded
    result = execute(scenario, window, data_dir=root)
    text = result_csv(result.frame)
    assert "[" + ", ".join(expected[account][:MAX_EVIDENCE_TRANSACTIONS]) + "]" in text
    outcome = batch_alerts.Outcome()
    hits = {h.subject_account_pid: h for h in batch_alerts.hits_of(catalog.get(scenario),
                                                                    query_results.parse_csv(text), outcome)}
    hit = hits[pid(account)]
    assert list(hit.transaction_ids) == expected[account][:MAX_EVIDENCE_TRANSACTIONS]
    assert hit.transaction_count == len(expected[account])
    assert "ids_unreadable" not in outcome.per_rule[scenario]
