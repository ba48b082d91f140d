"""Generator throughput: about 1,000,000 transactions (target: under 60 s on 2 cores)."""
from __future__ import annotations

import time

from aml.generate import BankConfig, generate

CUSTOMERS, DAYS, SEED = 10_000, 100, 2026
TARGET_ROWS = 1_000_000


def run() -> dict:
    started = time.perf_counter()
    bank = generate(BankConfig(customers=CUSTOMERS, days=DAYS, seed=SEED))
    seconds = time.perf_counter() - started
    rows = len(bank.transactions)
    if not 0.9 * TARGET_ROWS <= rows <= 1.3 * TARGET_ROWS:
        raise RuntimeError(f"expected about {TARGET_ROWS:,} transactions, generated {rows:,}")
    figures = {"customers": CUSTOMERS, "days": DAYS, "transactions": rows, "labels": len(bank.labels),
               "seconds": round(seconds, 2), "transactions_per_second": round(rows / seconds)}
    print(f"generated {rows:,} transactions in {seconds:.1f} s ({rows / seconds:,.0f}/s)")
    return figures
