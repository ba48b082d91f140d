"""`aml replicate cdc` killed with SIGKILL while changes flow, then restarted, loses nothing:
every change is in the raw zone exactly once (no file rewritten under a second key) and on the
stream at least once."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import psycopg
import pytest
from replication_helpers import raw_files, stream_records

from aml.local import aws
from aml.replicate import Replicator, source

pytestmark = pytest.mark.integration

def _write(url: str, first: int, stop: threading.Event | None = None, last: int | None = None,
           changes: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Commit transactions from `first` until `last` or until `stop` is set; each is two inserts
    and an update of an earlier row. Appends the (transaction_id, Op) changes made to `changes`."""
    changes = [] if changes is None else changes
    with psycopg.connect(url, autocommit=True) as conn:
        n = first
        while (last is None or n < last) and not (stop and stop.is_set()):
            with conn.transaction():
                made = []
                for tid in (f"t{n}a", f"t{n}b"):
                    conn.execute("INSERT INTO core.transactions (transaction_id, booked_at, originator_account_id, "
                                 "amount) VALUES (%s, now(), %s, 10.00)", (tid, f"A{n % 7}"))
                    made.append((tid, "I"))
                target = f"t{max(n - 1, 0)}a"
                conn.execute("UPDATE core.transactions SET amount = amount + 1 WHERE transaction_id = %s", (target,))
                made.append((target, "U"))
            changes.extend(made)
            n += 1
            time.sleep(0.05)
    return changes


def _cdc_command(url: str, slot: str, env_name: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "aml.cli", "replicate", "cdc", "--db-url", url, "--slot", slot,
            "--env", env_name, "--batch-changes", "9", *extra]


def _cdc_rows(bucket: str) -> list[dict]:
    return [row for key, table in raw_files(bucket, "transactions").items() if "LOAD" not in key
            for row in table.to_pylist()]


def _wait_for_sessions_gone(url: str) -> None:
    """The killed client's server session ends once PostgreSQL notices the dropped socket."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(300):
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                "AND application_name = %s", (source.APPLICATION_NAME,)).fetchone():
                return
            time.sleep(0.1)
    raise AssertionError("the killed replicator's session is still open")


def test_kill_mid_stream_and_restart_loses_nothing(source_db, resources, slot_name):
    Replicator(source_db, resources, slot_name=slot_name).full_load()
    env = {**os.environ, **aws.local_env()}
    proc = subprocess.Popen(_cdc_command(source_db, slot_name, resources.env_name), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    expected: list[tuple[str, str]] = []
    stop = threading.Event()
    writer = threading.Thread(target=_write, args=(source_db, 0, stop), kwargs={"changes": expected})
    writer.start()
    try:
        deadline = time.monotonic() + 120
        while not _cdc_rows(resources.raw_bucket):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the replicator wrote no CDC file"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        at_kill = len(expected)
        while writer.is_alive() and len(expected) < at_kill + 30:  # changes keep flowing after the kill
            time.sleep(0.05)
        stop.set()
        writer.join()
    assert 0 < len(_cdc_rows(resources.raw_bucket)) <= at_kill < len(expected)

    _wait_for_sessions_gone(source_db)
    restart = subprocess.run(_cdc_command(source_db, slot_name, resources.env_name, "--until-idle"),
                             env=env, capture_output=True, text=True, timeout=300)
    assert restart.returncode == 0, restart.stderr

    rows = _cdc_rows(resources.raw_bucket)
    distinct = {(r["transaction_id"], r["Op"], r["dms_commit_ts"]) for r in rows}
    assert Counter((tid, op) for tid, op, _ in distinct) == Counter(expected)
    assert len(rows) == len(distinct) == len(expected)  # re-processed batches rewrote the same keys

    records = stream_records(resources.stream_name)
    streamed = {(r["data"]["transaction_id"], r["metadata"]["operation"][0].upper(), r["metadata"]["timestamp"])
                for r in records}
    assert Counter((tid, op) for tid, op, _ in streamed) == Counter(expected)
    assert all(r["key"] == r["data"]["originator_account_id"] for r in records)


def test_crash_between_write_and_advance_rewrites_the_same_keys(source_db, resources, slot_name, monkeypatch):
    """Files written but the slot not advanced (the crash window): the re-run, even with another
    batch size, overwrites those keys instead of adding files holding the same changes."""
    rep = Replicator(source_db, resources, slot_name=slot_name, batch_changes=4)
    rep.full_load()
    expected = _write(source_db, 0, last=6)

    def crash(self, lsn):
        raise RuntimeError("killed before advancing the slot")

    monkeypatch.setattr(source.Slot, "advance", crash)
    with pytest.raises(RuntimeError):
        rep.cdc(until_idle=True)
    first_keys = set(raw_files(resources.raw_bucket, "transactions")) - {"dms/core/transactions/LOAD00000001.parquet"}
    assert first_keys and len(_cdc_rows(resources.raw_bucket)) < len(expected)
    monkeypatch.undo()

    bigger = Replicator(source_db, resources, slot_name=slot_name, batch_changes=100)
    assert bigger.cdc(until_idle=True) == {"transactions": {"I": 12, "U": 6, "D": 0}}
    assert first_keys <= set(raw_files(resources.raw_bucket, "transactions"))
    rows = _cdc_rows(resources.raw_bucket)
    assert Counter((r["transaction_id"], r["Op"]) for r in rows) == Counter(expected)
