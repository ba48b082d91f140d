"""Commit-to-alert latency on the local stand-ins (issue 26), and the highest rate one shard keeps up with.

The path measured: a commit in PostgreSQL -> the local replicator (`aml/replicate`, a logical slot
peeked every `IDLE_POLL_SECONDS` when idle) -> Kinesis on moto -> the local poller
(`aml/stream/poller.py`, each shard read every `POLL_SECONDS` once caught up) -> the rules handler,
in process -> the alert stored in DynamoDB on moto. This is NOT DMS nor Lambda: their latencies
depend on things no local run has (a replication instance, the mapping's batching window, Lambda's
own pollers), see the README's "Figures".

Every committed transaction is a payment of a few hundred dollars (never round) from an account of
a small generated bank to an external account in a FATF call-for-action country: high_risk_jurisdiction
raises one alert per transaction (its anchor is the transaction) and no other rule's floor is
reached. The originators are the accounts whose partition key hashes into the stream's first
shard, so one shard carries the whole load.

Timestamps share one clock (every process runs on this machine), in seconds since the epoch:
  commit    the committer's wall time after COMMIT returned (synchronous_commit on for its session,
            as a durable Aurora commit; the local server's default, off, would add the WAL
            writer's flush delay before the slot can decode the change);
  arrival   the record's ApproximateArrivalTimestamp (moto stamps it when PutRecords stores it);
  invoked   when the poller called the handler with the record's batch;
  detected  the stored alert's detected_at (the handler's clock before it stores the alert);
  returned  when the handler returned: the alert is stored (and published) by then.
Parts: replicator = arrival - commit, poller = invoked - arrival, handler = returned - invoked
(rules = detected - invoked, store = returned - detected); they add up to the total, returned - commit.

Rates step up (`AML_BENCH_LATENCY_RATES`, per second; `AML_BENCH_LATENCY_STEP_SECONDS` each) until a
step fails `kept_up`; the pipeline keeps running across steps, each step waits for its alerts first.
"""
from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from aml.demo.reset import empty_table, reset_database, reset_environment
from aml.errors import AmlError
from aml.generate import BankConfig, generate, load_postgres
from aml.infra.deploy import deploy_local_once
from aml.local import aws, resources, services
from aml.replicate import Replicator
from aml.replicate.replicator import IDLE_POLL_SECONDS
from aml.stream.poller import POLL_SECONDS, Poller
from aml.stream.replay import local_handler, quiet_function_output
from aml_contract import names
from lambdas.realtime_rules.alerts import row_from_item

ENV_NAME = "benchlat"
DATABASE = "bench_latency"
SLOT = "bench_latency"
BANK = BankConfig(customers=200, days=3, seed=26)
RATES = (5, 10, 15, 20, 30, 40, 60, 80, 120, 160)  # transactions (= alerts) per second
STEP_SECONDS = 20.0
P99_BOUND_SECONDS = 5.0  # a step whose commit-to-alert p99 exceeds this did not keep up
GROWTH_BOUND_SECONDS = 1.0  # nor one whose latency grew by more than this across the step
MIN_COMMIT_RATIO = 0.95  # the committer itself must reach the rate, else the step says nothing
WARMUP_TRANSACTIONS = 3  # the handler's first batch loads its reference data: not counted
WARMUP_SECONDS = 60.0
COUNTRY = "KP"  # FATF call for action: an alert at any amount
RULE_ID = "high_risk_jurisdiction"
PARTS = ("replicator", "poller", "handler", "rules", "store")

_INSERT = """
INSERT INTO core.transactions (transaction_id, booked_at, originator_account_id, originator_name,
    originator_country, beneficiary_account_id, beneficiary_name, beneficiary_country, amount, currency,
    amount_base, transaction_type, channel, ip_address, device_id, memo, status)
VALUES (%(id)s, now(), %(originator)s, 'bench originator', 'US', %(beneficiary)s, 'bench beneficiary',
    %(country)s, %(amount)s, 'USD', %(amount)s, 'wire', 'online', '10.0.0.1', 'bench-device', 'latency bench',
    'booked')
"""


# ---- figures (pure) -----------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, interpolated linearly between the closest ranks
    (numpy's default); raises ValueError on no values."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(values: Sequence[float]) -> dict:
    """count, p50, p99 and max of durations in seconds (rounded to ms); just the count when empty."""
    if not values:
        return {"count": 0}
    return {"count": len(values), "p50": round(percentile(values, 50), 3),
            "p99": round(percentile(values, 99), 3), "max": round(max(values), 3)}


def lag_growth(samples: Sequence[tuple[float, float]]) -> float:
    """(commit time, latency) pairs of one step -> the median latency of its last quarter minus that
    of its first quarter, in seconds. A pipeline that keeps up holds it near 0; a backlog that keeps
    growing raises it by about (overload / rate) x the step's length."""
    ordered = [latency for _, latency in sorted(samples)]
    quarter = len(ordered) // 4
    if quarter == 0:
        return 0.0
    return statistics.median(ordered[-quarter:]) - statistics.median(ordered[:quarter])


def kept_up(rate: float, committed: int, achieved_rate: float, missing: int, p99: float | None,
            growth: float) -> tuple[bool, list[str]]:
    """Whether one shard kept up with a step, and why not: every alert stored within the step's
    grace, commit-to-alert p99 within P99_BOUND_SECONDS, latency growing by at most
    GROWTH_BOUND_SECONDS across the step, and the committer reaching MIN_COMMIT_RATIO of the rate."""
    reasons = []
    if achieved_rate < MIN_COMMIT_RATIO * rate:
        reasons.append(f"the committer reached {achieved_rate:.1f}/s of {rate}/s")
    if missing:
        reasons.append(f"{missing} of {committed} alerts missing after the grace period")
    if p99 is not None and p99 > P99_BOUND_SECONDS:
        reasons.append(f"p99 {p99:.2f} s > {P99_BOUND_SECONDS} s")
    if growth > GROWTH_BOUND_SECONDS:
        reasons.append(f"latency grew {growth:.2f} s across the step (> {GROWTH_BOUND_SECONDS} s): a backlog")
    return not reasons, reasons


def sustained_rate(steps: Sequence[dict]) -> float | None:
    """The highest rate of the steps run in increasing order before the first one that did not
    keep up (None when the first did not)."""
    best = None
    for step in steps:
        if not step["kept_up"]:
            break
        best = step["rate"]
    return best


def parts(commit: float, trace: dict, detected: float) -> dict[str, float]:
    """One alert's latency split by stand-in (seconds); see the module docstring."""
    return {"total": trace["returned"] - commit, "replicator": trace["arrival"] - commit,
            "poller": trace["invoked"] - trace["arrival"], "handler": trace["returned"] - trace["invoked"],
            "rules": detected - trace["invoked"], "store": trace["returned"] - detected}


# ---- the running pipeline -----------------------------------------------------------------
def one_shard_keys(stream: str, keys: Sequence[str]) -> list[str]:
    """The partition keys among `keys` that Kinesis puts on the stream's first shard (it maps a key's
    MD5 as a 128-bit integer into the shards' hash key ranges)."""
    shards = aws.client("kinesis").list_shards(StreamName=stream)["Shards"]
    first = min(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))["HashKeyRange"]
    low, high = int(first["StartingHashKey"]), int(first["EndingHashKey"])
    return [k for k in keys if low <= int(hashlib.md5(k.encode()).hexdigest(), 16) <= high]  # noqa: S324 (Kinesis' hash)


def _replicate(db_url: str, res: resources.LocalResources, seconds: float) -> None:
    """Child process: the DMS stand-in's CDC, polling the slot until stopped (or `seconds`)."""
    Replicator(db_url, res, SLOT).cdc(until_idle=False, max_seconds=seconds)


def _follow(res: resources.LocalResources, since: datetime, stop, trace_path: str) -> None:
    """Child process: the Lambda stand-in, the poller following the stream until `stop` is set;
    one JSON line per data record delivered (transaction id, arrival, invoked, returned)."""
    handler = local_handler(res)
    with open(trace_path, "a", encoding="utf-8") as out, quiet_function_output():
        def traced(event: dict, context) -> dict:
            invoked = time.time()
            try:
                return handler(event, context)
            finally:
                returned = time.time()
                for record in event["Records"]:
                    body = json.loads(base64.b64decode(record["kinesis"]["data"]))
                    if isinstance(body.get("data"), dict):  # control records carry none
                        out.write(json.dumps({"id": body["data"]["transaction_id"], "invoked": invoked,
                                              "returned": returned,
                                              "arrival": record["kinesis"]["approximateArrivalTimestamp"]}) + "\n")
                out.flush()

        Poller(res.stream_name, traced, on_failure_queue_url=res.dlq_url).follow(stop.is_set, since=since)


@contextmanager
def _pipeline(db_url: str, res: resources.LocalResources, trace_path: Path, seconds: float) -> Iterator[None]:
    """The replicator and the poller, each in its own process (as DMS and Lambda are apart from the
    database), running while the block runs. Both are then stopped, the replicator terminated,
    which is safe by its design (its slot advances only after S3 and Kinesis hold a batch), and the
    poller after at most a few seconds more (a failed step's backlog is not worth waiting for)."""
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    since = datetime.now(UTC)
    replicator = spawn.Process(target=_replicate, args=(db_url, res, seconds), name="bench-replicator")
    poller = spawn.Process(target=_follow, args=(res, since, stop, str(trace_path)), name="bench-poller")
    replicator.start()
    poller.start()
    try:
        yield
    finally:
        stop.set()
        replicator.terminate()
        replicator.join(10)
        poller.join(5)
        if poller.is_alive():
            poller.terminate()
            poller.join(10)


def _traces(path: Path) -> dict[str, dict]:
    traces = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            traces.setdefault(entry["id"], entry)  # the first delivery (a redelivery comes later)
    return traces


def _commit(conn: psycopg.Connection, rate: float, seconds: float, originators: Sequence[str],
            rng: random.Random, tag: str) -> dict[str, float]:
    """Commit rate x seconds transactions on a fixed schedule (one every 1/rate s, never bunched up
    to catch up); transaction id -> wall time after its COMMIT returned."""
    commits = {}
    started = time.monotonic()
    for i in range(max(1, round(rate * seconds))):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        transaction_id = f"lat-{tag}-{i:05d}"
        conn.execute(_INSERT, {"id": transaction_id, "originator": rng.choice(originators),
                               "beneficiary": f"EXT-{COUNTRY}-{rng.randrange(50):02d}", "country": COUNTRY,
                               "amount": f"{rng.randrange(10_000, 99_900) / 100:.2f}"})
        commits[transaction_id] = time.time()
    return commits


def _wait_delivered(trace_path: Path, ids: Sequence[str], grace: float) -> None:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and not set(ids) <= _traces(trace_path).keys():
        time.sleep(0.25)


def _detected(alerts_table: str) -> dict[str, float]:
    """transaction id -> detected_at (epoch seconds) of this bench's stored alerts."""
    found = {}
    for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=alerts_table, ConsistentRead=True):
        for item in page["Items"]:
            row = row_from_item(item)
            if row["rule_id"] == RULE_ID:
                for transaction_id in row["transaction_ids"]:
                    found[transaction_id] = datetime.fromisoformat(row["detected_at"]).timestamp()
    return found


def _step_figures(rate: float, commits: dict[str, float], traces: dict[str, dict], detected: dict[str, float],
                  deadline: float) -> dict:
    """One step's figures: alerts stored by `deadline` (wall time) count, the others are missing."""
    samples = {tid: parts(at, traces[tid], detected[tid]) for tid, at in commits.items()
               if tid in traces and tid in detected and traces[tid]["returned"] <= deadline}
    times = sorted(commits.values())
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else rate
    total = summarise([s["total"] for s in samples.values()])
    growth = lag_growth([(commits[tid], s["total"]) for tid, s in samples.items()])
    ok, reasons = kept_up(rate, len(commits), achieved, len(commits) - len(samples), total.get("p99"), growth)
    return {"rate": rate, "committed": len(commits), "achieved_commit_rate": round(achieved, 1),
            "alerts": len(samples), "alerts_missing": len(commits) - len(samples),
            "commit_to_alert_seconds": total, "latency_growth_seconds": round(growth, 3),
            "parts_seconds": {part: summarise([s[part] for s in samples.values()]) for part in PARTS},
            "kept_up": ok, "why_not": reasons}


def _prepare() -> tuple[str, resources.LocalResources, list[str]]:
    """Services up, the stacks deployed (once), the environment and source emptied, a small bank
    loaded and fully replicated (the slot exists from here on). Returns the source URL, the
    resources and the originator accounts of the first shard."""
    services.up()
    db_url = services.Postgres().ensure_database(DATABASE)
    deploy_local_once(ENV_NAME, services.LOCAL_DIR / "cdk.out")
    res = resources.ensure(ENV_NAME)
    reset_environment(res)
    Replicator(db_url, res, SLOT).drop_slot()
    reset_database(db_url)
    bank = generate(BANK)
    load_postgres(bank, db_url)
    Replicator(db_url, res, SLOT).full_load()
    originators = one_shard_keys(res.stream_name, sorted(bank.accounts["account_id"]))
    if not originators:
        raise AmlError("no account of the bench's bank hashes into the stream's first shard")
    return db_url, res, originators


def run(rates: Sequence[float] | None = None, step_seconds: float | None = None) -> dict:
    """Step the commit rate up until one shard falls behind; the figures of every step run."""
    rates = rates or [float(r) for r in os.environ.get("AML_BENCH_LATENCY_RATES", ",".join(map(str, RATES))).split(",")]
    step_seconds = step_seconds or float(os.environ.get("AML_BENCH_LATENCY_STEP_SECONDS", STEP_SECONDS))
    load_before = round(os.getloadavg()[0], 1)  # the figures move with the machine's other load
    db_url, res, originators = _prepare()
    shards = len(aws.client("kinesis").list_shards(StreamName=res.stream_name)["Shards"])
    rng = random.Random(BANK.seed)
    steps: list[dict] = []
    budget = WARMUP_SECONDS + len(rates) * 2 * step_seconds + 60
    try:
        with tempfile.TemporaryDirectory() as tmp, _pipeline(db_url, res, Path(tmp) / "trace.jsonl", budget), \
                psycopg.connect(db_url, autocommit=True) as conn:
            trace_path = Path(tmp) / "trace.jsonl"
            conn.execute("SET synchronous_commit = on")
            warmup = _commit(conn, 1, WARMUP_TRANSACTIONS, originators, rng, "warmup")
            _wait_delivered(trace_path, list(warmup), WARMUP_SECONDS)
            if not set(warmup) <= _detected(res.alerts_table).keys():
                raise AmlError(f"the warm-up transactions raised no {RULE_ID} alert within {WARMUP_SECONDS:.0f} s",
                               "check the rules handler's output, the poller and the replicator")
            for index, rate in enumerate(rates):
                commits = _commit(conn, rate, step_seconds, originators, rng, f"{index}")
                deadline = max(commits.values()) + step_seconds  # the grace: as long as the step
                _wait_delivered(trace_path, list(commits), step_seconds)
                steps.append(_step_figures(rate, commits, _traces(trace_path), _detected(res.alerts_table), deadline))
                # Each step starts with an empty alerts table: moto answers an index Query (one per
                # new alert, AlertSink) by scanning every item, so a fuller table alone would slow
                # the later steps; DynamoDB reads only the matching items.
                empty_table(res.alerts_table, names.ALERTS_TABLE_KEYS)
                print(json.dumps({k: steps[-1][k] for k in ("rate", "kept_up", "commit_to_alert_seconds")}),
                      file=sys.stderr, flush=True)
                if not steps[-1]["kept_up"]:
                    break
    finally:
        Replicator(db_url, res, SLOT).drop_slot()
    kept = [s for s in steps if s["kept_up"]]
    return {
        "load_average_1m": {"start": load_before, "end": round(os.getloadavg()[0], 1)},
        "measures": "local stand-ins (replicator slot polling, local poller, moto), not DMS or Lambda",
        "shards": shards, "shard_used": 1, "step_seconds": step_seconds,
        "replicator_idle_poll_seconds": IDLE_POLL_SECONDS, "poller_poll_seconds": POLL_SECONDS,
        "bounds": {"p99_seconds": P99_BOUND_SECONDS, "latency_growth_seconds": GROWTH_BOUND_SECONDS,
                   "min_commit_ratio": MIN_COMMIT_RATIO},
        "sustained_rate_per_s": sustained_rate(steps),
        "at_sustained_rate": kept[-1] if kept else None,
        "steps": steps,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
