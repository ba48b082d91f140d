"""customer_risk_summary on hand-made curated alerts, and on a data dir where no alert was raised yet."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pandas as pd
import pytest

from aml.errors import AmlError
from aml.query import catalog
from aml.query.local import LocalEngine
from aml.query.run import execute
from aml_contract import schema

WINDOW = {"start_date": "2025-03-01", "end_date": "2025-03-31"}
COLUMNS = list(catalog.get("customer_risk_summary").columns)


def alert(n: int, rule: str, account_pid: str, score: int, day: int) -> dict:
    at = datetime(2025, 3, day, 12, tzinfo=UTC)
    return {"alert_id": f"AL{n:03d}", "rule_id": rule, "rule_version": 1, "severity": "high", "score": score,
            "subject_account_pid": account_pid, "transaction_ids": [f"T{n:06d}"], "event_time": at,
            "window_start": at, "window_end": at, "details": json.dumps({"n": n}), "detected_at": at,
            "source": "realtime"}


def write_alerts(data_dir, rows: list[dict]) -> None:
    """The curated alerts layout: Parquet per dt of event_time, ints 32-bit as the Glue table makes them."""
    frame = pd.DataFrame(rows).astype({"rule_version": "int32", "score": "int32"})
    frame[schema.PARTITION_COLUMN] = frame["event_time"].dt.strftime("%Y-%m-%d")
    columns = [name for name, _ in schema.CURATED_TABLES["alerts"]]
    for dt, part in frame.groupby(schema.PARTITION_COLUMN):
        folder = data_dir / "alerts" / f"{schema.PARTITION_COLUMN}={dt}"
        folder.mkdir(parents=True, exist_ok=True)
        part[columns].to_parquet(folder / "alerts.parquet", index=False)


@pytest.fixture()
def tables_only(curated_dir, tmp_path):
    """A copy of the hand-made curated zone: transactions, accounts, customers; no alerts folder."""
    target = tmp_path / "curated"
    shutil.copytree(curated_dir, target)
    assert not (target / "alerts").exists()
    return target


def test_ranks_accounts_by_risk_score_then_alerts(tables_only, pid):
    """Weights (aml_contract.risk.weights): structuring 240, large_cash 210, velocity_spike 110,
    smurfing 225, fan_in 120, fan_out 120, cycles 255."""
    pep, s1, sm1, fi1, outsider = pid("PEP1"), pid("S1"), pid("SM1"), pid("FI1"), "external-account-pid"
    write_alerts(tables_only, [
        alert(1, "structuring", s1, 60, 2), alert(2, "large_cash", s1, 50, 3), alert(3, "velocity_spike", s1, 40, 4),
        alert(4, "structuring", s1, 60, 9),  # a second hit of a scenario counts once in scenarios_hit and risk_score
        alert(5, "smurfing", pep, 90, 5), alert(6, "fan_out", pep, 80, 6),  # 345
        alert(7, "smurfing", sm1, 70, 7), alert(8, "fan_in", sm1, 100, 8),  # 345 and 2 alerts, as PEP1
        alert(9, "fan_in", fi1, 95, 10),
        alert(12, "high_value_transactions", fi1, 10, 12),  # no rule of that id: weighs 0, still counted
        alert(10, "cycles", outsider, 99, 11),  # not one of the bank's accounts: no customer to join
        alert(11, "cycles", fi1, 99, 1) | {"event_time": datetime(2025, 2, 28, 23, tzinfo=UTC)},  # before the window
    ])
    frame = execute("customer_risk_summary", WINDOW, data_dir=tables_only).frame
    assert list(frame.columns) == COLUMNS
    got = frame.set_index("subject_account_pid")
    assert list(frame["subject_account_pid"]) == [s1, *sorted([pep, sm1]), outsider, fi1]  # ties by account
    assert list(frame["risk_score"]) == [560, 345, 345, 255, 120]
    assert list(frame["risk_rank"]) == [1, 2, 2, 4, 5]  # PEP1 and SM1 tie on risk score and alert count
    assert not frame["in_queue"].any()  # 1% of the hand-made bank's 40-odd active accounts is 0
    assert got.loc[s1, "scenarios"] == "large_cash,structuring,velocity_spike"
    assert (got.loc[s1, "scenarios_hit"], got.loc[s1, "alert_count"], got.loc[s1, "total_score"],
            got.loc[s1, "max_score"]) == (3, 4, 210, 60)
    utc = pd.Timestamp(got.loc[s1, "first_event_at"]).tz  # UTC, or naive UTC from DuckDB
    assert got.loc[s1, "first_event_at"] == pd.Timestamp("2025-03-02 12:00", tz=utc)
    assert got.loc[s1, "last_event_at"] == pd.Timestamp("2025-03-09 12:00", tz=utc)
    assert got.loc[fi1, "alert_count"] == 2 and got.loc[fi1, "scenarios"] == "fan_in,high_value_transactions"
    assert got.loc[pep, "subject_customer_pid"] == pid("CPEP1") and bool(got.loc[pep, "is_pep"])
    assert got.loc[pep, "risk_rating"] == "low" and not bool(got.loc[s1, "is_pep"])
    assert pd.isna(got.loc[outsider, "subject_customer_pid"]) and pd.isna(got.loc[outsider, "risk_rating"])


@pytest.mark.parametrize("layout", ["no alerts folder", "empty alerts folder"])
def test_no_alert_raised_yet_gives_no_rows(tables_only, layout):
    if layout == "empty alerts folder":
        (tables_only / "alerts").mkdir()
    result = execute("customer_risk_summary", WINDOW, data_dir=tables_only)
    assert result.rows == 0 and list(result.frame.columns) == COLUMNS


def test_empty_alerts_view_has_the_types_of_landed_alerts(tables_only, tmp_path, pid):
    empty = LocalEngine(tables_only)._connect().execute("DESCRIBE alerts").fetchall()
    write_alerts(tables_only, [alert(1, "structuring", pid("S1"), 60, 2)])
    landed = LocalEngine(tables_only)._connect().execute("DESCRIBE alerts").fetchall()
    def logical(rows):  # the timestamp precision (_NS from pandas) is the writer's, not the contract's
        return [(name, kind.replace("TIMESTAMPTZ_NS", "TIMESTAMP WITH TIME ZONE")) for name, kind, *_ in rows]

    assert logical(empty) == logical(landed)
    assert dict(logical(empty))["event_time"] == "TIMESTAMP WITH TIME ZONE"
    assert dict(logical(empty))["transaction_ids"] == "VARCHAR[]" and dict(logical(empty))["dt"] == "VARCHAR"


def test_other_tables_stay_required(curated_dir, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(curated_dir / "transactions", partial / "transactions")
    with pytest.raises(AmlError, match="reads table\\(s\\) accounts, customers, missing from"):
        execute("customer_risk_summary", WINDOW, data_dir=partial)
    only_alerts = tmp_path / "only_alerts"
    (only_alerts / "alerts").mkdir(parents=True)
    with pytest.raises(AmlError, match="holds no curated tables"):
        execute("customer_risk_summary", WINDOW, data_dir=only_alerts)
