"""`aml evaluate`: an imported, labelled dataset through both detection paths, then the scoring.

dataset (contract tables) -> PostgreSQL `core` -> replicator full load (DMS task 1) -> raw zone ->
Glue job on local Spark -> curated zone (and the segment statistics, uploaded for the Lambda) ->
every named query and the naive baseline on DuckDB; then the transactions as a producer puts them
on Kinesis, in event-time order,
in chunks spanning less than the Lambda's out-of-order tolerance (every shard drained before the
next chunk goes in, so the shards stay in step) -> the rules Lambda through the local poller ->
alerts. Only then are the labels read:
flagged pseudonyms are mapped back to account ids with the environment's key and scored
(`aml.evaluate.scoring`).

The run uses its own environment (`evaluate` by default: buckets, stream and tables created by
name in the emulator) and database (`aml_eval_evaluate`), both emptied first, so it never touches what
`make demo` left behind.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aml import REPO_ROOT
from aml.demo.reset import reset_database, reset_environment
from aml.demo.stages import Stages
from aml.errors import AmlError
from aml.evaluate import baseline, report, scoring
from aml.evaluate.dataset import Dataset
from aml.generate import load_postgres
from aml.local import aws, resources, services, staging
from aml.query import catalog
from aml.query.run import execute
from aml.reference import publish
from aml.replicate.replicator import Replicator
from aml.stream.poller import Poller
from aml.stream.replay import alert_rows, local_handler, put_lines, quiet_function_output, transaction_lines
from aml_contract import glue_job, reference, rules, schema, segments
from aml_contract.pseudonym import pseudonymise

log = logging.getLogger(__name__)
# Named queries that list activity for review rather than detect a typology: shown, never counted.
LISTING_QUERIES = ("high_value_transactions", "pep_high_risk_activity", "customer_risk_summary")


@dataclass(frozen=True)
class EvaluateConfig:
    out_dir: Path = REPO_ROOT / "out" / "evaluate"
    budget: float | None = None  # None: the rule parameters' risk_score.alert_budget
    env_name: str = "evaluate"
    stream: bool = True  # also replay through the rules Lambda
    batch_size: int | None = None  # records per handler invocation; None: the mapping's (500)

    @property
    def slot_name(self) -> str:
        """Replication slot and database name (both allow [a-z0-9_]): one per environment."""
        return "aml_eval_" + "".join(c if c.isalnum() else "_" for c in self.env_name.lower())

    @property
    def database(self) -> str:
        return self.slot_name


def alert_budget(override: float | None) -> tuple[float, str]:
    """(share, where it came from): --budget, else the rule parameters' risk_score.alert_budget."""
    if override is not None:
        return override, "--budget"
    return float(rules.load().risk_score.alert_budget), "rule_parameters.json risk_score.alert_budget"


def active_accounts(transactions: pd.DataFrame, accounts: pd.DataFrame) -> int:
    """Our accounts with at least one booked transaction: what the alert budget is a share of
    (aml_contract.risk), as customer_risk_summary counts them."""
    booked = transactions[transactions["status"] == "booked"] if "status" in transactions else transactions
    ours = set(accounts["account_id"].astype(str))
    sides = set(booked["originator_account_id"].astype(str)) | set(booked["beneficiary_account_id"].astype(str))
    return len(sides & ours)


def _start_glue(work: Path, res: resources.LocalResources) -> subprocess.Popen:
    """The Glue entry script, unchanged, on local Spark (its documented command line)."""
    cmd = [sys.executable, str(REPO_ROOT / "glue_jobs" / "curate_transactions.py"),
           f"--{glue_job.JOB_NAME}", "evaluate", f"--{glue_job.RAW_PATH}", str(work / "raw"),
           f"--{glue_job.CURATED_PATH}", str(work / "curated"), f"--{glue_job.QUARANTINE_PATH}", str(work / "quarantine"),
           f"--{glue_job.PSEUDONYMIZATION_SECRET_ID}", res.pseudonymization_secret_id]
    env = {**os.environ, **aws.local_env(), "PYSPARK_PYTHON": sys.executable}
    return subprocess.Popen(cmd, stdout=open(work / "glue.stdout", "w"), stderr=open(work / "glue.stderr", "w"),  # noqa: SIM115
                            env=env, stdin=subprocess.DEVNULL)


def _finish_glue(proc: subprocess.Popen, work: Path) -> dict:
    code = proc.wait()
    if code != 0:
        tail = "\n".join((work / "glue.stderr").read_text().splitlines()[-15:])
        raise AmlError(f"the Glue job failed (exit {code}):\n{tail}")
    lines = (work / "glue.stdout").read_text().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def in_step_chunks(booked_at: pd.Series, span: pd.Timedelta) -> pd.Series:
    """A chunk number per row (rows sorted by event time): a chunk starts at its first row and
    holds the rows booked less than `span` after it. Empty stretches cost nothing."""
    values = booked_at.to_numpy(dtype="datetime64[ns]")
    chunk, starts, current = [], [], None
    for value in values:
        if current is None or value - current >= span.to_timedelta64():
            current = value
            starts.append(value)
        chunk.append(len(starts) - 1)
    return pd.Series(chunk, index=booked_at.index)


def replay_in_step(transactions: pd.DataFrame, res: resources.LocalResources, batch_size: int | None = None) -> dict:
    """Every transaction through Kinesis and the rules Lambda, in event-time order, the shards
    kept in step: records go in chunks spanning less than the Lambda's out-of-order tolerance,
    and every shard is drained before the next chunk is put. No shard then runs ahead of another
    by more than the tolerance, so no record is late for an account another shard advanced."""
    poller = Poller(res.stream_name, local_handler(res), batch_size=batch_size, on_failure_queue_url=res.dlq_url)
    with quiet_function_output():
        totals: dict[str, int] = defaultdict(int)
        totals["batch_size"] = poller.mapping.batch_size
        ordered = transactions.sort_values(["booked_at", "transaction_id"], kind="stable")
        span = pd.Timedelta(hours=rules.load().out_of_order_tolerance_hours)
        for _, chunk in ordered.groupby(in_step_chunks(ordered["booked_at"], span), sort=True):
            lines = transaction_lines(chunk)
            stats = poller.drain(put_lines(res.stream_name, lines))
            totals["chunks"] += 1
            totals["records_sent"] += len(lines)
            for key, value in vars(stats).items():
                if isinstance(value, int):
                    totals[key] += value
                elif isinstance(value, list):
                    totals[key] += len(value)
    dlq = aws.client("sqs").get_queue_attributes(QueueUrl=res.dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
    totals["dead_lettered"] = int(dlq)
    return dict(totals)


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet")) if folder.exists() else 0


def _accounts(frame: pd.DataFrame, column: str, account_of: dict[str, str]) -> tuple[frozenset[str], int]:
    """Our account ids behind a result's pseudonyms, and how many pseudonyms were not ours."""
    if column not in frame:
        return frozenset(), 0
    pids = set(frame[column].dropna())
    return frozenset(account_of[p] for p in pids if p in account_of), len(pids - set(account_of))


def run(dataset: Dataset, cfg: EvaluateConfig) -> dict:
    out, work = cfg.out_dir, cfg.out_dir / "work"
    stages = Stages()
    budget, budget_source = alert_budget(cfg.budget)
    if not 0 < budget <= 1:
        raise AmlError(f"the alert budget must be a share in (0, 1], got {budget}")
    if dataset.transactions.empty:
        raise AmlError("the dataset holds no transaction after import", json.dumps(dataset.report.get("left_out", {})))
    summary: dict = {"dataset": dataset.report}

    with stages.stage("services", "starting PostgreSQL and the AWS emulator"):
        services.up()
        db_url = services.Postgres().ensure_database(cfg.database)
        res = resources.ensure(cfg.env_name)
    with stages.stage("reset", f"emptying the {cfg.env_name!r} environment and database {cfg.database!r}"):
        reset_environment(res)
        Replicator(db_url, res, cfg.slot_name).drop_slot()
        reset_database(db_url)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        # Labels are kept apart from everything detection reads, and read again only to score.
        dataset.labels.to_parquet(out / "labels.parquet", index=False)
    with stages.stage("load_source", f"loading {len(dataset.transactions):,} transactions into PostgreSQL"):
        load_postgres(dataset, db_url)
    replicator = Replicator(db_url, res, cfg.slot_name)
    with stages.stage("full_load", "replicating the source to the S3 raw zone (DMS task 1, full load)"):
        summary["full_load"] = replicator.full_load()
        replicator.drop_slot()  # no CDC follows: keep no WAL for it
        staging.download_prefix(res.raw_bucket, "", work / "raw")
    summary["reference"] = reference.versions(publish.to_directory(work / "curated"))
    # The Glue job runs first: the segment statistics it publishes (aml_contract.segments) set the
    # amount floors of both paths, so the replay reads them from S3 as the deployed Lambda does. In
    # a backtest they describe the dataset's last statistics_days, before the replay of its whole
    # history: a look-ahead a deployment never has (its statistics trail the stream by a day).
    with stages.stage("glue", "running the Glue curation job on local Spark"):
        summary["glue"] = _finish_glue(_start_glue(work, res), work)
        summary["segment_statistics"] = staging.upload_dir(
            work / "curated" / reference.table_prefix(segments.DATASET), res.curated_bucket,
            reference.table_prefix(segments.DATASET))
    if cfg.stream:
        with stages.stage("rules", "replaying the transactions through the rules Lambda in event-time order"):
            summary["stream"] = replay_in_step(dataset.transactions, res, cfg.batch_size)
    data_dir = work / "curated"
    with stages.stage("queries", "running every named query and the naive baseline on DuckDB"):
        summary["alerts_landed"] = staging.land_alerts(res.curated_bucket, data_dir)
        first = dataset.transactions["booked_at"].min().tz_convert("UTC").date()
        last = dataset.transactions["booked_at"].max().tz_convert("UTC").date()
        window = {"start_date": first.isoformat(), "end_date": last.isoformat()}
        results = {name: execute(name, window, data_dir=data_dir) for name in catalog.window_queries()}
        baseline_results = baseline.run_all(window, data_dir)
        alerts = list(alert_rows(res.alerts_table).values()) if cfg.stream else []

    with stages.stage("score", "scoring against the labels"):
        key = resources.pseudonymization_key(res)
        account_of = {pseudonymise(a, key): a for a in dataset.accounts["account_id"].astype(str)}
        detectors, rows, foreign = [], {}, {}
        for name, result in results.items():
            family = "listing" if name in LISTING_QUERIES else "batch"
            accounts, foreign[name] = _accounts(result.frame, "subject_account_pid", account_of)
            detectors.append(scoring.Detector(name, family, name, accounts))
            rows[name] = result.rows
        for name, result in baseline_results.items():
            accounts, foreign[name] = _accounts(result.frame, "subject_account_pid", account_of)
            detectors.append(scoring.Detector(name, "baseline", name, accounts))
            rows[name] = result.rows
        if cfg.stream:
            frame = pd.DataFrame(alerts, columns=["rule_id", "subject_account_pid"])
            for rule_id in sorted(set(rules.load().rules) | set(frame["rule_id"])):
                mine = frame[frame["rule_id"] == rule_id]
                accounts, foreign[f"stream:{rule_id}"] = _accounts(mine, "subject_account_pid", account_of)
                detectors.append(scoring.Detector(f"stream:{rule_id}", "stream", rule_id, accounts))
                rows[f"stream:{rule_id}"] = len(mine)
        labels = pd.read_parquet(out / "labels.parquet")
        detection = scoring.evaluate(detectors, labels, set(account_of.values()), budget, rules.load(),
                                     active_accounts(dataset.transactions, dataset.accounts))
        for name, figures in detection["detectors"].items():
            figures["rows"] = rows[name]
            if foreign.get(name):
                figures["pseudonyms_not_ours"] = foreign[name]
    summary.update({
        "window": window,
        "budget": {"share": budget, "source": budget_source, "active_accounts": detection["active_accounts"],
                   "accounts": detection["unions"]["ours"]["at_budget"]["budget_accounts"]},
        "zones": {"raw.files": sum(1 for _ in (work / "raw").rglob("*.parquet")),
                  **{f"curated.{t}": _parquet_rows(data_dir / t) for t in schema.CURATED_TABLES},
                  "quarantine.rows": _parquet_rows(work / "quarantine")},
        "detection": detection,
        "stages": stages.seconds,
        "total_seconds": stages.total,
    })
    (out / "evaluation.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "evaluation.md").write_text(report.text(summary, markdown=True) + "\n")
    return summary


def timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    return value, round(time.perf_counter() - started, 2)
