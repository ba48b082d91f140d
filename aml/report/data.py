"""What a report reads, on either engine: the report's own queries (queries/*.sql, in the named
queries' format, run by the query layer's engines but not registered in Athena) and
customer_risk_summary over the period, and the JSON the pipeline leaves beside the tables in the
curated zone (a folder locally, the curated bucket on AWS): the curation runs' manifests
(`_job_state/runs/*.json`, glue_jobs) and the daily pipeline's run reports
(`reports/run_date=<date>/run_report.json`, lambdas/daily_pipeline/report.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from aml import aws_account
from aml.errors import AmlError
from aml.query import catalog
from aml.query.athena import DEFAULT_ENV
from aml.query.run import engine_for
from aml_contract import named_queries, names
from aml_contract.daily_pipeline import REPORTS_PREFIX
from aml_contract.glue_job import STATE_PREFIX

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
RUNS_PREFIX = f"{STATE_PREFIX}/runs"
RISK_QUERY = "customer_risk_summary"


def parse_period(start: str, end: str) -> tuple[date, date]:
    """--from and --to as dates, the first not after the second."""
    days = []
    for flag, text in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise AmlError(f"{flag} {text!r} is not a date", "use the form YYYY-MM-DD") from None
    if days[0] > days[1]:
        raise AmlError(f"--from {days[0]} is after --to {days[1]}", "swap them")
    return days[0], days[1]


def report_query(name: str) -> named_queries.NamedQuery:
    return named_queries.parse(QUERIES_DIR / f"{name}.sql")


class LocalFiles:
    """JSON documents under a local curated zone."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def documents(self, prefix: str, suffix: str) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.root / prefix).glob(f"**/*{suffix}"))]


class S3Files:
    """JSON documents under the curated bucket."""

    def __init__(self, bucket: str, s3):
        self.bucket, self.s3 = bucket, s3

    def documents(self, prefix: str, suffix: str) -> list[dict]:
        keys = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{prefix}/") for o in page.get("Contents", []) if o["Key"].endswith(suffix)]
        return [json.loads(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()) for k in sorted(keys)]


def deployed_curated_files(env_name: str | None = None) -> S3Files:
    """The curated bucket of the deployment of `env_name` (default dev) on the caller's account and
    region, as the Athena engine finds its workgroup (aml.aws_account), never the local emulator's."""
    session = aws_account.session("--engine athena")
    account = session.client("sts").get_caller_identity()["Account"]
    return S3Files(names.bucket_name(env_name or DEFAULT_ENV, "curated_bucket", account, session.region_name),
                   session.client("s3"))


def curation_runs(files, start: date, end: date) -> list[dict]:
    """The curation runs' manifests that wrote a day of [start, end], oldest first."""
    def touches(run: dict) -> bool:
        return any(start.isoformat() <= day <= end.isoformat()
                   for t in run.get("tables", {}).values() for day in t.get("partitions_touched") or [])
    return sorted((r for r in files.documents(RUNS_PREFIX, ".json") if touches(r)), key=lambda r: r.get("started_at", ""))


def run_reports(files, start: date, end: date) -> list[dict]:
    """The daily pipeline's run reports of the days in [start, end], by run date."""
    found = [r for r in files.documents(REPORTS_PREFIX, ".json")
             if start.isoformat() <= r.get("run_date", "") <= end.isoformat()]
    return sorted(found, key=lambda r: r["run_date"])


@dataclass(frozen=True)
class ZoneData:
    start: date
    end: date
    engine: str
    alerts_per_day: pd.DataFrame  # report_alerts_per_day's columns
    risk: pd.DataFrame  # customer_risk_summary's columns
    zone_rows: dict[str, int]
    curation_runs: list[dict]
    run_reports: list[dict]


def gather(start: date, end: date, engine: str = "local", data_dir: str | Path | None = None,
           workgroup: str | None = None, env_name: str | None = None) -> ZoneData:
    """Everything the standard sections need, for the days [start, end]."""
    window = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    runner = engine_for(engine, data_dir, workgroup, env_name=env_name)

    def run(query: named_queries.NamedQuery) -> pd.DataFrame:  # one engine for every query of the report
        return runner.run(query, catalog.bind(query, window)).frame

    files = deployed_curated_files(env_name) if engine == "athena" else LocalFiles(runner.data_dir)
    zone = run(report_query("report_zone_rows"))
    return ZoneData(start, end, engine, run(report_query("report_alerts_per_day")), run(catalog.get(RISK_QUERY)),
                    {str(t): int(n) for t, n in zip(zone["table_name"], zone["row_count"], strict=True)},
                    curation_runs(files, start, end), run_reports(files, start, end))


def load_scores(path: str | Path) -> dict:
    """Labelled figures per scenario ({scenario: {recall, precision, ...}}) from a JSON file: the
    demo's summary.json (its `detection`) or that mapping itself."""
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise AmlError(f"cannot read scores from {path}: {err}", "pass a JSON file such as out/demo/summary.json") \
            from None
    found = found.get("detection", found) if isinstance(found, dict) else None
    if not isinstance(found, dict) or not all(isinstance(v, dict) and "recall" in v for v in found.values()):
        raise AmlError(f"{path} holds no scores", "expected {scenario: {recall, precision}} or a summary.json "
                       "with `detection`")
    return found
