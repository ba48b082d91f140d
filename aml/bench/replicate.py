"""Replicator throughput: full-load rows/s and CDC changes/s, on a throwaway database of the
local server (dropped afterwards, with its slot). Sizes: AML_BENCH_REPLICATE_ROWS (full load,
default 200,000 transactions, the demo's 30-day bank) and AML_BENCH_REPLICATE_CHANGES (CDC)."""
from __future__ import annotations

import os
import time
import uuid

import psycopg

from aml.local import services
from aml.local.resources import ensure
from aml.replicate import Replicator
from aml_contract.schema import postgres_ddl

# Server-side rows shaped like the generator's (ids, amounts, timestamps, a memo).
_ROWS = """
INSERT INTO core.transactions (transaction_id, booked_at, originator_account_id, originator_name,
    originator_country, beneficiary_account_id, beneficiary_name, beneficiary_country, amount, currency,
    amount_base, transaction_type, channel, ip_address, device_id, memo, status)
SELECT 'bench-' || %(tag)s || '-' || g, timestamptz '2024-05-01' + g * interval '13 seconds',
    'ACC' || mod(g, 5000), 'Name ' || mod(g, 5000), 'US', 'ACC' || mod(g * 7, 5000), 'Other ' || g, 'GB',
    round((random() * 9000 + 1)::numeric, 2), 'USD', round((random() * 9000 + 1)::numeric, 2), 'wire',
    'online', '10.0.' || mod(g, 250) || '.1', 'dev' || mod(g, 900), 'memo ' || g, 'booked'
FROM generate_series(1, %(n)s) AS g
"""


def run() -> dict:
    rows = int(os.environ.get("AML_BENCH_REPLICATE_ROWS", "200000"))
    changes = int(os.environ.get("AML_BENCH_REPLICATE_CHANGES", "20000"))
    services.up()
    server = services.Postgres()
    database = f"bench_repl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = server.url(database)
    rep = Replicator(url, ensure("bench"), slot_name=database)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(postgres_ddl())
            conn.execute(_ROWS, {"tag": "load", "n": rows})
        started = time.perf_counter()
        loaded = rep.full_load()
        load_seconds = time.perf_counter() - started

        # CDC: small transactions of 10 changes (8 inserts, 2 updates), like live activity.
        with psycopg.connect(url, autocommit=True) as conn:
            for batch in range(changes // 10):
                with conn.transaction():
                    conn.execute(_ROWS, {"tag": f"cdc{batch}", "n": 8})
                    conn.execute("UPDATE core.transactions SET status = 'reversed' WHERE transaction_id IN "
                                 "(%s, %s)", (f"bench-load-{batch * 2 + 1}", f"bench-load-{batch * 2 + 2}"))
        started = time.perf_counter()
        counts = rep.cdc(until_idle=True)
        cdc_seconds = time.perf_counter() - started
        replicated = sum(sum(ops.values()) for ops in counts.values())
    finally:
        rep.drop_slot()
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    return {
        "full_load_rows": sum(loaded.values()),
        "full_load_seconds": round(load_seconds, 2),
        "full_load_rows_per_s": round(sum(loaded.values()) / load_seconds),
        "cdc_changes": replicated,
        "cdc_seconds": round(cdc_seconds, 2),
        "cdc_changes_per_s": round(replicated / cdc_seconds),
    }
