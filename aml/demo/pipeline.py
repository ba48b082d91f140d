"""The whole pipeline on the local stand-ins, stage by stage (see DESIGN.md "Data flow").

generate a bank -> PostgreSQL (history) -> replicator full load -> the daily pipeline for the day
before the live period (Glue job, scenario queries, batch alerts, account profiles) -> live activity
in PostgreSQL -> replicator CDC (S3 raw + Kinesis) -> the rules Lambda through the poller (reading the
profiles) beside the daily pipeline for the last day, whose steps after the Glue job wait for the
stream to be drained -> named queries on DuckDB -> summary.json + report.html scored against the
generator's labels.
"""
from __future__ import annotations

import logging
import multiprocessing
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from aml.demo import activity, alert_sources, daily, kinds, report
from aml.demo.config import DemoConfig
from aml.demo.reset import reset_database, reset_environment
from aml.demo.stages import Stages
from aml.generate import BankConfig, generate, load_postgres
from aml.local import aws, resources, services, staging
from aml.query import catalog, scoring
from aml.query.run import execute
from aml.reference import publish
from aml.replicate.replicator import Replicator
from aml.stream.poller import Poller
from aml.stream.replay import local_handler, quiet_function_output
from aml_contract import reference, rules, schema
from aml_contract.daily_pipeline import REPORTS_PREFIX

log = logging.getLogger(__name__)


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet")) if folder.exists() else 0


def _live_from(cfg: DemoConfig) -> pd.Timestamp:
    return pd.Timestamp(cfg.start_date + timedelta(days=cfg.days - cfg.live_days), tz="UTC")


def _load_source(cfg: DemoConfig, db_url: str) -> tuple:
    """Drop the slot, empty the source database, generate the bank and load its history: (bank,
    live transactions, seconds of each step)."""
    seconds = {}
    started = time.perf_counter()
    Replicator(db_url, None, cfg.slot_name).drop_slot()  # the slot alone: no AWS target is touched
    reset_database(db_url)
    bank = generate(BankConfig(customers=cfg.customers, days=cfg.days, start_date=cfg.start_date, seed=cfg.seed))
    history, live = activity.split(bank, _live_from(cfg))
    seconds["generate"] = round(time.perf_counter() - started, 2)
    log.info("generated the bank: %d historical and %d live transactions", len(history.transactions), len(live))
    started = time.perf_counter()
    load_postgres(history, db_url)
    seconds["load"] = round(time.perf_counter() - started, 2)
    log.info("loaded %d historical transactions into PostgreSQL", len(history.transactions))
    return bank, live, seconds


def run(cfg: DemoConfig) -> dict:
    out = cfg.out_dir
    work = out / "work"
    stages = Stages()
    summary: dict = {"description": (f"{cfg.customers} customers over {cfg.days} days from {cfg.start_date}, "
                                     f"seed {cfg.seed}; the last {cfg.live_days} days arrive through CDC")}

    with stages.stage("services", "starting PostgreSQL and the AWS emulator"):
        services.up()
        db_url = services.Postgres().ensure_database(cfg.database)
    # The source needs only PostgreSQL: the bank is generated and loaded while the CDK app deploys.
    with ThreadPoolExecutor(max_workers=1) as pool:
        source = pool.submit(_load_source, cfg, db_url)
        if cfg.deploy:
            from aml.infra.deploy import deploy_local_once

            skipped = deploy_local_once(cfg.env_name, services.LOCAL_DIR / "cdk.out", lambda: stages.stage(
                "deploy", f"deploying the CDK app into the emulator as environment {cfg.env_name!r} (the bank "
                          "is generated and loaded into PostgreSQL meanwhile)"))
            if skipped:
                summary["deploy_skipped"] = skipped
        with stages.stage("resources", f"resolving the {cfg.env_name!r} environment's AWS resources"):
            res = resources.ensure(cfg.env_name)
            summary["resources_source"] = res.source
        with stages.stage("reset", "emptying buckets, tables, queue and the work folder"):
            reset_environment(res)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        with stages.stage("load_source", "waiting for the bank to be generated and loaded into PostgreSQL"):
            bank, live, summary["source_seconds"] = source.result()
    live_from = _live_from(cfg)
    replicator = Replicator(db_url, res, cfg.slot_name)
    with stages.stage("full_load", "replicating the full load to the S3 raw zone (DMS task 1)"):
        summary["full_load"] = replicator.full_load()
    with stages.stage("reference", "publishing the dated reference data to the curated zone"):
        summary["reference"] = reference.versions(publish.to_directory(work / "reference"))
        staging.upload_dir(work / "reference", res.curated_bucket)
    history_end = live_from.date() - timedelta(days=1)
    with stages.stage("history_pipeline", f"the daily pipeline for {history_end}, the day before the live period "
                                          "(curation, scenario queries, batch alerts, account profiles)"):
        # As a deployment's daily run before today's activity: the rules Lambda then reads the
        # profiles it loaded and the segment statistics the Glue job published.
        summary["history_pipeline"] = daily.run_day(res, work, history_end, cfg.days - cfg.live_days,
                                                    source_database=cfg.database)
        summary["history_pipeline"]["glue"] = daily.glue_summary(work / "curated")
    with stages.stage("live_activity", f"committing {len(live):,} live transactions, corrections and defects"):
        summary["live_activity"] = {"per_day": activity.insert_live(bank, live, db_url),
                                    **activity.corrections(live, db_url, cfg.seed, labels=bank.labels),
                                    "malformed": activity.malformed(live, db_url)}
    cdc_started = datetime.now(UTC)  # the rules read this run's changes, not an earlier run's
    with stages.stage("cdc", "replicating changes to S3 and Kinesis (DMS tasks 1 and 2)"):
        summary["cdc"] = replicator.cdc(until_idle=True)
    last_day = cfg.start_date + timedelta(days=cfg.days - 1)
    # The rules Lambda drains the stream in a process of its own (as a Lambda container: its own
    # environment and interpreter) while the last day's run curates the changes, as on AWS the two
    # run side by side. The run's states after the Glue job wait for the drain (daily.run_day).
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        drained = pool.submit(_drain_stream, res, cdc_started)
        with stages.stage("daily_pipeline", f"running the daily pipeline's state machine for {last_day} (Glue job on "
                                            "local Spark, scenario queries on DuckDB, batch alerts, profiles) while "
                                            "the real-time rules Lambda drains the Kinesis stream"):
            summary["daily_pipeline"] = daily.run_day(res, work, last_day, cfg.days, stream_caught_up=drained.result,
                                                      source_database=cfg.database)
            summary["glue"] = daily.glue_summary(work / "curated")
            summary["segment_statistics"] = summary["glue"].get("segment_statistics")
            staging.land_alerts(res.curated_bucket, work / "curated")
            # the last day's run report, written to the bucket after the mirror's last sync (the report's health)
            staging.download_prefix(res.curated_bucket, f"{REPORTS_PREFIX}/", work / "curated")
        summary["stream"], rules_seconds = drained.result()
    stages.record("rules", rules_seconds)
    summary["stream"]["dms_control_records"] = replicator.control_records_sent  # acknowledged, not dead-lettered
    summary["profiles"] = {run: summary[run].get("profiles") for run in ("history_pipeline", "daily_pipeline")}
    data_dir = work / "curated"
    # the last day's run reconciled the source's live keys with the curated zone (its ReconcileKeys step)
    summary["reconciliation"] = summary["daily_pipeline"]["reconciliation"]
    with stages.stage("queries", "running every named query on the local engine"):
        first, last = cfg.start_date, cfg.start_date + timedelta(days=cfg.days - 1)
        window = {"start_date": first.isoformat(), "end_date": last.isoformat()}
        results = {name: execute(name, window, data_dir=data_dir) for name in catalog.window_queries()}
        hits = {name: result.rows for name, result in results.items()}
        key = resources.pseudonymization_key(res)
        scores = scoring.score_all(bank.labels, key, data_dir, first, last, results)

    every_alert = pd.read_parquet(data_dir / "alerts") if (data_dir / "alerts").exists() else pd.DataFrame(
        columns=["alert_id", "rule_id", "dt", "subject_account_pid", "source"])
    summary["alerts_by_source"] = alert_sources.by_source(every_alert)
    summary["alerts_from_profiles"] = alert_sources.made_possible_by_profiles(every_alert)
    # the rules Lambda's alerts (the batch path's hits are the scenario queries' results below)
    alerts = every_alert[every_alert["source"] == alert_sources.REALTIME]  # landing fills a missing source
    summary.update({
        "rows_per_zone": {
            "source.transactions": len(bank.transactions) + summary["live_activity"]["malformed"]
            - summary["live_activity"]["deleted"],
            "raw.files": sum(1 for _ in (work / "raw").rglob("*.parquet")),
            **{f"curated.{t}": _parquet_rows(data_dir / t) for t in schema.CURATED_TABLES},
            "quarantine.rows": _parquet_rows(work / "quarantine"),
        },
        "alerts_per_rule": {rule: int(Counter(alerts["rule_id"]).get(rule, 0)) for rule in sorted(rules.load().rules)},
        "query_hits": hits,
        "detection": {s.scenario: {"recall": s.recall, "precision": s.precision, **s.as_dict()} for s in scores},
        "flagged_by_kind": _flagged_by_kind(results, alerts, bank.labels, key),
        "skipped_typologies": bank.skipped,
        "stages": stages.seconds,
        "total_seconds": stages.total,
    })
    report.write_summary(summary, out)
    report.write_html(summary, data_dir, first, last, out)
    return summary


def _drain_stream(res: resources.LocalResources, since: datetime) -> tuple[dict, float]:
    """The rules Lambda over the stream's records from `since` until it is drained: the poller's
    counts, with the dead-letter queue's depth, and the seconds it took."""
    started = time.perf_counter()
    poller = Poller(res.stream_name, local_handler(res), on_failure_queue_url=res.dlq_url)
    with quiet_function_output():  # the demo prints its own counts
        stats = poller.drain(since=since)
    stream = {k: v for k, v in vars(stats).items() if isinstance(v, int | float)}
    dlq = aws.client("sqs").get_queue_attributes(QueueUrl=res.dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
    stream["dead_lettered"] = int(dlq)
    return stream, time.perf_counter() - started


def _flagged_by_kind(results: dict, alerts: pd.DataFrame, labels: pd.DataFrame, key: bytes) -> dict:
    """For each scenario query and each Lambda rule: its flagged accounts by label kind (the
    false-positive kinds behind its alerts)."""
    params = rules.load()
    account_kinds = kinds.account_kinds(labels, key)
    batch = {name: set(result.frame["subject_account_pid"].dropna()) for name, result in results.items()
             if name in params.rules and "subject_account_pid" in result.frame}
    stream = {rule: set(group["subject_account_pid"].dropna()) for rule, group in alerts.groupby("rule_id", observed=True)}
    return {"batch": kinds.flagged_by_kind(batch, account_kinds), "stream": kinds.flagged_by_kind(stream, account_kinds)}
