"""The key reconciliation steps (aml_contract.key_reconciliation has the design and the shared
logic): the source's live keys against the curated zone's, by bucket digests, then key by key in
the buckets that differ.

    CuratedKeyDigest (Athena) -> ReconcileDigests (this, phase "digests") -> KeysToList? ->
    [ListCuratedKeys (Athena)] -> ReconcileKeys (this, phase "keys": classify, publish the metrics)

The source is read through `Source` (PostgreSQL: Aurora in AWS, with an IAM token for the read-only
login; the local server locally), the curated side from the two Athena results in the state.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from aml_contract import key_reconciliation as kr
from aml_contract.daily_pipeline import RESULT_KEYS, SOURCE_DB_ENV
from lambdas.daily_pipeline import query_results

FETCH_ROWS = 50_000  # rows per round trip of a server-side cursor


@dataclass(frozen=True)
class SourceSettings:
    host: str
    port: int
    database: str
    user: str
    iam_auth: bool

    @classmethod
    def from_env(cls, environ=os.environ) -> SourceSettings:
        return cls(environ[SOURCE_DB_ENV["host"]], int(environ[SOURCE_DB_ENV["port"]]), environ[SOURCE_DB_ENV["database"]],
                   environ[SOURCE_DB_ENV["user"]], environ.get(SOURCE_DB_ENV["iam_auth"], "false") == "true")


def connect(settings: SourceSettings, token: Callable[[SourceSettings], str] | None = None):
    """A read-only connection. With IAM authentication the password is a token the caller signs
    (rds generate_db_auth_token: no API call) and TLS is required, as RDS requires for IAM logins
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Connecting.html)."""
    import psycopg  # the pipeline's other steps never load the driver

    extra = {"password": token(settings), "sslmode": "require"} if settings.iam_auth else {}
    conn = psycopg.connect(host=settings.host, port=settings.port, dbname=settings.database, user=settings.user,
                           connect_timeout=30, application_name="aml-key-reconciliation", **extra)
    conn.read_only = True
    return conn


class Source:
    """The source's keys in curated form, by table: digests and the keys of given buckets."""

    def __init__(self, conn, pseudonym_key: bytes):
        self.conn, self.key = conn, pseudonym_key

    def _rows(self, sql: str, params=None) -> Iterator[tuple]:
        with self.conn.cursor(name="keys") as cursor:  # server-side: a bank's table never sits in memory
            cursor.itersize = FETCH_ROWS
            cursor.execute(sql, params)
            yield from cursor

    def digest(self, table: str) -> kr.Digest:
        if not kr.pseudonymised(table):  # the database hashes and sums
            digest = kr.Digest()
            for bucket, count, total in self.conn.execute(kr.source_digest_sql(table)):
                digest.add_bucket(bucket, count, total)
            return digest
        return kr.Digest.of(kr.curated_form(table, key, self.key) for key, _ in self._rows(kr.source_keys_sql(table)))

    def all_keys(self, table: str) -> dict[str, datetime | None]:
        """curated-form key -> its change time, every key of the table (`aml reconcile`)."""
        return {kr.curated_form(table, key, self.key): changed for key, changed in self._rows(kr.source_keys_sql(table))}

    def keys(self, table: str, buckets: list[int]) -> dict[str, datetime | None]:
        """curated-form key -> its change time, for the keys in `buckets`."""
        wanted = set(buckets)
        if not kr.pseudonymised(table):
            return dict(self._rows(kr.source_keys_sql(table, with_buckets=True), (list(wanted),)))
        found = {}
        for key, changed in self._rows(kr.source_keys_sql(table)):
            curated = kr.curated_form(table, key, self.key)
            if kr.bucket_of(curated) in wanted:
                found[curated] = changed
        return found


def _epoch_ms(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None


def _curated_digests(rows: list[dict]) -> tuple[dict[str, kr.Digest], dict[str, int], datetime | None]:
    """The CuratedKeyDigest result: per table its digest and key count, and the high-water mark."""
    digests = {t: kr.Digest() for t in kr.TABLES}
    totals, mark = dict.fromkeys(kr.TABLES, 0), None
    for row in rows:
        table = row["source_table"]
        if int(row["bucket"]) < 0:
            totals[table] = int(row["keys"])
            if row.get("high_water_mark_ms"):
                mark = _epoch_ms(row["high_water_mark_ms"])
        else:
            digests[table].add_bucket(int(row["bucket"]), int(row["keys"]), int(row["digest"]))
    return digests, totals, mark


def digests(state: dict, *, source: Source, s3) -> dict:
    """Phase one: compare the digests; name the buckets to list and the Athena query listing them."""
    rows = query_results.read(s3, state[RESULT_KEYS["key_digest"]]["output_location"])
    curated, totals, mark = _curated_digests(rows)
    tables, listed = {}, {}
    for table in kr.TABLES:
        ours = source.digest(table)
        differing = ours.mismatched(curated[table])
        listed[table] = differing[:kr.LIST_BUCKETS_MAX]
        tables[table] = {"source": ours.keys, "curated": totals[table], "buckets_mismatched": len(differing),
                         "buckets": listed[table]}
    to_list = any(listed.values())
    return {"high_water_mark": mark.isoformat() if mark else None, "tables": tables, "list_keys": to_list,
            "keys_query": kr.curated_keys_sql(listed) if to_list else ""}


def keys(state: dict, *, source: Source, s3) -> kr.Report:
    """Phase two: the keys of the listed buckets on both sides, classified."""
    found = state[RESULT_KEYS["key_digests"]]
    mark = datetime.fromisoformat(found["high_water_mark"]) if found["high_water_mark"] else None
    curated: dict[str, set[str]] = {t: set() for t in kr.TABLES}
    if found["list_keys"]:
        for row in query_results.read(s3, state[RESULT_KEYS["curated_keys"]]["output_location"]):
            curated[row["source_table"]].add(row["curated_key"])
    results = {}
    for table in kr.TABLES:
        figures = found["tables"][table]
        buckets = figures["buckets"]
        ours = source.keys(table, buckets) if buckets else {}
        results[table] = kr.classify(
            table, {k: _aware(v) for k, v in ours.items()}, curated[table], mark, source_total=figures["source"],
            curated_total=figures["curated"], buckets_mismatched=figures["buckets_mismatched"],
            buckets_listed=len(buckets))
    return kr.Report(results, mark)


def _aware(value: datetime | None) -> datetime | None:
    """The source's timestamptz arrives aware; a naive one is taken as UTC (the contract's zone)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def publish(report: kr.Report, cloudwatch) -> None:
    cloudwatch.put_metric_data(Namespace=kr.METRICS_NAMESPACE, MetricData=report.metric_data())
