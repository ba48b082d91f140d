"""customer_risk_summary orders accounts as aml_contract.risk.rank does and cuts its queue at
risk.queue_size(active accounts, alert_budget): the SQL against the contract's Python."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest
from handmade_bank import BankBuilder
from test_customer_risk_summary import WINDOW, alert, write_alerts

from aml.query import catalog
from aml.query.local import LocalEngine
from aml_contract import named_queries, risk, rules

PARAMS = rules.load()
ACTIVE = 299  # 1% of 299 is 2 accounts; counting one account too many would make it 3
# account -> the rule ids of its alerts (one alert each), ties on risk score and on alert count
HITS = {
    "Q1": ["fan_in", "fan_out"],  # 240, 2 alerts
    "Q2": ["structuring"],  # 240, 1 alert
    "Q3": ["structuring", "structuring"],  # 240, 2 alerts: ties with Q1, the account decides
    "Q4": ["dormant_reactivation"] * 3,  # 120, 3 alerts
    "Q5": ["high_risk_jurisdiction"],  # 270
    "Q6": ["round_amounts"],  # 40
    "Q7": ["velocity_spike", "velocity_spike", "round_amounts"],  # 150
}


@pytest.fixture(scope="module")
def bank_with_alerts(make_zone, tmp_path_factory, pid):
    """ACTIVE accounts of ours with one booked payment in March 2025 (half paying, half paid, the
    alerted accounts among them); an account active only in February and the external merchant
    (no customer) are not active in the window."""
    b = BankBuilder()
    for i in range(ACTIVE - len(HITS)):
        aid = b.own(f"A{i:03d}")
        b.tx(aid, "M0", 20.0, 60.5) if i % 2 else b.tx("M0", aid, 20.0, 60.5)
    for aid in HITS:
        b.tx("M0", b.own(aid), 20.0, 61.5)
    b.tx(b.own("FEB"), "M0", 20.0, 40.5)  # 2025-02-10
    root = tmp_path_factory.mktemp("risk_queue")
    make_zone(b, root)
    rows, n = [], 0
    for aid, rule_ids in HITS.items():
        for rule_id in rule_ids:
            n += 1
            rows.append(alert(n, rule_id, pid(aid), 50, 1 + n % 28))
    write_alerts(root, rows)
    return root


def _expected(pid, params):
    hits = {pid(a): r for a, r in HITS.items()}
    return risk.rank(hits, params, alerts={pid(a): len(r) for a, r in HITS.items()})


def _run(root, query):
    return LocalEngine(root).run(query, catalog.bind(query, dict(WINDOW))).frame


def test_order_and_queue_are_the_contracts(bank_with_alerts, pid):
    frame = _run(bank_with_alerts, catalog.get("customer_risk_summary"))
    expected = _expected(pid, PARAMS)
    assert list(frame["subject_account_pid"]) == [r.account for r in expected]
    assert list(frame["risk_score"]) == [r.risk_score for r in expected]
    assert list(frame["alert_count"]) == [r.alerts for r in expected]
    size = risk.queue_size(ACTIVE, PARAMS.risk_score.alert_budget)
    assert size == 2
    assert list(frame["in_queue"]) == [i < size for i in range(len(expected))]
    # RANK over (risk score, alert count): 1 + the accounts strictly ahead
    keys = [(r.risk_score, r.alerts) for r in expected]
    assert list(frame["risk_rank"]) == [1 + sum(k > key for k in keys) for key in keys]
    assert len(set(frame["risk_rank"])) < len(frame)  # the data holds a tie


@pytest.mark.parametrize("budget", [0.02, 0.5, 1])
def test_the_budget_cuts_the_queue_at_its_share(bank_with_alerts, pid, budget):
    raw = json.loads(rules.PARAMETERS_FILE.read_text())
    raw["risk_score"]["alert_budget"] = budget
    params = rules.parse(raw)
    query = named_queries.parse(named_queries.QUERIES_DIR / "customer_risk_summary.sql", params)
    frame = _run(bank_with_alerts, query)
    size = risk.queue_size(ACTIVE, Fraction(str(budget)))
    assert list(frame["subject_account_pid"]) == [r.account for r in risk.queue(_expected(pid, params), ACTIVE, budget)] \
        + [r.account for r in _expected(pid, params)[size:]]
    assert int(frame["in_queue"].sum()) == min(size, len(HITS))
    assert list(frame["in_queue"]) == sorted(frame["in_queue"], reverse=True)  # the queue is a prefix
