"""Helpers of the replication tests: SQL in separate commits, the raw zone and the stream as read
back from the emulator."""
from __future__ import annotations

import io
import json

import psycopg
import pyarrow.parquet as pq


def sql(url: str, *statements: str) -> None:
    """Each statement in its own transaction (its own commit timestamp)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def raw_files(bucket: str, table: str) -> dict[str, object]:
    """Key -> pyarrow Table of every Parquet file under dms/core/<table>/."""
    from aml.local import aws

    s3 = aws.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"dms/core/{table}/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = pq.read_table(io.BytesIO(body))
    return out


def stream_records(stream_name: str, record_type: str = "data") -> list[dict]:
    """Every record of that DMS record type ("data" or "control") on every shard: partition key
    and decoded envelope."""
    from aml.local import aws

    kinesis = aws.client("kinesis")
    out = []
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            decoded = [{"key": r["PartitionKey"], "shard": shard["ShardId"], **json.loads(r["Data"])}
                       for r in response["Records"]]
            out += [r for r in decoded if r["metadata"]["record-type"] == record_type]
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                break
            iterator = response.get("NextShardIterator")
    return out
