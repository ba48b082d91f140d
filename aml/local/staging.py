"""Moves data between the emulator's S3 and local disk.

Spark here cannot read s3:// (the hadoop-aws jar only comes from Maven), so the local runtime
stages the raw zone to disk before the Glue job and publishes the curated zone back after it.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aml.arrow_types import curated_schema
from aml.local import aws
from aml_contract import names, schema
from lambdas.realtime_rules.alerts import ALERT_COLUMNS

log = logging.getLogger(__name__)


def download_prefix(bucket: str, prefix: str, target: Path) -> int:
    """Mirror s3://bucket/prefix into target (same relative keys); returns files fetched.
    Files already present with the same size are skipped, so repeated staging is incremental."""
    s3 = aws.client("s3")
    fetched = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            local = target / obj["Key"]
            if local.exists() and local.stat().st_size == obj["Size"]:
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(local))
            fetched += 1
    return fetched


def upload_dir(source: Path, bucket: str, prefix: str = "") -> int:
    """Upload every file below source to s3://bucket/prefix/<relative path>; returns files sent."""
    s3 = aws.client("s3")
    sent = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        key = f"{prefix.rstrip('/')}/{path.relative_to(source).as_posix()}".lstrip("/")
        s3.upload_file(str(path), bucket, key)
        sent += 1
    return sent


def land_alerts(bucket: str, target: Path) -> int:
    """Turn the alert JSON records Firehose delivered (moto does not convert formats) into the
    curated `alerts` layout: Parquet partitioned by dt of event_time, one file per day.

    In AWS the delivery stream converts to Parquet through the Glue `alerts` table itself.
    """
    s3 = aws.client("s3")
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{names.ALERTS_S3_PREFIX}/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
            rows += [json.loads(line) for line in body.splitlines() if line.strip()]
    if not rows:
        return 0
    # one row per alert and path (schema `source`; a record from before sources were recorded is
    # the rules Lambda's): a redelivered record lands once
    frame = pd.DataFrame(rows)
    frame["source"] = frame["source"].fillna(names.ALERT_SOURCES[0]) if "source" in frame else names.ALERT_SOURCES[0]
    frame = frame.drop_duplicates(subset=["alert_id", "source"])
    for col in ("event_time", "window_start", "window_end", "detected_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    frame["details"] = frame["details"].map(lambda d: d if isinstance(d, str) else json.dumps(d, sort_keys=True))
    frame[schema.PARTITION_COLUMN] = frame["event_time"].dt.strftime("%Y-%m-%d")
    out = target / "alerts"
    alerts_schema = curated_schema("alerts")
    for dt, part in frame.groupby(schema.PARTITION_COLUMN):
        folder = out / f"{schema.PARTITION_COLUMN}={dt}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(part[ALERT_COLUMNS], schema=alerts_schema, preserve_index=False),
                       folder / "alerts.parquet")
    log.info("landed %d alerts in %s", len(frame), out)
    return len(frame)
