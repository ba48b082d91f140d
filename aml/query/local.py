"""The local stand-in for Athena: DuckDB over the curated Parquet layout.

The named query's rendered Trino text is transpiled with sqlglot and run with its `?`
parameters bound, over one view per curated table (`DATA_DIR/<table>/**/*.parquet`, hive
partitions for `dt` typed as strings like the Glue catalog's). Bytes scanned come from DuckDB's
profiler, summed over every Parquet scan, so partition pruning shows as it does in Athena's bill.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from aml.errors import AmlError
from aml.query.result import QueryResult
from aml_contract import schema
from aml_contract.named_queries import NamedQuery

SOURCE_DIALECT = "athena"


def transpile(sql: str) -> str:
    """Athena (Trino) SQL -> DuckDB SQL."""
    statements = sqlglot.transpile(sql, read=SOURCE_DIALECT, write="duckdb")
    if len(statements) != 1:
        raise AmlError(f"a named query must hold one statement, found {len(statements)}")
    return statements[0]


def referenced_tables(sql: str) -> set[str]:
    """Tables a query reads (CTE names excluded)."""
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}


def available_tables(data_dir: Path) -> dict[str, str]:
    """Curated table -> Parquet glob, for the tables present in data_dir."""
    if not data_dir.is_dir():
        raise AmlError(f"data directory {data_dir} does not exist",
                       "pass --data-dir DIR holding one folder per curated table (transactions/dt=.../*.parquet)")
    found = {}
    for table in schema.CURATED_TABLES:
        if any((data_dir / table).glob("**/*.parquet")):
            found[table] = (data_dir / table / "**" / "*.parquet").as_posix()
    if not found:
        raise AmlError(f"data directory {data_dir} holds no curated tables",
                       f"expected Parquet under {', '.join(f'{t}/' for t in schema.CURATED_TABLES)}")
    return found


def _scan_totals(node: dict) -> tuple[int, int]:
    """(bytes scanned, files read) summed over every table scan of a profile tree."""
    scanned = int(node.get("bytes_scanned") or 0) if node.get("type") == "TABLE_SCAN" else 0
    files = int(node.get("extra_info", {}).get("Total Files Read") or 0)
    for child in node.get("children", []):
        child_scanned, child_files = _scan_totals(child)
        scanned += child_scanned
        files += child_files
    return scanned, files


class LocalEngine:
    name = "local"

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.tables = available_tables(self.data_dir)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")  # booked_at and dt are UTC, as in Athena
        for table, pattern in self.tables.items():
            partitioned = table in schema.PARTITIONED_TABLES
            options = (f", hive_partitioning = true, hive_types = {{'{schema.PARTITION_COLUMN}': 'VARCHAR'}}"
                       if partitioned else ", hive_partitioning = false")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}'{options})")
        return con

    def run(self, query: NamedQuery, values: dict[str, str]) -> QueryResult:
        missing = sorted(referenced_tables(query.sql) - set(self.tables))
        if missing:
            raise AmlError(f"query {query.name} reads table(s) {', '.join(missing)}, missing from {self.data_dir}",
                           "write the curated zone there first (Glue job or `aml generate`)")
        sql = transpile(query.sql)
        con = self._connect()
        with tempfile.TemporaryDirectory() as tmp:
            profile = Path(tmp) / "profile.json"
            con.execute("PRAGMA enable_profiling = 'json'")
            con.execute(f"PRAGMA profiling_output = '{profile.as_posix()}'")
            started = time.perf_counter()
            try:
                frame = con.execute(sql, query.bind_order(values)).df()
            except duckdb.Error as err:
                raise AmlError(f"query {query.name} failed on DuckDB: {str(err).splitlines()[0]}") from err
            elapsed = time.perf_counter() - started
            con.execute("PRAGMA disable_profiling")
            tree = json.loads(profile.read_text())
        con.close()
        scanned, files = _scan_totals({"children": tree.get("operator", tree.get("children", []))})
        return QueryResult(query.name, self.name, frame, scanned, elapsed, files)
