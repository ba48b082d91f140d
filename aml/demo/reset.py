"""Empties the local environment's data so a demo run starts from nothing (the resources stay).

Rule state must go too: windows summed over a previous run's events would double every count."""
from __future__ import annotations

import psycopg

from aml.local import aws
from aml.local.resources import LocalResources, ensure_reference_data
from aml_contract import names, schema


def empty_bucket(bucket: str) -> int:
    s3 = aws.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                 for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for i in range(0, len(batch), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch[i:i + 1000], "Quiet": True})
        deleted += len(batch)
    return deleted


def empty_table(table: str, keys: dict[str, str]) -> int:
    ddb = aws.client("dynamodb")
    key_names = [keys["partition"]] + ([keys["sort"]] if "sort" in keys else [])
    deleted = 0
    for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression=", ".join(
            f"#k{i}" for i in range(len(key_names))),
            ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(key_names)}):
        items = page.get("Items", [])
        for i in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": item}} for item in items[i:i + 25]]})
        deleted += len(items)
    return deleted


def reset_environment(res: LocalResources) -> None:
    """Empty every store; the curated bucket gets the reference data back (it is the deployment's,
    as `cdk deploy` publishes it, not a run's data)."""
    for bucket in (res.raw_bucket, res.curated_bucket, res.athena_results_bucket):
        empty_bucket(bucket)
    ensure_reference_data(res.curated_bucket)
    empty_table(res.rule_state_table, names.RULE_STATE_TABLE_KEYS)
    empty_table(res.alerts_table, names.ALERTS_TABLE_KEYS)
    empty_table(res.idempotency_table, names.IDEMPOTENCY_TABLE_KEYS)
    empty_table(res.profiles_table, names.PROFILES_TABLE_KEYS)
    aws.client("sqs").purge_queue(QueueUrl=res.dlq_url)


def reset_database(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(schema.postgres_ddl())
        tables = ", ".join(f"{schema.SOURCE_SCHEMA}.{t}" for t in schema.SOURCE_TABLES)
        conn.execute(f"TRUNCATE {tables}")
