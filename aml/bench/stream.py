"""Real-time rules engine throughput on a realistic stream: the last two days of a generated bank
(about one transaction per account per day, few counterparties, card purchases, cash), as plain
JSON rows in booked_at order, through Kinesis, the local poller and the handler (moto server as
the endpoint), at several batch sizes, each into a fresh environment (empty rule state). The AWS
calls the handler makes are counted per batch. Target: a 1,000-record batch in under 1 s."""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pandas as pd

from aml.generate import BankConfig, generate
from aml.local import resources, services
from aml.stream import replay
from aml.stream.poller import DEFAULT_BATCH_SIZE, Poller
from aml_contract import schema

BANK = BankConfig(customers=1500, days=30, seed=7)
LIVE_DAYS = 2
BATCH_SIZES = (100, DEFAULT_BATCH_SIZE, 1000)


def live_lines(bank_config: BankConfig = BANK, days: int = LIVE_DAYS) -> tuple[list[bytes], int]:
    """The bank's last `days` of transactions as JSON rows, and the distinct accounts they touch."""
    tx = generate(bank_config).transactions
    live = tx[tx.booked_at > tx.booked_at.max() - pd.Timedelta(days=days)]
    accounts = (set(live.originator_account_id) | set(live.beneficiary_account_id)) - {schema.CASH_ACCOUNT_ID}
    return replay.transaction_lines(live), len(accounts)


def _scenario(lines: list[bytes], batch_size: int) -> dict:
    res = resources.ensure(f"bench-{uuid.uuid4().hex[:8]}")
    handler = replay.local_handler(res)
    from lambdas.realtime_rules.handler import runtime

    calls: Counter = Counter()
    for client in runtime().clients.values():
        client.meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    start_at = replay.put_lines(res.stream_name, lines)
    batch_seconds: list[float] = []

    def timed(event, context):
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            batch_seconds.append(time.perf_counter() - started)

    started = time.perf_counter()
    stats = Poller(res.stream_name, timed, batch_size=batch_size).drain(start_at)
    elapsed = time.perf_counter() - started
    full = [s for s in batch_seconds[:-1]] or batch_seconds  # the last batch of a shard may be short
    return {
        "batch_size": batch_size, "records": stats.records_delivered, "batches": stats.batches,
        "redeliveries": stats.redeliveries, "seconds": round(elapsed, 1),
        "records_per_s_poller_and_handler": round(len(lines) / elapsed),
        "records_per_s_handler": round(len(lines) / sum(batch_seconds)),
        "mean_batch_seconds": round(sum(full) / len(full), 3), "max_batch_seconds": round(max(batch_seconds), 3),
        "aws_calls_per_batch": round(sum(calls.values()) / stats.batches, 1), "aws_calls": dict(calls),
    }


def run() -> dict:
    services.up()
    lines, accounts = live_lines()
    result = {"stream": {"bank": f"{BANK.customers} customers, {BANK.days} days, seed {BANK.seed}",
                         "live_days": LIVE_DAYS, "records": len(lines), "distinct_accounts": accounts}}
    for size in BATCH_SIZES:
        result[f"batch_{size}"] = _scenario(lines, size)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
