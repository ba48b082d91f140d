"""Compare the live keys of each source table with the curated zone's.

Keys are compared in the curated zone's form: transaction ids as they are, account and customer
ids as their pseudonyms (the same keyed HMAC the Glue job applies), so the report names no
identifier the curated zone does not already hold.

- missing: live in the source, neither curated nor quarantined. Replication or curation lag
  looks like this too: reconcile after the job has caught up with the source.
- extra: curated, but no longer in the source. The signature of a key change DMS ignored (the old
  key stays live), or of a delete that never arrived.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow.dataset as ds
from psycopg import sql

from aml_contract import schema
from aml_contract.pseudonym import pseudonymise

EXAMPLES = 10  # keys named per table and kind in the report


@dataclass(frozen=True)
class TableReport:
    table: str
    source: int
    curated: int
    quarantined: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra

    def as_dict(self) -> dict:
        return {"source": self.source, "curated": self.curated, "quarantined": self.quarantined,
                "missing": len(self.missing), "extra": len(self.extra),
                "missing_examples": sorted(self.missing)[:EXAMPLES], "extra_examples": sorted(self.extra)[:EXAMPLES]}


@dataclass(frozen=True)
class Report:
    tables: dict[str, TableReport]

    @property
    def clean(self) -> bool:
        return all(t.clean for t in self.tables.values())

    def as_dict(self) -> dict:
        return {"clean": self.clean, "tables": {name: t.as_dict() for name, t in self.tables.items()}}


def _in_curated_form(table: schema.Table, ids: set[str], key: bytes) -> set[str]:
    """Source ids as the curated zone holds them: pseudonymised where the contract says so."""
    if table.column(table.primary_key).pii is not schema.Pii.PSEUDONYMISE:
        return ids
    return {pseudonymise(i, key) for i in ids}


def _source_keys(conn: psycopg.Connection, table: schema.Table) -> set[str]:
    query = sql.SQL("SELECT {} FROM {}.{}").format(sql.Identifier(table.primary_key),
                                                  sql.Identifier(schema.SOURCE_SCHEMA), sql.Identifier(table.name))
    return {row[0] for row in conn.execute(query)}


def _parquet_column(folder: Path, column: str) -> list:
    if not folder.exists():
        return []
    dataset = ds.dataset(folder, format="parquet", partitioning="hive")
    if column not in dataset.schema.names:
        return []
    return dataset.to_table(columns=[column]).column(column).to_pylist()


def reconcile(db_url: str, curated_dir: Path, quarantine_dir: Path | None, key: bytes) -> Report:
    """Every source table's live keys against the curated zone (and the quarantine, which holds
    the refused rows with their original ids)."""
    tables = {}
    with psycopg.connect(db_url) as conn:
        for table in schema.SOURCE_TABLES.values():
            source = _in_curated_form(table, _source_keys(conn, table), key)
            curated_name = table.column(table.primary_key).curated_name
            curated = {k for k in _parquet_column(curated_dir / table.name, curated_name) if k}
            refused = {k for k in _parquet_column(quarantine_dir / table.name, table.primary_key) if k} \
                if quarantine_dir else set()
            refused = _in_curated_form(table, refused, key)
            tables[table.name] = TableReport(
                table.name, len(source), len(curated), len(refused & source),
                missing=sorted(source - curated - refused), extra=sorted(curated - source))
    return Report(tables)
