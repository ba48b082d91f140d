"""A uniquely named source database (contract DDL) on the shared server, a unique slot, and
unique raw bucket and stream; every slot of the database is dropped afterwards, since a
leftover logical slot holds WAL for everyone on the server."""
from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from aml_contract.schema import postgres_ddl


@pytest.fixture
def source_db(local_services):
    from aml.local.services import Postgres

    name = f"repl_{uuid.uuid4().hex[:10]}"
    server = Postgres()
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(postgres_ddl())
    yield url
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            slots = conn.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s AND NOT active",
                                 (name,)).fetchall()
            for (slot,) in slots:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            if not conn.execute("SELECT 1 FROM pg_replication_slots WHERE database = %s", (name,)).fetchone():
                break
            time.sleep(0.1)
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def slot_name():
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def resources(local_services, unique_name):
    from aml.local.resources import ensure

    return ensure(unique_name("t"))
