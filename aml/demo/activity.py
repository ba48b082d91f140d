"""Live core-banking activity for the demo: what arrives after the full load, through CDC.

New transactions are committed day by day (one database transaction per day, like a stream of
business days), then some are reversed (updates), a few deleted, and a few malformed rows are
written (as an upstream defect would) so the quarantine and the dead-letter queue have work.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import psycopg

from aml.generate import Bank, load_postgres
from aml_contract import schema

MALFORMED = (  # column -> bad value, and what the pipeline must say about it
    ("amount", "-250.00"),
    ("currency", "XXX"),
)


def split(bank: Bank, live_from: pd.Timestamp) -> tuple[Bank, pd.DataFrame]:
    """The bank as of the full load (history) and the transactions booked from `live_from` on."""
    booked = bank.transactions["booked_at"]
    live = bank.transactions[booked >= live_from]
    return replace(bank, transactions=bank.transactions[booked < live_from]), live


def insert_live(bank: Bank, live: pd.DataFrame, db_url: str) -> dict[str, int]:
    """Commit the live transactions one business day at a time; returns rows per day."""
    empty = replace(bank, customers=bank.customers.iloc[0:0], accounts=bank.accounts.iloc[0:0])
    per_day = {}
    for day, rows in live.groupby(live["booked_at"].dt.strftime("%Y-%m-%d"), sort=True):
        load_postgres(replace(empty, transactions=rows), db_url)
        per_day[day] = len(rows)
    return per_day


def corrections(live: pd.DataFrame, db_url: str, seed: int, reversals: int = 40, deletes: int = 5,
                labels: pd.DataFrame | None = None) -> dict[str, int]:
    """Reverse some live transactions (updates) and delete a few; returns counts. Transactions a
    label names are left alone: a reversed hop breaks the typology its label claims, and the
    demo's detection figures would score the correction rather than the scenario."""
    rng = np.random.default_rng(seed)
    labelled = set() if labels is None else {t for ids in labels["transaction_ids"] for t in ids}
    ids = live.loc[~live["transaction_id"].isin(labelled), "transaction_id"].to_numpy()
    picked = rng.choice(ids, size=min(len(ids), reversals + deletes), replace=False)
    reverse, delete = list(picked[:reversals]), list(picked[reversals:])
    with psycopg.connect(db_url, autocommit=False) as conn:
        conn.execute(f"UPDATE {schema.SOURCE_SCHEMA}.transactions SET status = 'reversed', updated_at = now() "
                     "WHERE transaction_id = ANY(%s)", (reverse,))
        conn.execute(f"DELETE FROM {schema.SOURCE_SCHEMA}.transactions WHERE transaction_id = ANY(%s)", (delete,))
    return {"reversed": len(reverse), "deleted": len(delete)}


def malformed(live: pd.DataFrame, db_url: str) -> int:
    """Copies of real live rows with one defect each, under new ids; returns rows written."""
    template = live.iloc[: len(MALFORMED)]
    with psycopg.connect(db_url, autocommit=False) as conn:
        for i, ((column, value), row) in enumerate(zip(MALFORMED, template.itertuples(index=False), strict=True)):
            values = row._asdict()
            values["transaction_id"] = f"BAD{i:05d}"
            values[column] = value
            names = ", ".join(values)
            marks = ", ".join(["%s"] * len(values))
            conn.execute(f"INSERT INTO {schema.SOURCE_SCHEMA}.transactions ({names}) VALUES ({marks})",
                         [None if pd.isna(v) else v for v in values.values()])
    return len(template)
