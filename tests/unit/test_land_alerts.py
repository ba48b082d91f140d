"""The local landing of Firehose's alert records: every partition typed as the Glue `alerts` table,
so a day whose alerts name no transaction (batch alerts summarising windows) reads with the others."""
import json

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from moto import mock_aws

from aml.local import staging

ROW = {"alert_id": "a", "rule_id": "fan_in", "rule_version": 1, "severity": "high", "score": 50,
       "subject_account_pid": "p", "transaction_ids": ["t1"], "event_time": "2025-03-01T10:00:00+00:00",
       "window_start": "2025-03-01T00:00:00+00:00", "window_end": "2025-03-02T00:00:00+00:00", "details": "{}",
       "detected_at": "2025-03-03T00:00:00+00:00", "source": "realtime", "dt": "2025-03-01"}


def test_partitions_share_the_catalog_types(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(staging.aws, "client", lambda service: boto3.client(service, region_name="us-east-1"))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="curated")
        batch = ROW | {"alert_id": "b", "transaction_ids": [], "source": "batch", "event_time": "2025-03-02T10:00:00+00:00"}
        s3.put_object(Bucket="curated", Key="alerts/x", Body="\n".join(json.dumps(r) for r in (ROW, batch)).encode())
        assert staging.land_alerts("curated", tmp_path) == 2
    frame = pd.read_parquet(tmp_path / "alerts")
    assert sorted(frame["alert_id"]) == ["a", "b"]
    day2 = pq.read_schema(tmp_path / "alerts" / "dt=2025-03-02" / "alerts.parquet")
    assert day2.field("transaction_ids").type.value_type == pa.string() and str(day2.field("score").type) == "int32"
