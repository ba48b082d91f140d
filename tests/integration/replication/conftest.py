"""A uniquely named source database (contract DDL) on the shared server, a unique slot, and
unique raw bucket and stream; the database is dropped afterwards with every slot of it, since a
leftover logical slot holds WAL for everyone on the server."""
from __future__ import annotations

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
    server.drop_database(name)  # with its slots


@pytest.fixture
def slot_name():
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def resources(local_services, unique_name):
    from aml.local.resources import ensure

    return ensure(unique_name("t"))
