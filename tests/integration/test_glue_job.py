"""The Glue entry script run exactly as documented, as a separate process (its own JVM), over a
curated zone holding the reference data (`aml reference publish`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aml import REPO_ROOT
from aml.reference import publish
from aml_contract.pseudonym import key_from_env, pseudonymise
from aml_contract.reference import DATASETS
from aml_contract.schema import raw_table_prefix
from aml_contract.segments import SegmentFloors

pytestmark = pytest.mark.integration

TS = pa.timestamp("us", tz="UTC")
BOOKED = datetime(2024, 5, 2, 10, 30, tzinfo=UTC)


def write(root: Path, table: str, name: str, columns: dict[str, pa.Array]) -> None:
    path = root / raw_table_prefix(table) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def raw_zone(root: Path) -> None:
    n = 2
    common = {"Op": pa.array(["I"] * n), "dms_commit_ts": pa.array([BOOKED] * n, TS)}
    write(root, "accounts", "LOAD00000001.parquet", {
        **common, "account_id": pa.array(["ACC-1001", "ACC-1002"]), "customer_id": pa.array(["CUS-1", "CUS-2"]),
        "account_type": pa.array(["checking"] * n), "currency": pa.array(["USD"] * n),
        "status": pa.array(["active"] * n), "branch_country": pa.array(["US"] * n),
        "opened_at": pa.array([BOOKED] * n, TS), "updated_at": pa.array([BOOKED] * n, TS)})
    write(root, "transactions", "2024/05/02/20240502-103000000.parquet", {
        **common, "transaction_id": pa.array(["TX-1", "TX-2"]), "booked_at": pa.array([BOOKED] * n, TS),
        "originator_account_id": pa.array(["ACC-1001", "ACC-1002"]),
        "originator_name": pa.array(["Maria Lopez", "Jonas Berg"]), "originator_country": pa.array(["US"] * n),
        "beneficiary_account_id": pa.array(["ACC-1002", "ACC-1001"]),
        "beneficiary_name": pa.array(["Jonas Berg", "Maria Lopez"]), "beneficiary_country": pa.array(["US"] * n),
        "amount": pa.array([Decimal("120.00"), Decimal("-3.00")], pa.decimal128(18, 2)),
        "currency": pa.array(["USD"] * n), "amount_base": pa.array([Decimal("120.00")] * n, pa.decimal128(18, 2)),
        "transaction_type": pa.array(["ach"] * n), "channel": pa.array(["online"] * n),
        "ip_address": pa.array(["203.0.113.7"] * n), "device_id": pa.array(["dev-77"] * n),
        "memo": pa.array(["rent", "refund"]), "status": pa.array(["booked"] * n),
        "updated_at": pa.array([BOOKED] * n, TS)})


def test_entry_script_runs_as_documented(tmp_path):
    raw, curated, quarantine = tmp_path / "raw", tmp_path / "curated", tmp_path / "quarantine"
    raw_zone(raw)
    published = publish.to_directory(curated)
    result = subprocess.run(
        [sys.executable, "glue_jobs/curate_transactions.py", "--JOB_NAME", "local", "--raw_path", str(raw),
         "--curated_path", str(curated), "--quarantine_path", str(quarantine)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["tables"]["transactions"]["inserted"] == 1
    assert summary["tables"]["transactions"]["quarantined_total"] == 1
    assert summary["tables"]["accounts"]["inserted"] == 2 and summary["tables"]["customers"]["rows_read_total"] == 0
    assert summary["tables"]["transactions"]["amount_base"] == {"source": 1, "derived": 0, "unknown": 0}
    assert sorted(summary["reference"]) == sorted(DATASETS)

    key = key_from_env()
    written = pq.read_table(curated / "transactions").to_pylist()
    assert [(r["transaction_id"], str(r["dt"])) for r in written] == [("TX-1", "2024-05-02")]
    assert written[0]["originator_account_pid"] == pseudonymise("ACC-1001", key)
    assert written[0]["beneficiary_customer_pid"] == pseudonymise("CUS-2", key)
    bad = pq.read_table(quarantine / "transactions").to_pylist()
    assert [(r["transaction_id"], r["quarantine_reason"]) for r in bad] == [("TX-2", "non_positive:amount")]
    runs = [json.loads(p.read_text()) for p in (curated / "_job_state" / "runs").glob("*.json")]
    assert [r["run_id"] for r in runs] == [summary["run_id"]]
    assert sorted(runs[0]["reference"]) == sorted(DATASETS)  # the versions the run curated against
    assert all(runs[0]["reference"][name] == m.version for name, m in published.items())
    assert runs[0]["tables"]["transactions"]["amount_base"] == {"source": 1, "derived": 0, "unknown": 0}
    # the segment statistics: TX-1 once per side (both ours, both US), the 60 days ending on its dt
    statistics = {"published": True, "dataset": "segment_amounts", "version": "2024-05-02", "rows": 10,
                  "window_start": "2024-03-04", "window_end": "2024-05-02", "segments": 2, "fallback_segments": 1}
    assert summary["segment_statistics"] == runs[0]["segment_statistics"] == statistics
    floors = SegmentFloors.read(lambda key: (curated / key).read_bytes())
    assert floors.percentile_amount("US", 50) == floors.percentile_amount(None, 99) == Decimal("120.00")
