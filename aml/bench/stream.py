"""Real-time rules engine throughput: 1,000 transactions through Kinesis, the local poller and the
handler (moto server as the endpoint), over 100 and over 10,000 distinct accounts, with the AWS
calls the handler makes counted per batch. Target: a 1,000-record batch in under 1 s."""
from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from aml.local import resources, services
from aml.stream import replay
from aml.stream.poller import Poller

RECORDS = 1000
SEED = 7


def _lines(accounts: int) -> list[bytes]:
    rng = random.Random(SEED)
    start = datetime(2025, 6, 2, tzinfo=UTC)
    lines = []
    for i in range(RECORDS):
        amount = round(rng.uniform(20, 4000), 2)
        lines.append(json.dumps({
            "transaction_id": f"bench-{uuid.uuid4().hex[:12]}", "booked_at": (start + timedelta(seconds=30 * i)).isoformat(),
            "originator_account_id": f"ACC{rng.randrange(accounts):05d}",
            "beneficiary_account_id": f"ACC{rng.randrange(accounts):05d}", "amount": amount, "currency": "USD",
            "amount_base": amount, "transaction_type": rng.choice(["wire", "ach", "card"]), "channel": "online",
            "status": "booked", "originator_country": "US", "beneficiary_country": "US"}).encode())
    return lines


def _scenario(accounts: int) -> dict:
    res = resources.ensure(f"bench-{uuid.uuid4().hex[:8]}")
    handler = replay.local_handler(res)
    from lambdas.realtime_rules.handler import runtime

    calls: Counter = Counter()
    for client in runtime().clients.values():
        client.meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    lines = _lines(accounts)
    start_at = replay.put_lines(res.stream_name, lines)
    batch_seconds: list[float] = []

    def timed(event, context):
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            batch_seconds.append(time.perf_counter() - started)

    started = time.perf_counter()
    stats = Poller(res.stream_name, timed, batch_size=RECORDS).drain(start_at)
    elapsed = time.perf_counter() - started
    handler_seconds = sum(batch_seconds)
    return {
        "distinct_accounts": accounts, "records": stats.records_delivered, "batches": stats.batches,
        "redeliveries": stats.redeliveries, "records_per_s_poller_and_handler": round(RECORDS / elapsed),
        "records_per_s_handler": round(RECORDS / handler_seconds),
        "max_batch_seconds": round(max(batch_seconds), 3),
        "aws_calls_per_batch": round(sum(calls.values()) / stats.batches, 1), "aws_calls": dict(calls),
    }


def run() -> dict:
    services.up()
    return {f"accounts_{n}": _scenario(n) for n in (100, 10_000)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
