"""DMS-layout raw data for the curation tests (imported by name: pytest puts this folder on
sys.path): a tiny bank with realistic PII (Faker), written as DMS writes it (`Op`, `dms_commit_ts`
as DMS's string, full-load and dated CDC files, every column typed by the contract's DMS type
table through the replicator's own writer), the reference data every curated zone holds, and a
runner."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

from aml.arrow_types import DMS_PARQUET_TYPES as PARQUET_TYPES
from aml.reference import publish
from aml.replicate.columns import as_parquet, commit_ts_text
from aml_contract import reference
from aml_contract.dms import COMMIT_TS_TYPE, OP_TYPE, dms_type
from aml_contract.pseudonym import key_from_env
from aml_contract.schema import SOURCE_TABLES, raw_table_prefix
from glue_jobs.curation.job import run_curation

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # the runs' clock: booked_at after it is "future"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def arrow_schema(table: str, as_strings: bool = False, drop: tuple[str, ...] = (),
                 extra: tuple[str, ...] = ()) -> pa.Schema:
    fields = [pa.field("Op", PARQUET_TYPES[OP_TYPE.parquet]),
              pa.field("dms_commit_ts", PARQUET_TYPES[COMMIT_TS_TYPE.parquet])]
    for c in SOURCE_TABLES[table].columns:
        if c.name not in drop:
            fields.append(pa.field(c.name, pa.string() if as_strings else PARQUET_TYPES[dms_type(c).parquet]))
    return pa.schema(fields + [pa.field(name, pa.string()) for name in extra])


@dataclass
class RawZone:
    """Writes rows (dicts of source columns plus Op and dms_commit_ts) in the DMS S3 layout."""
    root: Path
    files: list[Path] = field(default_factory=list)

    def write(self, table: str, rows: list[dict], name: str, as_strings: bool = False,
              drop: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> Path:
        schema = arrow_schema(table, as_strings, drop, extra)
        source = {c.name: c for c in SOURCE_TABLES[table].columns}
        columns = {f.name: [_value(r.get(f.name), source.get(f.name), as_strings) for r in rows] for f in schema}
        path = self.root / raw_table_prefix(table) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns, schema=schema), path)
        self.files.append(path)
        return path

    def load(self, table: str, rows: list[dict]) -> Path:
        return self.write(table, rows, "LOAD00000001.parquet")

    def cdc(self, table: str, rows: list[dict], day: str, stem: str, **kwargs) -> Path:
        return self.write(table, rows, f"{day}/{stem}.parquet", **kwargs)


def _value(value, column, as_string: bool):
    """A value as DMS writes it (a test may give any column a string, as a bad source would)."""
    if value is None or isinstance(value, str):
        return value
    if column is None:  # Op, dms_commit_ts
        return commit_ts_text(value) if isinstance(value, datetime) else value
    if not as_string:
        return as_parquet(column, value)
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


class Bank:
    """Customers, accounts and transactions with Faker PII; every row is a full DMS after-image."""

    def __init__(self, seed: int = 7):
        self.fake = Faker()
        self.fake.seed_instance(seed)

    def customer(self, customer_id: str, **changes) -> dict:
        f = self.fake
        row = {"customer_id": customer_id, "full_name": f.name(), "email": f.email(), "phone": f.phone_number(),
               "date_of_birth": f.date_of_birth(minimum_age=20, maximum_age=80), "national_id": f.ssn(),
               "address_line": f.street_address(), "city": f.city(), "postal_code": f.postcode(),
               "country": "US", "customer_type": "individual", "risk_rating": "low", "is_pep": False,
               "kyc_status": "verified", "onboarded_at": T0 - timedelta(days=400), "updated_at": T0}
        return {**row, **changes}

    def account(self, account_id: str, customer_id: str, **changes) -> dict:
        row = {"account_id": account_id, "customer_id": customer_id, "account_type": "checking", "currency": "USD",
               "status": "active", "branch_country": "US", "opened_at": T0 - timedelta(days=300), "updated_at": T0}
        return {**row, **changes}

    def transaction(self, transaction_id: str, booked_at: datetime, originator: str, beneficiary: str,
                    amount: str = "1250.00", **changes) -> dict:
        f = self.fake
        row = {"transaction_id": transaction_id, "booked_at": booked_at, "originator_account_id": originator,
               "originator_name": f.name(), "originator_country": "US", "beneficiary_account_id": beneficiary,
               "beneficiary_name": f.name(), "beneficiary_country": "GB", "amount": Decimal(amount),
               "currency": "USD", "amount_base": Decimal(amount), "transaction_type": "wire", "channel": "online",
               "ip_address": f.ipv4_public(), "device_id": f"dev-{f.uuid4()[:8]}", "memo": f.sentence(nb_words=4),
               "status": "booked", "updated_at": booked_at}
        return {**row, **changes}


def change(row: dict, op: str, commit_ts: datetime) -> dict:
    return {**row, "Op": op, "dms_commit_ts": commit_ts}


def delete(table: str, key: str, commit_ts: datetime) -> dict:
    """DMS deletes may carry only the primary key."""
    return {SOURCE_TABLES[table].primary_key: key, "Op": "D", "dms_commit_ts": commit_ts}


@dataclass
class Zones:
    raw: RawZone
    curated: Path
    quarantine: Path

    def run(self, spark, now: datetime = NOW) -> dict:
        return run_curation(spark, str(self.raw.root), str(self.curated), str(self.quarantine), key_from_env(),
                            now=now)


@lru_cache(maxsize=1)
def published_reference() -> Path:
    """The reference datasets, built from their sources and published once per test session
    (seconds) to a folder of their own."""
    root = Path(tempfile.mkdtemp(prefix="aml-glue-tests-reference-"))
    publish.to_directory(root)
    return root / reference.PREFIX


def publish_reference(curated: Path, objects: dict[str, bytes] | None = None) -> None:
    """What `aml reference publish` puts in a curated zone, then `objects` (key -> bytes, e.g.
    one dataset built with `reference.encode`) over it."""
    shutil.copytree(published_reference(), curated / reference.PREFIX, dirs_exist_ok=True)
    for key, body in (objects or {}).items():
        (curated / key).write_bytes(body)


def make_zones(root: Path, reference: bool = True) -> Zones:
    zones = Zones(RawZone(root / "raw"), root / "curated", root / "raw" / "quarantine")
    if reference:
        publish_reference(zones.curated)
    return zones
