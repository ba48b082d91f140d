"""The investigation queries: why an account was flagged (account_alerts) and the transactions
behind one alert (alert_evidence), on the hand-made bank with alerts of both sources."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from test_customer_risk_summary import alert, write_alerts

from aml.query.run import execute

WINDOW = {"start_date": "2025-03-01", "end_date": "2025-03-31"}


@pytest.fixture()
def zone(curated_dir, tmp_path):
    target = tmp_path / "curated"
    shutil.copytree(curated_dir, target)
    return target


@pytest.fixture()
def busy_account(zone):
    """The account with the most booked transactions in March, and three of them."""
    tx = pd.read_parquet(zone / "transactions")
    day = tx["dt"].astype(str)
    tx = tx[(tx["status"] == "booked") & (day >= "2025-03-01") & (day <= "2025-03-31")]
    sides = pd.concat([tx.assign(pid=tx["originator_account_pid"]), tx.assign(pid=tx["beneficiary_account_pid"])])
    pid = sides.groupby("pid").size().idxmax()
    mine = sides[sides["pid"] == pid].sort_values(["booked_at", "transaction_id"])
    return pid, mine


def test_an_alert_both_paths_found_shows_each_source_and_its_transactions(zone, busy_account):
    pid, mine = busy_account
    named = list(mine["transaction_id"][:2])
    first, last = mine["booked_at"].iloc[0], mine["booked_at"].iloc[-1]
    realtime = alert(1, "structuring", pid, 60, 2) | {"transaction_ids": named}
    batch_side = realtime | {"source": "batch", "transaction_ids": [],
                             "window_start": pd.Timestamp(first).floor("D").to_pydatetime(),
                             "window_end": (pd.Timestamp(last).floor("D") + pd.Timedelta(days=1)).to_pydatetime(),
                             "details": json.dumps({"query": "structuring", "run_id": "2025-03-31-r1"})}
    write_alerts(zone, [realtime, batch_side, alert(2, "cycles", pid, 99, 3) | {"source": "batch"}])

    evidence = execute("alert_evidence", WINDOW | {"alert_id": "AL001"}, data_dir=zone).frame
    by_source = {s: part for s, part in evidence.groupby("source")}
    assert list(by_source["realtime"]["transaction_id"]) == named
    assert set(by_source["realtime"]["evidence"]) == {"named"}
    window_rows = by_source["batch"]
    assert set(window_rows["evidence"]) == {"window"} and len(window_rows) == len(mine)
    assert set(window_rows["direction"]) <= {"in", "out"} and window_rows["counterparty_account_pid"].notna().all()
    assert json.loads(window_rows["details"].iloc[0])["run_id"] == "2025-03-31-r1"

    flagged = execute("account_alerts", WINDOW | {"account_pid": pid}, data_dir=zone).frame
    assert list(flagged["rule_id"]) == ["cycles", "structuring"]  # by weight: cycles 255, structuring 240
    got = flagged.set_index("rule_id")
    assert got.loc["structuring", "sources"] == "batch,realtime"
    assert got.loc["structuring", "named_transactions"] == 2
    assert (got.loc["cycles", "sources"], got.loc["cycles", "weight"]) == ("batch", 255)


def test_an_unknown_alert_or_account_returns_no_rows(zone, busy_account):
    pid, _ = busy_account
    write_alerts(zone, [alert(1, "structuring", pid, 60, 2)])
    assert execute("alert_evidence", WINDOW | {"alert_id": "nope"}, data_dir=zone).frame.empty
    assert execute("account_alerts", WINDOW | {"account_pid": "nope"}, data_dir=zone).frame.empty
    before = execute("account_alerts", {"start_date": "2025-01-01", "end_date": "2025-01-31", "account_pid": pid},
                     data_dir=zone).frame
    assert before.empty  # the alert is dated March 2


def test_the_investigation_queries_are_not_window_queries():
    from aml.query import catalog

    assert {"alert_evidence", "account_alerts"} <= set(catalog.queries()) - set(catalog.window_queries())
    assert "structuring" in catalog.window_queries()


def batch_alert(pid: str, mine: pd.DataFrame, named: list[str], count: int) -> dict:
    """A batch alert over `mine`'s days naming `named` of the `count` transactions behind its hit."""
    first, last = mine["booked_at"].iloc[0], mine["booked_at"].iloc[-1]
    return alert(1, "velocity_spike", pid, 55, 2) | {
        "source": "batch", "transaction_ids": named,
        "window_start": pd.Timestamp(first).floor("D").to_pydatetime(),
        "window_end": (pd.Timestamp(last).floor("D") + pd.Timedelta(days=1)).to_pydatetime(),
        "details": json.dumps({"query": "velocity_spike", "transaction_count": count})}


def test_a_batch_alert_naming_every_transaction_shows_those_only(zone, busy_account):
    pid, mine = busy_account
    named = list(mine["transaction_id"][:3])
    write_alerts(zone, [batch_alert(pid, mine, named, 3)])
    evidence = execute("alert_evidence", WINDOW | {"alert_id": "AL001"}, data_dir=zone).frame
    assert list(evidence["transaction_id"]) == named and set(evidence["evidence"]) == {"named"}
    assert set(evidence["transaction_count"]) == {3}


def test_a_capped_batch_alert_shows_its_named_transactions_then_the_rest_of_its_window(zone, busy_account):
    """The alert names the first ids of a hit larger than the cap and counts them all: the named
    ones come first, then every other booked transaction of the account in the window (a superset
    of those not named), so none is out of sight."""
    pid, mine = busy_account
    named = list(mine["transaction_id"][:2])
    write_alerts(zone, [batch_alert(pid, mine, named, len(mine))])
    evidence = execute("alert_evidence", WINDOW | {"alert_id": "AL001"}, data_dir=zone).frame
    assert list(evidence["evidence"]) == ["named"] * 2 + ["window"] * (len(mine) - 2)
    assert list(evidence["transaction_id"][:2]) == named
    assert set(evidence["transaction_id"]) == set(mine["transaction_id"])
    assert set(evidence["transaction_count"]) == {len(mine)}
