"""Every column of the platform, named and classified exactly once.

Source tables (PostgreSQL schema ``core``, replicated by DMS) are described by ``Column`` rows
with a logical type and a PII class. The curated tables are derived from them by applying the
PII classes (``curated_columns``) plus the few columns the curation adds, so a column that is
classified ``drop`` can never reach the curated zone by accident.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Pii(StrEnum):
    NONE = "none"  # not personal data; kept as is
    DROP = "drop"  # direct identifier; never leaves the raw zone
    GENERALISE = "generalise"  # kept only in a coarser form (date_of_birth -> birth_year)
    PSEUDONYMISE = "pseudonymise"  # replaced by a keyed HMAC (<name>_pid) so joins still work


# Logical types; each engine maps them (PostgreSQL DDL, Spark, Glue/Athena, Parquet).
STRING, DATE, TIMESTAMP, DECIMAL, BOOLEAN, INT = "string", "date", "timestamp", "decimal", "boolean", "int"
DECIMAL_PRECISION, DECIMAL_SCALE = 18, 2


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    pii: Pii = Pii.NONE
    required: bool = True
    enum: tuple[str, ...] | None = None  # allowed values, when the column is an enumeration
    # Strings only: a bounded varchar(n) in the source DDL; None = `text`, which DMS treats as a
    # LOB (see aml_contract.dms). Keys and codes are bounded; free text stays `text`.
    max_length: int | None = None
    # A code that must appear in this reference dataset (aml_contract.reference), e.g. "currencies":
    # the list is dated data in S3, read by both paths, not an enumeration frozen in code.
    reference: str | None = None

    @property
    def curated_name(self) -> str | None:
        """The column's name in the curated zone, or None when it is dropped."""
        if self.pii is Pii.DROP:
            return None
        if self.pii is Pii.PSEUDONYMISE:
            return pseudonym_name(self.name)
        if self.pii is Pii.GENERALISE:
            return GENERALISATIONS[self.name][0]
        return self.name


def pseudonym_name(name: str) -> str:
    """customer_id -> customer_pid; device_id -> device_pid."""
    return (name[: -len("_id")] if name.endswith("_id") else name) + "_pid"


@dataclass(frozen=True)
class Table:
    name: str
    primary_key: str  # immutable: a source row keeps its key for life (see aml_contract.dms)
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def columns_with(self, pii: Pii) -> list[str]:
        return [c.name for c in self.columns if c.pii is pii]


# ---- enumerations -------------------------------------------------------------------------
CUSTOMER_TYPES = ("individual", "business")
RISK_RATINGS = ("low", "medium", "high")
KYC_STATUSES = ("verified", "pending", "expired", "rejected")
ACCOUNT_TYPES = ("checking", "savings", "business", "investment")
ACCOUNT_STATUSES = ("active", "dormant", "closed")
TRANSACTION_TYPES = ("wire", "ach", "cash_deposit", "cash_withdrawal", "card", "check", "crypto", "internal")
CASH_TYPES = ("cash_deposit", "cash_withdrawal")
CHANNELS = ("branch", "online", "mobile", "atm", "pos")
TRANSACTION_STATUSES = ("booked", "reversed")
CASH_ACCOUNT_ID = "CASH"  # the counterparty of cash deposits and withdrawals

# How far in the future booked_at may lie (clock skew between systems) before a row is invalid.
FUTURE_TOLERANCE_SECONDS = 300

# ---- source tables (schema core) ----------------------------------------------------------
SOURCE_SCHEMA = "core"
ID_LENGTH = 64  # identifiers: varchar(64), a DMS WSTRING (a key must never be a LOB)
CODE_LENGTH = 32  # codes and enumerations: varchar(32); wrong values still reach validation

CUSTOMERS = Table("customers", "customer_id", (
    Column("customer_id", STRING, Pii.PSEUDONYMISE, max_length=ID_LENGTH),
    Column("full_name", STRING, Pii.DROP),
    Column("email", STRING, Pii.DROP, required=False),
    Column("phone", STRING, Pii.DROP, required=False),
    Column("date_of_birth", DATE, Pii.GENERALISE, required=False),  # null for businesses
    Column("national_id", STRING, Pii.DROP, required=False),
    Column("address_line", STRING, Pii.DROP, required=False),
    Column("city", STRING, Pii.DROP, required=False),
    Column("postal_code", STRING, Pii.DROP, required=False),
    Column("country", STRING, max_length=CODE_LENGTH),
    Column("customer_type", STRING, enum=CUSTOMER_TYPES, max_length=CODE_LENGTH),
    Column("risk_rating", STRING, enum=RISK_RATINGS, max_length=CODE_LENGTH),
    Column("is_pep", BOOLEAN),
    Column("kyc_status", STRING, enum=KYC_STATUSES, max_length=CODE_LENGTH),
    Column("onboarded_at", TIMESTAMP),
    Column("updated_at", TIMESTAMP),
))

ACCOUNTS = Table("accounts", "account_id", (
    Column("account_id", STRING, Pii.PSEUDONYMISE, max_length=ID_LENGTH),
    Column("customer_id", STRING, Pii.PSEUDONYMISE, max_length=ID_LENGTH),
    Column("account_type", STRING, enum=ACCOUNT_TYPES, max_length=CODE_LENGTH),
    Column("currency", STRING, reference="currencies", max_length=CODE_LENGTH),
    Column("status", STRING, enum=ACCOUNT_STATUSES, max_length=CODE_LENGTH),
    Column("branch_country", STRING, max_length=CODE_LENGTH),
    Column("opened_at", TIMESTAMP),
    Column("updated_at", TIMESTAMP),
))

TRANSACTIONS = Table("transactions", "transaction_id", (
    Column("transaction_id", STRING, max_length=ID_LENGTH),
    Column("booked_at", TIMESTAMP),  # event time: every window runs on it
    Column("originator_account_id", STRING, Pii.PSEUDONYMISE, max_length=ID_LENGTH),
    Column("originator_name", STRING, Pii.DROP, required=False),
    Column("originator_country", STRING, max_length=CODE_LENGTH),
    Column("beneficiary_account_id", STRING, Pii.PSEUDONYMISE, max_length=ID_LENGTH),
    Column("beneficiary_name", STRING, Pii.DROP, required=False),
    Column("beneficiary_country", STRING, max_length=CODE_LENGTH),
    Column("amount", DECIMAL),  # > 0, in `currency`
    Column("currency", STRING, reference="currencies", max_length=CODE_LENGTH),  # ISO 4217 or crypto
    # In BASE_CURRENCY. Trusted when the source sends it (the equivalent the bank booked); when it
    # is null, both paths derive it from the dated reference FX rate (ReferenceData.amount_base),
    # and it stays null when no rate covers the day: the row is kept and counted, never refused.
    Column("amount_base", DECIMAL, required=False),
    Column("transaction_type", STRING, enum=TRANSACTION_TYPES, max_length=CODE_LENGTH),
    Column("channel", STRING, enum=CHANNELS, max_length=CODE_LENGTH),
    Column("ip_address", STRING, Pii.DROP, required=False),
    Column("device_id", STRING, Pii.PSEUDONYMISE, required=False, max_length=ID_LENGTH),
    Column("memo", STRING, Pii.DROP, required=False),
    Column("status", STRING, enum=TRANSACTION_STATUSES, max_length=CODE_LENGTH),
    Column("updated_at", TIMESTAMP),
))

SOURCE_TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, ACCOUNTS, TRANSACTIONS)}
BASE_CURRENCY = "USD"

# generalised column -> (curated name, how; the engines implement `how`)
GENERALISATIONS = {"date_of_birth": ("birth_year", "year")}


def pii_table() -> list[dict[str, str]]:
    """The PII classification as rows (table, column, class, curated column) for docs and tests."""
    return [
        {"table": t.name, "column": c.name, "class": c.pii.value, "curated": c.curated_name or ""}
        for t in SOURCE_TABLES.values() for c in t.columns if c.pii is not Pii.NONE
    ]


# ---- DMS raw zone -------------------------------------------------------------------------
DMS_OP_COLUMN = "Op"  # I | U | D
DMS_OPS = ("I", "U", "D")
DMS_COMMIT_TS_COLUMN = "dms_commit_ts"
RAW_PREFIX = "dms"  # s3://<raw>/dms/core/<table>/LOAD*.parquet and .../<table>/YYYY/MM/DD/*.parquet
QUARANTINE_PREFIX = "quarantine"  # s3://<raw>/quarantine/<table>/ (still holds PII: raw zone)


def raw_table_prefix(table: str) -> str:
    return f"{RAW_PREFIX}/{SOURCE_SCHEMA}/{table}/"


# ---- curated zone (Glue database aml_curated) ---------------------------------------------
CURATED_DATABASE = "aml_curated"
PARTITION_COLUMN = "dt"  # YYYY-MM-DD (UTC) of the event time
# The first `dt` the Athena tables' partition projection covers (`projection.dt.range` is
# "<this>,NOW"; the ETL stack's settings default to it). Athena never sees a partition outside
# that range while DuckDB reads every folder, so the Glue job quarantines a booked_at before this
# day (reason `out_of_projection:booked_at`) or later than now + FUTURE_TOLERANCE_SECONDS
# (`future:booked_at`): both engines then always see the same rows.
PROJECTION_START_DATE = "2020-01-01"


def curated_columns(table: Table) -> list[tuple[str, str]]:
    """(name, logical type) of a source table's columns after the PII classes are applied."""
    out = []
    for c in table.columns:
        if c.curated_name is None:
            continue
        out.append((c.curated_name, INT if c.pii is Pii.GENERALISE else c.type))
    return out


def _select(table: Table, names: list[str]) -> list[tuple[str, str]]:
    available = dict(curated_columns(table))
    return [(n, available[n]) for n in names]


CURATED_TABLES: dict[str, list[tuple[str, str]]] = {
    "transactions": [
        *_select(TRANSACTIONS, ["transaction_id", "booked_at", "originator_account_pid"]),
        ("originator_customer_pid", STRING),  # null when the account is external
        *_select(TRANSACTIONS, ["originator_country", "beneficiary_account_pid"]),
        ("beneficiary_customer_pid", STRING),
        *_select(TRANSACTIONS, ["beneficiary_country", "amount", "currency", "amount_base",
                                "transaction_type", "channel", "device_pid", "status"]),
        (DMS_COMMIT_TS_COLUMN, TIMESTAMP),
    ],
    "accounts": _select(ACCOUNTS, ["account_pid", "customer_pid", "account_type", "currency",
                                   "status", "branch_country", "opened_at"]),
    "customers": _select(CUSTOMERS, ["customer_pid", "country", "customer_type", "risk_rating",
                                     "is_pep", "kyc_status", "birth_year", "onboarded_at"]),
    "alerts": [
        ("alert_id", STRING), ("rule_id", STRING), ("rule_version", INT), ("severity", STRING),
        ("score", INT), ("subject_account_pid", STRING), ("transaction_ids", "array<string>"),
        ("event_time", TIMESTAMP), ("window_start", TIMESTAMP), ("window_end", TIMESTAMP),
        ("details", STRING), ("detected_at", TIMESTAMP),
        # which path found it: one row per alert and path, so an alert both paths found (the same
        # alert by aml_contract.alert_identity) has a `realtime` and a `batch` row under one alert_id
        ("source", STRING),
    ],
}
PARTITIONED_TABLES = ("transactions", "alerts")  # by PARTITION_COLUMN


# ---- engine type mappings -----------------------------------------------------------------
_GLUE_TYPES = {STRING: "string", DATE: "date", TIMESTAMP: "timestamp", BOOLEAN: "boolean",
               INT: "int", DECIMAL: f"decimal({DECIMAL_PRECISION},{DECIMAL_SCALE})",
               "array<string>": "array<string>"}


def glue_type(logical: str) -> str:
    """Glue Data Catalog / Athena (Hive DDL) type of a logical type."""
    return _GLUE_TYPES[logical]


def postgres_ddl() -> str:
    """DDL of the `core` schema. Only keys are constrained: the source is a core-banking system
    we do not own, so data quality is checked (and bad rows quarantined) by the pipeline.
    Column types come from the DMS type table, so the DDL and what DMS replicates cannot drift."""
    from aml_contract.dms import dms_type  # the type table builds on this module

    stmts = [f"CREATE SCHEMA IF NOT EXISTS {SOURCE_SCHEMA};"]
    for t in SOURCE_TABLES.values():
        cols = []
        for c in t.columns:
            extra = " PRIMARY KEY" if c.name == t.primary_key else ""
            if c.name == "updated_at":
                extra = " NOT NULL DEFAULT now()"
            cols.append(f"    {c.name} {dms_type(c).postgres}{extra}")
        stmts.append(f"CREATE TABLE IF NOT EXISTS {SOURCE_SCHEMA}.{t.name} (\n" + ",\n".join(cols) + "\n);")
    stmts += [
        f"CREATE INDEX IF NOT EXISTS transactions_booked_at_idx ON {SOURCE_SCHEMA}.transactions (booked_at);",
        f"CREATE INDEX IF NOT EXISTS accounts_customer_idx ON {SOURCE_SCHEMA}.accounts (customer_id);",
    ]
    return "\n".join(stmts) + "\n"
