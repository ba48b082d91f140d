"""The local mirror of the curated bucket the Glue and Athena bindings share: synchronized down
(Firehose's alerts/ records landed as Parquet), published back with the job's deletions, the
alerts never published; a Glue job name that is not the local one is Glue's EntityNotFound."""
from __future__ import annotations

import json
import types

import pytest

from aml.pipeline.bindings import TaskError
from aml.pipeline.glue_binding import CuratedZone, glue_job_binding

pytestmark = pytest.mark.integration

ALERT = {"alert_id": "a1", "rule_id": "r", "rule_version": 1, "subject_account_pid": "p", "event_time": "2024-03-01T10:00:00Z",
         "window_start": "2024-03-01T09:00:00Z", "window_end": "2024-03-01T10:00:00Z",
         "detected_at": "2024-03-01T10:00:01Z", "details": {"n": 1}, "transaction_ids": ["t1"],
         "severity": "high", "score": 1}


def test_sync_then_publish_mirrors_the_bucket(emulator, unique_name, tmp_path):
    from aml.local import aws

    s3, bucket = aws.client("s3"), unique_name("curated")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="transactions/dt=2024-03-01/old.parquet", Body=b"old")
    s3.put_object(Bucket=bucket, Key="reference/currencies/c.jsonl.gz", Body=b"ref")
    s3.put_object(Bucket=bucket, Key="alerts/2024/03/01/batch", Body=json.dumps(ALERT).encode())
    zone = CuratedZone(types.SimpleNamespace(curated_bucket=bucket), tmp_path)

    root = zone.ready()
    assert (root / "reference/currencies/c.jsonl.gz").read_bytes() == b"ref"
    assert [p.relative_to(root).as_posix() for p in (root / "alerts").rglob("*.parquet")] == [
        "alerts/dt=2024-03-01/alerts.parquet"]
    (root / "transactions/dt=2024-03-01/old.parquet").unlink()  # what the job replaced
    (root / "transactions/dt=2024-03-01/new.parquet").write_bytes(b"new")
    zone.publish()

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"transactions/dt=2024-03-01/new.parquet", "reference/currencies/c.jsonl.gz",
                    "alerts/2024/03/01/batch"}


def test_publish_uploads_what_the_job_wrote_and_what_the_bucket_lacks(emulator, unique_name, tmp_path):
    """Files the job left alone are not sent again; a file it rewrote at the same size is; a
    mirror file the bucket lacks (an earlier publish cut short) is sent whatever its age."""
    import time

    from aml.local import aws

    s3, bucket = aws.client("s3"), unique_name("curated")
    s3.create_bucket(Bucket=bucket)
    for key in ("transactions/dt=2024-03-01/kept.parquet", "transactions/dt=2024-03-01/same-size.parquet"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"old")
    zone = CuratedZone(types.SimpleNamespace(curated_bucket=bucket), tmp_path)
    root = zone.ready()
    (root / "transactions/dt=2024-03-02").mkdir(parents=True)
    (root / "transactions/dt=2024-03-02/missed.parquet").write_bytes(b"missed")  # before the job
    job_started = time.time_ns()
    (root / "transactions/dt=2024-03-01/same-size.parquet").write_bytes(b"new")
    (root / "transactions/dt=2024-03-01/.same-size.parquet.crc").write_bytes(b"crc")

    assert zone.publish(written_since_ns=job_started) == 2
    body = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in (
        "transactions/dt=2024-03-01/kept.parquet", "transactions/dt=2024-03-01/same-size.parquet",
        "transactions/dt=2024-03-02/missed.parquet")}
    assert body == {"transactions/dt=2024-03-01/kept.parquet": b"old",
                    "transactions/dt=2024-03-01/same-size.parquet": b"new",
                    "transactions/dt=2024-03-02/missed.parquet": b"missed"}
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 3  # no checksum file


def test_an_unknown_job_name_is_entity_not_found(tmp_path):
    res = types.SimpleNamespace(glue_job_name="aml-t-curate-transactions")
    with pytest.raises(TaskError) as raised:
        glue_job_binding(res, CuratedZone(res, tmp_path))({"JobName": "other"})
    assert raised.value.error == "Glue.EntityNotFoundException"
