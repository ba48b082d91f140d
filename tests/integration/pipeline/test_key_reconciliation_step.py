"""The key reconciliation in its deployed form: the synthesized state machine's reconciliation states
(CuratedKeyDigest -> ReconcileDigests -> KeysToList? -> ListCuratedKeys -> ReconcileKeys), run by
aws-local-stepfunctions with the local bindings (the function in process against local PostgreSQL as
its read-only login, the two Athena queries on DuckDB over the curated bucket, CloudWatch on the
emulator). Issue 14's must-show: an ignored key update is reported, its metric put, and the
synthesized alarm's threshold crossed; a clean source and a lagging one raise nothing."""
from __future__ import annotations

import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aml.local import aws, resources
from aml.pipeline.bindings import local_bindings
from aml.pipeline.definition import for_environment, load_templates
from aml.pipeline.run import run_local
from aml_contract import daily_pipeline
from aml_contract import key_reconciliation as kr
from aml_contract.pseudonym import pseudonymise

pytestmark = pytest.mark.integration
ENV = "recon"
CHAIN = ("CuratedKeyDigest", "ReconcileDigests", "KeysToList?", "ListCuratedKeys", "ReconcileKeys")
CURATED_AT = datetime(2025, 3, 2, tzinfo=UTC)  # the curated zone's high-water mark
CHANGED_AT = datetime(2025, 3, 1, 12, tzinfo=UTC)  # the source rows' last change, before it


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory, local_services):
    out = tmp_path_factory.mktemp("cdk.out")
    for_environment(out, ENV)  # synthesized as `aml deploy-local` deploys it
    return out


@pytest.fixture(scope="module")
def chain(cdk_out) -> dict:
    """The synthesized definition cut to the reconciliation: from CuratedKeyDigest to ReconcileKeys,
    which ends there instead of going on to Report; the failure states stay (its Catch targets)."""
    definition = for_environment(cdk_out, ENV)
    states = definition["States"]
    kept = {name: dict(states[name]) for name in (*CHAIN, "NotifyFailure", "Failed")}
    assert kept["ReconcileKeys"].pop("Next") == "Report"
    kept["ReconcileKeys"]["End"] = True
    return {"StartAt": CHAIN[0], "States": kept}


@pytest.fixture(scope="module")
def alarms(cdk_out) -> dict[str, dict]:
    """table -> the synthesized KeyMismatches alarm's properties."""
    found = {}
    for template in load_templates(cdk_out):
        for res in template.body.get("Resources", {}).values():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::CloudWatch::Alarm" and props.get("MetricName") == kr.MISMATCH_METRIC:
                found[props["Dimensions"][0]["Value"]] = props
    assert set(found) == set(kr.TABLES)
    return found


@pytest.fixture(scope="module")
def res(local_services):
    return resources.ensure(ENV)


@pytest.fixture
def source(local_services):
    """A source database with the contract's DDL and the read-only login (as the stacks create them)."""
    from aml.local.services import Postgres

    server = Postgres()
    name = f"recon_{uuid.uuid4().hex[:10]}"
    url = server.ensure_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO core.customers (customer_id, updated_at) VALUES ('C1', %s), ('C2', %s)",
                     (CHANGED_AT, CHANGED_AT))
        conn.execute("INSERT INTO core.accounts (account_id, customer_id, updated_at) VALUES ('A1', 'C1', %s), "
                     "('A2', 'C2', %s)", (CHANGED_AT, CHANGED_AT))
        conn.cursor().executemany("INSERT INTO core.transactions (transaction_id, amount, updated_at) "
                                  "VALUES (%s, 10, %s)", [(f"T{i}", CHANGED_AT) for i in range(200)])
    yield name, url
    server.drop_database(name)


def _put_parquet(bucket: str, key: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def _curate(res, transactions: list[str], accounts: list[str], customers: list[str]) -> None:
    """The curated zone as the Glue job leaves it (key columns and dms_commit_ts), in the curated bucket."""
    from aml.local.resources import pseudonymization_key

    key = pseudonymization_key(res)
    s3 = aws.client("s3")
    for prefix in kr.TABLES:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=res.curated_bucket, Prefix=f"{prefix}/"):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=res.curated_bucket, Key=obj["Key"])
    stamp = CURATED_AT.replace(tzinfo=None)
    _put_parquet(res.curated_bucket, "transactions/dt=2025-03-01/part-0.parquet", pa.table({
        "transaction_id": pa.array(transactions, pa.string()),
        "dms_commit_ts": pa.array([stamp] * len(transactions), pa.timestamp("ms"))}))
    _put_parquet(res.curated_bucket, "accounts/part-0.parquet",
                 pa.table({"account_pid": pa.array([pseudonymise(a, key) for a in accounts], pa.string())}))
    _put_parquet(res.curated_bucket, "customers/part-0.parquet",
                 pa.table({"customer_pid": pa.array([pseudonymise(c, key) for c in customers], pa.string())}))


def _run(chain, res, database, tmp_path):
    time.sleep(1.1)  # CloudWatch datapoints of this run only (the emulator keeps the earlier ones)
    now = datetime.now(UTC)
    started = now.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((started - now).total_seconds())  # this run's data starts in a second of its own
    execution = run_local(chain, {"plan": {"run_date": "2025-03-01", "run_id": "2025-03-01-r1"}},
                          bindings=local_bindings(res, tmp_path, source_database=database), work_dir=tmp_path,
                          execution_name=f"recon-{uuid.uuid4().hex[:6]}")
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    return execution, execution.output[daily_pipeline.RESULT_KEYS["reconcile"]], started


def _mismatches(table: str, since: datetime) -> float | None:
    """The largest KeyMismatches datum put for `table` since `since` (the alarm's statistic)."""
    since = since.replace(microsecond=0)
    points = aws.client("cloudwatch").get_metric_statistics(
        Namespace=kr.METRICS_NAMESPACE, MetricName=kr.MISMATCH_METRIC,
        Dimensions=[{"Name": kr.TABLE_DIMENSION, "Value": table}], StartTime=since,
        EndTime=datetime.now(UTC) + timedelta(minutes=1), Period=1, Statistics=["Maximum"])["Datapoints"]
    return max((p["Maximum"] for p in points if p["Timestamp"] >= since), default=None)


def _alarm_raised(alarm: dict, value: float | None) -> bool:
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Statistic"] == "Maximum"
    assert alarm["Namespace"] == kr.METRICS_NAMESPACE and alarm["EvaluationPeriods"] == 1
    return value is not None and value >= alarm["Threshold"]


def test_an_ignored_key_update_is_reported_put_and_alarmed(chain, alarms, res, source, tmp_path):
    database, url = source
    transactions = [f"T{i}" for i in range(200)]
    _curate(res, transactions, ["A1", "A2"], ["C1", "C2"])
    with psycopg.connect(url, autocommit=True) as conn:  # primary-key UPDATEs that DMS ignored
        conn.execute("UPDATE core.transactions SET transaction_id = 'T7-FIXED' WHERE transaction_id = 'T7'")
        conn.execute("UPDATE core.accounts SET account_id = 'A1-NEW' WHERE account_id = 'A1'")
    execution, found, started = _run(chain, res, database, tmp_path)
    assert "ListCuratedKeys" in execution.states
    t = found["tables"]["transactions"]
    assert (t["extra"], t["missing"], t["pending"]) == (1, 1, 0)
    assert (t["extra_examples"], t["missing_examples"]) == (["T7"], ["T7-FIXED"])
    assert t["buckets_mismatched"] == t["buckets_listed"] == len({kr.bucket_of("T7"), kr.bucket_of("T7-FIXED")})
    a = found["tables"]["accounts"]
    assert (a["extra"], a["missing"]) == (1, 1)
    assert "A1" not in json.dumps(found)  # accounts are named by their pseudonyms only
    assert found["key_mismatches"] == 2 and not found["clean"]
    assert "KEY MISMATCHES" in found["summary"]
    for table, expected in (("transactions", 1), ("accounts", 1), ("customers", 0)):
        value = _mismatches(table, started)
        assert value == expected
        assert _alarm_raised(alarms[table], value) is (expected > 0)


def test_a_clean_source_lists_no_key_and_raises_nothing(chain, alarms, res, source, tmp_path):
    database, _ = source
    _curate(res, [f"T{i}" for i in range(200)], ["A1", "A2"], ["C1", "C2"])
    execution, found, started = _run(chain, res, database, tmp_path)
    assert "ListCuratedKeys" not in execution.states  # the digests agree: no key is listed
    assert found["clean"] and found["key_mismatches"] == 0
    assert all(t["buckets_mismatched"] == 0 for t in found["tables"].values())
    assert found["tables"]["transactions"]["source"] == found["tables"]["transactions"]["curated"] == 200
    for table in kr.TABLES:
        assert _mismatches(table, started) == 0 and not _alarm_raised(alarms[table], 0)


def test_changes_not_yet_curated_are_pending_and_raise_nothing(chain, alarms, res, source, tmp_path):
    database, url = source
    _curate(res, [f"T{i}" for i in range(200)], ["A1", "A2"], ["C1", "C2"])
    with psycopg.connect(url, autocommit=True) as conn:  # committed after the curation's high-water mark
        conn.execute("INSERT INTO core.transactions (transaction_id, amount) VALUES ('T-LIVE', 10)")
        conn.execute("INSERT INTO core.accounts (account_id, customer_id) VALUES ('A3', 'C1')")
    execution, found, started = _run(chain, res, database, tmp_path)
    assert "ListCuratedKeys" in execution.states
    assert found["key_mismatches"] == 0 and found["clean"]
    assert found["tables"]["transactions"]["pending_examples"] == ["T-LIVE"]
    assert (found["tables"]["accounts"]["pending"], found["tables"]["accounts"]["missing"]) == (1, 0)
    assert found["high_water_mark"] == CURATED_AT.isoformat()
    for table in kr.TABLES:
        assert not _alarm_raised(alarms[table], _mismatches(table, started))


def test_the_function_reads_the_source_as_the_read_only_login(source):
    """The login may read the key and change-time columns, nothing else (no PII column)."""
    from aml.local.services import Postgres

    database, _ = source
    env = Postgres().source_environment(database)
    conn_url = (f"postgresql://{env[daily_pipeline.SOURCE_DB_ENV['user']]}@{env[daily_pipeline.SOURCE_DB_ENV['host']]}"
                f":{env[daily_pipeline.SOURCE_DB_ENV['port']]}/{database}")
    with psycopg.connect(conn_url) as conn:
        assert conn.execute("SELECT count(transaction_id), max(updated_at) FROM core.transactions").fetchone()[0] == 200
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT full_name FROM core.customers")
