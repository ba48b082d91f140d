"""Each bad input fails before anything is written, with one message naming what is wrong and
how to fix it."""
import dataclasses
import os
import subprocess
import sys
import time

import pytest

from aml.errors import AmlError
from aml.local import aws
from aml.replicate import Replicator, source

pytestmark = pytest.mark.integration


def test_postgres_not_reachable(resources, slot_name):
    rep = Replicator("postgresql://postgres@127.0.0.1:1/core_banking", resources, slot_name=slot_name)
    with pytest.raises(AmlError, match=r"PostgreSQL at postgresql://postgres@127.0.0.1:1/core_banking "
                                       r"is not reachable.*aml local up"):
        rep.full_load()


def test_emulator_not_reachable(source_db, slot_name):
    env = {**os.environ, **aws.local_env(), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_MAX_ATTEMPTS": "1"}
    result = subprocess.run([sys.executable, "-m", "aml.cli", "replicate", "full-load", "--db-url", source_db,
                             "--slot", slot_name, "--env", "unreachable"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("aml: error:")]
    assert "http://127.0.0.1:9 is not reachable" in line and "aml local up" in line


def test_raw_bucket_missing_writes_nothing(source_db, resources, slot_name):
    missing = dataclasses.replace(resources, raw_bucket=f"{resources.raw_bucket}-missing")
    rep = Replicator(source_db, missing, slot_name=slot_name)
    with pytest.raises(AmlError, match=f"raw bucket '{missing.raw_bucket}' does not exist"):
        rep.full_load()
    assert rep.status()["exists"] is False  # checked before the slot is created


def test_slot_in_use_by_another_replicator(source_db, resources, slot_name):
    rep = Replicator(source_db, resources, slot_name=slot_name)
    rep.full_load()
    holder = source.connect(source_db)
    try:
        source.Slot(holder, slot_name).lock()
        pid = holder.info.backend_pid
        with pytest.raises(AmlError, match=f"slot '{slot_name}' is in use by process {pid}.*--slot"):
            rep.cdc(until_idle=True)
        with pytest.raises(AmlError, match="in use"):
            rep.drop_slot()
    finally:
        holder.close()
    assert rep.cdc(until_idle=True) == {}  # free again once the holder is gone
    assert rep.drop_slot() is True


def test_slot_streamed_by_another_client(source_db, resources, slot_name):
    """A slot PostgreSQL itself reports active: pg_recvlogical streaming from it."""
    from aml.local.services import _pg_bin_path

    rep = Replicator(source_db, resources, slot_name=slot_name)
    rep.full_load()
    client = subprocess.Popen([str(_pg_bin_path() / "pg_recvlogical"), "-d", source_db, "-S", slot_name,
                               "--start", "-f", os.devnull], stderr=subprocess.PIPE)
    try:
        pid = None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            status = rep.status()
            pid = status["active_pid"] if status["active"] else time.sleep(0.1)
        assert pid, "pg_recvlogical never took the slot"
        with pytest.raises(AmlError, match=f"slot '{slot_name}' is in use by process {pid}"):
            rep.cdc(until_idle=True)
    finally:
        client.terminate()
        client.wait(timeout=30)


def test_cdc_needs_the_slot_from_a_full_load(source_db, resources, slot_name):
    with pytest.raises(AmlError, match=f"slot '{slot_name}' does not exist.*full-load"):
        Replicator(source_db, resources, slot_name=slot_name).cdc(until_idle=True)


@pytest.mark.parametrize("key_type", ["text", "varchar"])
def test_a_source_whose_key_dms_treats_as_a_lob_is_refused(source_db, resources, slot_name, key_type):
    """DMS skips a table whose primary key is a LOB (text, varchar without a length): the stand-in
    refuses the source before writing anything, naming the column."""
    import psycopg

    with psycopg.connect(source_db, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE core.accounts ALTER COLUMN account_id TYPE {key_type}")
    rep = Replicator(source_db, resources, slot_name=slot_name)
    with pytest.raises(AmlError, match=r"core\.accounts\.account_id is a primary key of type .*LOB.*varchar\(n\)"):
        rep.full_load()
    assert rep.status()["exists"] is False  # refused before the slot was created
