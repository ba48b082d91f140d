"""Key reconciliation between the source and the curated zone, in one place: the check that catches
what DMS loses without a trace (an ignored primary-key UPDATE leaves the old key live in the
curated zone with stale values, and the new key never arrives). docs/cdc-history.md has the design.

Keys are compared in the curated zone's form: transaction ids as they are, account and customer
ids as their pseudonyms (aml_contract.pseudonym, the Glue job's keyed HMAC), so no result names an
identifier the curated zone does not already hold.

**Two passes, so that it scales to a bank.** Every key in curated form hashes (MD5 of its UTF-8
text, taken as hex digits: the same in PostgreSQL, Athena/Trino, DuckDB and Python) to a bucket
(the first 8 hex digits mod BUCKETS) and a 32-bit digest part (the next 8). Each side reduces a
table to one row per bucket: the key count and the sum of the digest parts, which does not depend
on the order the keys are read in. Only the buckets whose (count, sum) differ are then listed key
by key, on both sides (at most LIST_BUCKETS_MAX per table; beyond it the report says how many
buckets were not listed).

**Classes of difference** (`classify`):

- extra: curated, no longer in the source. The signature of a key change DMS ignored (the old key
  stays curated), or of a delete that never arrived. **Alarmed** (MISMATCH_METRIC): replication
  lag cannot produce it, except a hard delete committed after the curation read its input and
  before the reconciliation read the source (it clears at the next run).
- missing: in the source, not curated, and the row's last change (`updated_at`) is at or before
  the curation's high-water mark (the latest `dms_commit_ts` the curated zone holds): the curation
  has read past it. The new key of an ignored key change, a lost insert, or a row the job
  quarantined (the job's manifest counts those by reason). Reported and published
  (MISSING_METRIC), not alarmed: the quarantine would keep it raised.
- pending: in the source, not curated, changed after the high-water mark: replication and
  curation lag. Reported (PENDING_METRIC) only.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aml_contract import schema
from aml_contract.daily_pipeline import POWERTOOLS_ENV
from aml_contract.pseudonym import pseudonymise

BUCKETS = 4096  # per table; a bank of 10^9 transactions keeps about 250,000 keys per bucket
LIST_BUCKETS_MAX = 256  # buckets listed key by key per table and run
EXAMPLES = 10  # keys named per table and class in a report
TABLES = tuple(schema.SOURCE_TABLES)  # customers, accounts, transactions
CHANGE_TIME_COLUMN = "updated_at"  # the source's last-change time of a row (the contract's column)
HIGH_WATER_MARK_TABLE = "transactions"  # the curated table carrying dms_commit_ts

# CloudWatch: the daily pipeline's namespace, one datum per table and class.
METRICS_NAMESPACE = POWERTOOLS_ENV["POWERTOOLS_METRICS_NAMESPACE"]
MISMATCH_METRIC = "KeyMismatches"  # extra keys: alarmed at 1
MISSING_METRIC = "KeysMissing"
PENDING_METRIC = "KeysPending"
TABLE_DIMENSION = "table"

# The source's read-only login for the reconciliation: SELECT on each table's key and change time,
# nothing else (no PII column). Deployed it authenticates with IAM (rds_iam); locally it trusts loopback.
READER_ROLE = "aml_reconcile"

# The Athena result of the curated digest: one row per table and bucket, plus one row per table
# with bucket -1 holding the table's key count and (transactions) the high-water mark in epoch ms.
DIGEST_COLUMNS = ("source_table", "bucket", "keys", "digest", "high_water_mark_ms")
KEYS_COLUMNS = ("source_table", "curated_key")


# ---- keys and hashes ------------------------------------------------------------------------
def table(name: str) -> schema.Table:
    return schema.SOURCE_TABLES[name]


def curated_key_column(name: str) -> str:
    t = table(name)
    return t.column(t.primary_key).curated_name


def pseudonymised(name: str) -> bool:
    t = table(name)
    return t.column(t.primary_key).pii is schema.Pii.PSEUDONYMISE


def curated_form(name: str, key: str, pseudonym_key: bytes) -> str:
    """A source key as the curated zone holds it."""
    return pseudonymise(key, pseudonym_key) if pseudonymised(name) else key


def key_hash(curated_key: str) -> tuple[int, int]:
    """(bucket, digest part) of a key in curated form."""
    digest = hashlib.md5(curated_key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % BUCKETS, int(digest[8:16], 16)


def bucket_of(curated_key: str) -> int:
    return key_hash(curated_key)[0]


@dataclass
class Digest:
    """One table's keys reduced to bucket -> [count, sum of digest parts]."""

    buckets: dict[int, list[int]] = field(default_factory=dict)

    def add(self, curated_key: str) -> None:
        bucket, part = key_hash(curated_key)
        entry = self.buckets.setdefault(bucket, [0, 0])
        entry[0] += 1
        entry[1] += part

    def add_bucket(self, bucket: int, count: int, total: int) -> None:
        self.buckets[int(bucket)] = [int(count), int(total)]

    @property
    def keys(self) -> int:
        return sum(count for count, _ in self.buckets.values())

    def mismatched(self, other: Digest) -> list[int]:
        """Buckets whose count or sum differ, in order."""
        every = set(self.buckets) | set(other.buckets)
        return sorted(b for b in every if self.buckets.get(b, [0, 0]) != other.buckets.get(b, [0, 0]))

    @classmethod
    def of(cls, curated_keys: Iterable[str]) -> Digest:
        digest = cls()
        for key in curated_keys:
            digest.add(key)
        return digest


# ---- SQL --------------------------------------------------------------------------------------
def _trino_part(column: str, start: int) -> str:
    return f"from_base(substr(to_hex(md5(to_utf8({column}))), {start}, 8), 16)"


def _postgres_part(column: str, start: int) -> str:
    return f"('x' || substr(md5({column}), {start}, 8))::bit(32)::bigint"


def curated_digest_sql() -> str:
    """Athena (Trino) SQL: DIGEST_COLUMNS for every source table's curated copy (run by the
    state machine's CuratedKeyDigest state; DuckDB runs it locally)."""
    parts = []
    for name in TABLES:
        key = curated_key_column(name)
        parts.append(
            f"SELECT '{name}' AS source_table, mod(h1, {BUCKETS}) AS bucket, count(*) AS keys, "
            "CAST(sum(h2) AS bigint) AS digest, "
            f"CAST(NULL AS bigint) AS high_water_mark_ms FROM (SELECT {_trino_part(key, 1)} AS h1, "
            f"{_trino_part(key, 9)} AS h2 FROM {name} WHERE {key} IS NOT NULL) GROUP BY 1, 2")
        high_water = (f"CAST(to_unixtime(max({schema.DMS_COMMIT_TS_COLUMN})) * 1000 AS bigint)"
                      if name == HIGH_WATER_MARK_TABLE else "CAST(NULL AS bigint)")
        parts.append(f"SELECT '{name}' AS source_table, -1 AS bucket, count({key}) AS keys, CAST(0 AS bigint) AS digest, "
                     f"{high_water} AS high_water_mark_ms FROM {name}")
    return "\nUNION ALL\n".join(parts)


def curated_keys_sql(buckets: Mapping[str, list[int]]) -> str:
    """Athena (Trino) SQL: KEYS_COLUMNS of the curated keys in the given buckets of each table."""
    parts = []
    for name, listed in buckets.items():
        if not listed:
            continue
        key = curated_key_column(name)
        values = ", ".join(str(int(b)) for b in listed)
        parts.append(f"SELECT '{name}' AS source_table, {key} AS curated_key FROM {name} "
                     f"WHERE {key} IS NOT NULL AND mod({_trino_part(key, 1)}, {BUCKETS}) IN ({values})")
    if not parts:
        raise ValueError("no bucket to list")
    return "\nUNION ALL\n".join(parts)


def _source_table(name: str) -> str:
    return f"{schema.SOURCE_SCHEMA}.{name}"


def source_digest_sql(name: str) -> str:
    """PostgreSQL: (bucket, keys, digest) of a table whose key is curated as it is (the database
    does the work; a pseudonymised key is hashed after the HMAC, outside it: source_keys_sql)."""
    key = table(name).primary_key
    return (f"SELECT mod(h1, {BUCKETS}) AS bucket, count(*) AS keys, sum(h2) AS digest FROM "
            f"(SELECT {_postgres_part(key, 1)} AS h1, {_postgres_part(key, 9)} AS h2 FROM {_source_table(name)}) s "
            "GROUP BY 1")


def source_keys_sql(name: str, with_buckets: bool = False) -> str:
    """PostgreSQL: (key, updated_at) of every row; with_buckets (keys curated as they are): only
    the rows in the buckets given as one parameter (an array of integers)."""
    key = table(name).primary_key
    sql = f"SELECT {key}, {CHANGE_TIME_COLUMN} FROM {_source_table(name)}"
    if with_buckets:
        sql += f" WHERE mod({_postgres_part(key, 1)}, {BUCKETS}) = ANY(%s)"
    return sql


def reader_role_sql(iam_authentication: bool) -> list[str]:
    """The reader login and its grants (idempotent, one statement per item: the Data API runs one
    per call). SELECT on the key and change-time columns only."""
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN "
        f"CREATE ROLE {READER_ROLE} LOGIN; END IF; END $$",
        f"GRANT USAGE ON SCHEMA {schema.SOURCE_SCHEMA} TO {READER_ROLE}",
    ]
    if iam_authentication:
        statements.append(f"GRANT rds_iam TO {READER_ROLE}")
    statements += [f"GRANT SELECT ({table(n).primary_key}, {CHANGE_TIME_COLUMN}) ON {_source_table(n)} TO {READER_ROLE}"
                   for n in TABLES]
    return statements


# ---- classification and the report -----------------------------------------------------------
@dataclass(frozen=True)
class TableResult:
    table: str
    source: int  # live keys in the source
    curated: int  # keys in the curated zone
    buckets_mismatched: int = 0
    buckets_listed: int = 0
    extra: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    accounted_for: int = 0  # missing keys known to be refused (the command's --quarantine-dir)

    @property
    def clean(self) -> bool:
        return not self.extra and not self.missing

    def as_dict(self) -> dict:
        return {"source": self.source, "curated": self.curated, "buckets_mismatched": self.buckets_mismatched,
                "buckets_listed": self.buckets_listed, "buckets_not_listed": self.buckets_mismatched - self.buckets_listed,
                "extra": len(self.extra), "missing": len(self.missing), "pending": len(self.pending),
                "quarantined": self.accounted_for,
                "extra_examples": sorted(self.extra)[:EXAMPLES], "missing_examples": sorted(self.missing)[:EXAMPLES],
                "pending_examples": sorted(self.pending)[:EXAMPLES]}


def classify(name: str, source: Mapping[str, datetime | None], curated: set[str], high_water_mark: datetime | None,
             *, source_total: int, curated_total: int, buckets_mismatched: int = 0, buckets_listed: int = 0,
             accounted_for: set[str] = frozenset()) -> TableResult:
    """source: curated-form key -> its change time (the keys compared); curated: the curated keys
    compared. A missing key changed after the high-water mark is pending (lag); with no mark
    (nothing curated yet) every missing key is pending."""
    missing, pending = [], []
    for key in set(source) - curated - set(accounted_for):
        changed = source[key]
        lagging = high_water_mark is None or changed is None or changed > high_water_mark
        (pending if lagging else missing).append(key)
    return TableResult(name, source_total, curated_total, buckets_mismatched, buckets_listed,
                       extra=sorted(curated - set(source)), missing=sorted(missing), pending=sorted(pending),
                       accounted_for=len(set(accounted_for) & set(source)))


@dataclass(frozen=True)
class Report:
    tables: dict[str, TableResult]
    high_water_mark: datetime | None = None

    @property
    def clean(self) -> bool:
        return all(t.clean for t in self.tables.values())

    @property
    def key_mismatches(self) -> int:
        return sum(len(t.extra) for t in self.tables.values())

    def metric_data(self) -> list[dict]:
        """PutMetricData's MetricData: each class per table."""
        return [{"MetricName": metric, "Dimensions": [{"Name": TABLE_DIMENSION, "Value": name}],
                 "Value": float(len(getattr(t, attr))), "Unit": "Count"}
                for name, t in self.tables.items()
                for metric, attr in ((MISMATCH_METRIC, "extra"), (MISSING_METRIC, "missing"), (PENDING_METRIC, "pending"))]

    def as_dict(self) -> dict:
        return {"clean": self.clean, "key_mismatches": self.key_mismatches,
                "high_water_mark": self.high_water_mark.isoformat() if self.high_water_mark else None,
                "tables": {name: t.as_dict() for name, t in self.tables.items()}}

    def summary(self) -> str:
        """One sentence for the pipeline's summary."""
        parts = [f"{name} {len(t.extra)} extra, {len(t.missing)} missing, {len(t.pending)} pending"
                 for name, t in self.tables.items()]
        verdict = "clean" if self.clean else ("KEY MISMATCHES" if self.key_mismatches else "keys missing")
        return f"Key reconciliation: {verdict} ({'; '.join(parts)})."
