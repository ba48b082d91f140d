"""`glue:startJobRun.sync` on local Spark, and the local mirror of the curated zone it and the
Athena binding share.

Spark here cannot read s3:// (aml/local/staging.py), so the binding stages the raw bucket and the
curated bucket to disk, runs the job script (aml/local/glue.py) and publishes the curated zone
back: new and changed files uploaded, files the job removed deleted, as the job does on S3. The
`alerts/` prefix is Firehose's (JSON records, turned into the curated Parquet layout locally by
staging.land_alerts): never published by the job.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path

from aml.local import aws, glue, staging
from aml.pipeline.bindings import Binding, TaskError
from aml_contract import names

log = logging.getLogger(__name__)
GLUE_VERSION = "5.1"  # stacks/etl.py


class CuratedZone:
    """work_dir/curated mirrors the curated bucket (work_dir/raw the raw one)."""

    def __init__(self, res, work_dir: Path):
        self.res = res
        self.work = work_dir
        self.root = work_dir / "curated"
        self._fresh = False

    def _prefixes(self) -> list[str]:
        s3 = aws.client("s3")
        listing = s3.list_objects_v2(Bucket=self.res.curated_bucket, Delimiter="/")
        tops = [p["Prefix"] for p in listing.get("CommonPrefixes", [])]
        return [p for p in tops if p != f"{names.ALERTS_S3_PREFIX}/"]

    def sync(self) -> Path:
        """Bring the mirror up to date with the bucket (alerts landed as Parquet); returns it."""
        self.root.mkdir(parents=True, exist_ok=True)
        for prefix in self._prefixes():
            staging.download_prefix(self.res.curated_bucket, prefix, self.root)
        staging.land_alerts(self.res.curated_bucket, self.root)
        self._fresh = True
        return self.root

    def ready(self) -> Path:
        """The mirror, synchronized once until the next publish."""
        return self.root if self._fresh else self.sync()

    def publish(self, written_since_ns: int = 0) -> int:
        """Make the bucket hold what the mirror holds (alerts/ aside): upload each file the bucket
        lacks, holds at another size, or that was written at or after `written_since_ns`
        (time.time_ns() before the job ran: a file the job rewrote in place may keep its size),
        and delete the keys the mirror no longer holds. Returns the files uploaded."""
        s3, bucket = aws.client("s3"), self.res.curated_bucket
        stored: dict[str, int] = {}
        for prefix in self._prefixes():
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                stored.update((o["Key"], o["Size"]) for o in page.get("Contents", []))
        alerts = self.root / names.ALERTS_S3_PREFIX
        sent = 0
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and alerts not in p.parents
                           and not _hadoop_checksum(p)):
            key, status = path.relative_to(self.root).as_posix(), path.stat()
            if stored.get(key) != status.st_size or status.st_mtime_ns >= written_since_ns:
                s3.upload_file(str(path), bucket, key)
                sent += 1
        stale = [{"Key": key} for key in stored if not (self.root / key).exists() or _hadoop_checksum(self.root / key)]
        for i in range(0, len(stale), 1000):  # DeleteObjects takes at most 1,000 keys
            s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[i:i + 1000]})
        self._fresh = False  # the next reader lands the alerts again
        return sent


def _hadoop_checksum(path: Path) -> bool:
    """Spark's local file system writes a `.<name>.crc` beside each file; S3 has none."""
    return path.name.startswith(".") and path.name.endswith(".crc")


def _millis() -> int:
    return int(time.time() * 1000)


def job_run(run_id: str, job_name: str, arguments: dict, state: str, started: int, error: str | None = None) -> dict:
    """GetJobRun's JobRun (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-jobs-runs.html#aws-glue-api-jobs-runs-JobRun),
    timestamps in epoch milliseconds as Step Functions serializes them."""
    now = _millis()
    run = {"Id": run_id, "Attempt": 0, "JobName": job_name, "JobMode": "SCRIPT", "StartedOn": started,
           "LastModifiedOn": now, "CompletedOn": now, "JobRunState": state, "Arguments": arguments,
           "PredecessorRuns": [], "ExecutionTime": (now - started) // 1000, "Timeout": 2880,
           "GlueVersion": GLUE_VERSION}
    if error:
        run["ErrorMessage"] = error
    return run


def glue_job_binding(res, zone: CuratedZone) -> Binding:
    """`glue:startJobRun.sync` -> the curation script on local Spark over the staged raw and
    curated zones; returns the finished JobRun (JobRunState SUCCEEDED; Step Functions adds the
    request's JobName, https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html).
    A failed run is `States.TaskFailed`, its cause the JobRun as JSON (JobRunState FAILED,
    ErrorMessage the tail of the job's stderr), as the .sync integration reports it."""

    def start_job_run(task_input: dict) -> dict:
        name = task_input.get("JobName")
        if name != res.glue_job_name:
            raise TaskError("Glue.EntityNotFoundException", f"Job {name} not found (local job: {res.glue_job_name})")
        run_id = "jr_" + uuid.uuid4().hex + uuid.uuid4().hex
        arguments = task_input.get("Arguments") or {}
        started = _millis()
        zone.sync()
        staging.download_prefix(res.raw_bucket, "", zone.work / "raw")
        (zone.work / "raw").mkdir(parents=True, exist_ok=True)
        job_started_ns = time.time_ns()
        try:
            summary = glue.run_glue_job(zone.work, res.pseudonymization_secret_id, run_id)
        except glue.GlueJobFailed as err:
            raise TaskError("States.TaskFailed", json.dumps(
                job_run(run_id, name, arguments, "FAILED", started, err.tail))) from err
        log.info("Glue job run %s: %s", run_id, json.dumps(summary.get("tables", {})))
        zone.publish(written_since_ns=job_started_ns)
        return job_run(run_id, name, arguments, "SUCCEEDED", started)
    return start_job_run
