"""The JSON documents the pipeline leaves beside the tables in the curated zone (a folder locally,
the curated bucket on AWS): the curation runs' manifests (`_job_state/runs/*.json`, glue_jobs) and
the daily pipeline's run reports (`reports/run_date=<date>/run_report.json`,
lambdas/daily_pipeline/report.py), for the days of a report's period."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from aml_contract.daily_pipeline import REPORTS_PREFIX
from aml_contract.glue_job import RUNS_PREFIX

PREFIXES = (RUNS_PREFIX, REPORTS_PREFIX)  # what a report lists and reads (the Report step's grants)


class LocalFiles:
    """JSON documents under a local curated zone."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def documents(self, prefix: str, suffix: str) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.root / prefix).glob(f"**/*{suffix}"))]


class S3Files:
    """JSON documents under the curated bucket, through the boto3 S3 client given."""

    def __init__(self, bucket: str, s3):
        self.bucket, self.s3 = bucket, s3

    def documents(self, prefix: str, suffix: str) -> list[dict]:
        keys = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{prefix}/") for o in page.get("Contents", []) if o["Key"].endswith(suffix)]
        return [json.loads(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()) for k in sorted(keys)]


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
