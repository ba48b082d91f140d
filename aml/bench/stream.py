"""Real-time rules engine throughput (issue 5): 1,000-record batches through Kinesis, the local
poller and the handler, with the moto server as the AWS endpoint, the AWS calls of each batch
counted by operation.

Two populations, each in a fresh environment (empty rule state): 100 accounts (every account is in
every batch, about 10 records each: the rules fire often) and 10,000 accounts (a batch touches
about 1,600 of them, most once). The first batch of a shard creates every account's state; the
later ones update stored state, the steady state of a running stream (a warm container keeps the
state it wrote). Every account has a profile in the profiles table (aml_contract.profiles), as the
daily pipeline leaves it: the batches read them too (profile_store.py). Then one more batch per shard goes to a new container, which must read the
stored state of every account it touches. Records are put BATCHES_PER_SHARD x 1,000 per shard,
so every batch but the last of a shard is full.
Target: a 1,000-record batch in under 1 s (one invocation keeps up with a shard's 1,000 records/s);
AWS calls per batch growing with distinct accounts / 100, not with records.

State size (issue 20, the late-record horizon): the stored rule-state items of each population
(DynamoDB's item size: attribute names plus values), and the item of a busy account, one holding
20 or 100 transactions a day for as long as the summary keeps them, under the parameter file's
horizon and under the former 24 h one (`BUSY_ACCOUNT_EVENTS_PER_DAY`).
"""
from __future__ import annotations

import base64
import json
import random
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from aml.local import aws, resources, services
from aml.stream import replay
from aml.stream.poller import Poller
from aml_contract import rules as contract_rules
from aml_contract import schema

BATCH_SIZE = 1000
BATCHES_PER_SHARD = 5
POPULATIONS = (100, 10_000)
SEED = 7
BUSY_ACCOUNT_EVENTS_PER_DAY = (20, 100)
FORMER_HORIZON_HOURS = 24  # out_of_order_tolerance_hours before issue 20
CASH_TYPES = {"cash_deposit": "in", "cash_withdrawal": "out"}


def synthetic_lines(accounts: int, records: int, seed: int = SEED) -> list[bytes]:
    """Valid plain transaction rows over `accounts` accounts, booked one millisecond apart (a shard
    at its write limit), a tenth of them cash: JSON lines in booked_at order."""
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    lines = []
    for i in range(records):
        kind = rng.choice(schema.TRANSACTION_TYPES)
        account, other = f"BENCH{rng.randrange(accounts):06d}", f"BENCH{rng.randrange(accounts):06d}"
        originator, beneficiary = {"in": (schema.CASH_ACCOUNT_ID, account),
                                   "out": (account, schema.CASH_ACCOUNT_ID)}.get(CASH_TYPES.get(kind), (account, other))
        amount = f"{min(rng.lognormvariate(6, 1.5), 50_000):.2f}"
        lines.append(json.dumps({
            "transaction_id": f"bench-{seed}-{i}", "booked_at": (start + timedelta(milliseconds=i)).isoformat(),
            "originator_account_id": originator, "beneficiary_account_id": beneficiary,
            "originator_country": "US", "beneficiary_country": rng.choice(("US", "US", "GB", "DE")),
            "amount": amount, "currency": "USD", "amount_base": amount, "transaction_type": kind,
            "channel": "branch" if kind in CASH_TYPES else "online", "status": "booked",
            "originator_name": f"depositor {rng.randrange(accounts)}" if kind == "cash_deposit" else None,
        }).encode())
    return lines


def _accounts(event: dict) -> int:
    touched = set()
    for record in event["Records"]:
        row = json.loads(base64.b64decode(record["kinesis"]["data"]))
        touched.update((row["originator_account_id"], row["beneficiary_account_id"]))
    return len(touched - {schema.CASH_ACCOUNT_ID})


def _drain(res: resources.LocalResources, lines: list[bytes]) -> tuple[list[dict], int]:
    """Put the lines, drain them through the handler; each batch's size, seconds, calls, accounts."""
    handler = replay.local_handler(res)
    from lambdas.realtime_rules.handler import runtime

    calls: Counter = Counter()

    def count(model, params, **_):  # before-parameter-build: `params` are the API call's own
        profiles = model.name == "BatchGetItem" and res.profiles_table in params.get("RequestItems", {})
        calls.update([f"{model.name}(profiles)" if profiles else model.name])

    for client in runtime().clients.values():
        client.meta.events.register("before-parameter-build", count)
    start_at = replay.put_lines(res.stream_name, lines)
    batches: list[dict] = []

    def timed(event, context):
        calls.clear()
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            seconds = time.perf_counter() - started
            batches.append({"records": len(event["Records"]), "seconds": seconds, "calls": Counter(calls),
                            "accounts": _accounts(event)})

    stats = Poller(res.stream_name, timed, batch_size=BATCH_SIZE).drain(start_at)
    return [b for b in batches if b["records"] == BATCH_SIZE], stats.redeliveries


def item_bytes(item: dict) -> int:
    """A DynamoDB item's size as DynamoDB counts it (names and values in UTF-8; a number at most
    21 bytes, taken here as its text, an upper bound)."""
    size = 0
    for name, value in item.items():
        (kind, raw), = value.items()
        size += len(name.encode()) + (1 if kind == "BOOL" else len(str(raw).encode()))
    return size


def _stored_state_bytes(table: str) -> dict:
    sizes = [item_bytes(item) for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=table)
             for item in page["Items"]]
    return {"items": len(sizes), "mean": round(statistics.mean(sizes)), "max": max(sizes)} if sizes else {}


def busy_account_item_bytes(per_day: int, horizon_hours: int | None = None) -> int:
    """The stored item of an account with `per_day` transactions a day (a tenth of them round,
    a cash deposit from another depositor each), after 90 days: what the summary keeps of it."""
    from lambdas.realtime_rules import state_store
    from lambdas.realtime_rules.window import AccountState, Event, Horizons

    params = contract_rules.load()
    if horizon_hours is not None:
        params = contract_rules.parse({**json.loads(contract_rules.PARAMETERS_FILE.read_text()),
                                       "out_of_order_tolerance_hours": horizon_hours})
    horizons = Horizons.from_params(params)
    rng = random.Random(SEED)
    state = AccountState("BENCH000001")
    start = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    for i in range(90 * per_day):
        ts = start + i * 86_400 // per_day
        kind = rng.choice(schema.TRANSACTION_TYPES)
        state.add(Event(f"bench-{SEED}-{i:08d}", ts, rng.randrange(100, 5_000_000), rng.choice(("in", "out")),
                        f"BENCH{rng.randrange(10_000):06d}", kind, i % 10 == 0), horizons)
    return item_bytes(state_store.to_item(state, horizons, start + 90 * 86_400))


def state_size() -> dict:
    horizon = contract_rules.load().out_of_order_tolerance_hours
    return {f"busy_account_{n}_a_day_item_bytes": {
        f"horizon_{horizon}_h": busy_account_item_bytes(n),
        f"former_horizon_{FORMER_HORIZON_HOURS}_h": busy_account_item_bytes(n, FORMER_HORIZON_HOURS)}
        for n in BUSY_ACCOUNT_EVENTS_PER_DAY} | {"dynamodb_item_limit_bytes": 400 * 1024}


def seed_profiles(res: resources.LocalResources, accounts: int) -> int:
    """A profile as of yesterday for every account of the population (aml_contract.profiles), so
    the Lambda reads real items: what a deployment's daily pipeline leaves in the table."""
    from aml_contract.profiles import Profile
    from aml_contract.pseudonym import pseudonymise
    from lambdas.daily_pipeline.profiles import write_items

    key, params = resources.pseudonymization_key(res), contract_rules.load().profiles
    as_of = (datetime.now(UTC) - timedelta(days=1)).date()
    items = [Profile(pseudonymise(f"BENCH{i:06d}", key), as_of, "bench", as_of - timedelta(days=90), 60, 40, 120,
                     12_000_000, 1.5, 900.0, 120, 1000.0, 800.0, 4_000_000, int(time.time()) - 86_400,
                     tuple(f"{n:064x}" for n in range(8)), ("US", "GB", "DE"), "US", "low", "individual",
                     False).to_item(params) for i in range(accounts)]
    if write_items(aws.client("dynamodb"), res.profiles_table, items):
        raise RuntimeError("the emulator left profiles unwritten")
    return len(items)


def _population(accounts: int) -> dict:
    res = resources.ensure(f"bench-{uuid.uuid4().hex[:8]}")
    profiles = seed_profiles(res, accounts)
    shards = len(aws.client("kinesis").list_shards(StreamName=res.stream_name)["Shards"])
    lines = synthetic_lines(accounts, BATCH_SIZE * BATCHES_PER_SHARD * shards)
    full, redeliveries = _drain(res, lines)
    first, steady = full[:shards], full[shards:] or full  # each shard's first batch meets empty state
    # A new container (no state in memory) over the stored state: every account is read.
    from lambdas.realtime_rules import handler

    handler.forget_runtime()
    cold, _ = _drain(res, synthetic_lines(accounts, BATCH_SIZE * shards, seed=SEED + 1))
    calls_per_batch = statistics.mean(sum(b["calls"].values()) for b in steady)
    accounts_per_batch = statistics.mean(b["accounts"] for b in steady)
    return {
        "accounts": accounts, "records": len(lines), "shards": shards, "full_batches": len(full),
        "redeliveries": redeliveries, "alerts_raised": len(replay.alert_rows(res.alerts_table)),
        "first_batch_seconds": round(statistics.mean(b["seconds"] for b in first), 3),
        "batch_seconds_mean": round(statistics.mean(b["seconds"] for b in steady), 3),
        "batch_seconds_max": round(max(b["seconds"] for b in steady), 3),
        "new_container_batch_seconds": round(cold[0]["seconds"], 3),
        "new_container_batch_calls": sum(cold[0]["calls"].values()),
        "profiles_stored": profiles,
        # BatchGetItem calls to the profiles table per 1,000 distinct accounts a batch touches:
        # a new container reads every account's profile; a warm one reads none for 15 minutes
        "new_container_profile_calls_per_1000_accounts": round(
            1000 * cold[0]["calls"]["BatchGetItem(profiles)"] / cold[0]["accounts"], 1),
        "warm_profile_calls_per_batch": round(statistics.mean(b["calls"]["BatchGetItem(profiles)"] for b in steady), 1),
        "state_item_bytes": _stored_state_bytes(res.rule_state_table),
        "records_per_s_handler": round(BATCH_SIZE * len(steady) / sum(b["seconds"] for b in steady)),
        "distinct_accounts_per_batch": round(accounts_per_batch),
        "aws_calls_per_batch": round(calls_per_batch, 1),
        "aws_calls_per_100_accounts": round(100 * calls_per_batch / accounts_per_batch, 2),
        "aws_calls_by_operation": {op: round(n / len(steady), 1) for op, n in
                                   sorted(sum((b["calls"] for b in steady), Counter()).items())},
    }


def run() -> dict:
    services.up()
    result = {f"{n}_accounts": _population(n) for n in POPULATIONS}
    result["state_size"] = state_size()
    result["target"] = {"batch_seconds": 1.0, "batch_size": BATCH_SIZE}
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
