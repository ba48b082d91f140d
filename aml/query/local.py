"""The local stand-in for Athena: DuckDB over the curated Parquet layout.

The named query's rendered Trino text is transpiled with sqlglot and run with its `?`
parameters bound, over one view per curated table (`DATA_DIR/<table>/**/*.parquet`, hive
partitions for `dt` typed as strings like the Glue catalog's). The `alerts` table may have no
files yet (no alert was raised): it is then an empty view with the contract's columns, so the
queries that read it return no rows; every other table a query reads must be present.

The reference datasets (aml_contract.reference: `currencies`, `fx_rates`, `fatf_lists`) are views
too, over `DATA_DIR/reference/<dataset>/*.jsonl.gz` as published into the curated zone, typed
column by column from `reference.COLUMNS` (as the Glue tables are): never inferred from the rows,
and never reading the `_manifest.json` beside them. So are the datasets the Glue job derives from
the curated zone (`reference.DERIVED_DATASETS`: `segment_amounts` under `statistics/`); those
appear only after a curation run, so until then each is an empty view with the contract's
columns, and the queries joining it apply their absolute floors (aml_contract.segments; the run's
summary says so).

Two byte figures, both from DuckDB's profile of the run:
- bytes scanned: the column chunks DuckDB read (projected and filter columns), summed over every
  Parquet scan. Besides partition pruning it includes row groups skipped by min-max statistics
  (a day without any amount above a threshold is skipped without reading its other columns), so
  it depends on the values in the data, not only on the window.
- bytes in the partitions read: for every file left after partition pruning (DuckDB's own `File
  Filters`, re-evaluated on the file paths and checked against its file count), its footer plus
  the column chunks of every row group for the columns the scan needs. This is what partition
  pruning leaves to scan, what Athena reads for Parquet when statistics skip nothing, and an
  upper bound of bytes scanned.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from aml.errors import AmlError
from aml.query.result import QueryResult
from aml_contract import reference, schema
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
        from aml.query.run import DATA_DIR_ENV, data_dir_candidates

        looked = ", ".join(str(c) for c in data_dir_candidates())
        raise AmlError(f"data directory {data_dir} does not exist",
                       f"pass --data-dir DIR (or set {DATA_DIR_ENV}) holding one folder per curated table "
                       f"(transactions/dt=.../*.parquet); without it these are tried: {looked}; "
                       "`make demo` writes out/demo/work/curated")
    found = {}
    for table in schema.CURATED_TABLES:
        if any((data_dir / table).glob("**/*.parquet")):
            found[table] = (data_dir / table / "**" / "*.parquet").as_posix()
    if not found:
        raise AmlError(f"data directory {data_dir} holds no curated tables",
                       f"expected Parquet under {', '.join(f'{t}/' for t in schema.CURATED_TABLES)}")
    return found


def available_reference(data_dir: Path) -> dict[str, str]:
    """Reference dataset -> JSON Lines glob, for the datasets (derived ones included) published
    under data_dir."""
    found = {}
    for dataset in (*reference.DATASETS, *reference.DERIVED_DATASETS):
        folder = data_dir / reference.table_prefix(dataset)
        if any(folder.glob("*.jsonl.gz")):
            found[dataset] = (folder / "*.jsonl.gz").as_posix()
    return found


# Logical type (aml_contract.schema, aml_contract.reference.COLUMNS) -> DuckDB type, for the curated
# tables and the reference datasets alike.
_DUCKDB_TYPES = {schema.STRING: "VARCHAR", schema.INT: "INTEGER", schema.BOOLEAN: "BOOLEAN", schema.DATE: "DATE",
                 schema.TIMESTAMP: "TIMESTAMP WITH TIME ZONE", "array<string>": "VARCHAR[]",
                 schema.DECIMAL: f"DECIMAL({schema.DECIMAL_PRECISION},{schema.DECIMAL_SCALE})",
                 "decimal_rate": f"DECIMAL({reference.RATE_PRECISION},{reference.RATE_SCALE})"}
OPTIONAL_TABLES = ("alerts",)  # written by the rules engine only when an alert is raised


def reference_view_sql(dataset: str, pattern: str) -> str:
    """A SELECT of a reference dataset's rows with the contract's column types."""
    columns = ", ".join(f"'{name}': '{_DUCKDB_TYPES[kind]}'" for name, kind in reference.COLUMNS[dataset])
    return f"SELECT * FROM read_json('{pattern}', format = 'newline_delimited', columns = {{{columns}}})"


def _no_rows_sql(columns: list[tuple[str, str]]) -> str:
    typed = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {name}" for name, kind in columns)
    return f"SELECT {typed} WHERE false"


def empty_table_sql(table: str) -> str:
    """A SELECT of no rows with the curated table's columns (and its `dt`, when partitioned)."""
    columns = list(schema.CURATED_TABLES[table])
    if table in schema.PARTITIONED_TABLES:
        columns.append((schema.PARTITION_COLUMN, schema.STRING))
    return _no_rows_sql(columns)


def empty_reference_sql(dataset: str) -> str:
    """A SELECT of no rows with a reference dataset's columns: a derived dataset not published yet."""
    return _no_rows_sql(list(reference.COLUMNS[dataset]))


def _table_scans(node: dict) -> list[dict]:
    """Every TABLE_SCAN node of a profile tree."""
    found = [node] if node.get("type") == "TABLE_SCAN" else []
    for child in node.get("children", []):
        found += _table_scans(child)
    return found


def _filter_columns(filters: str | list[str] | None) -> set[str]:
    """Columns a scan's pushed-down filters read (DuckDB prints them as SQL expressions)."""
    items = [filters] if isinstance(filters, str) else filters or []
    columns = set()
    for item in items:
        text = item.removeprefix("optional:").strip()
        columns |= {c.name for c in sqlglot.parse_one(text, read="duckdb").find_all(exp.Column)}
    return columns


def _partition_values(path: Path, root: Path) -> dict[str, str]:
    return dict(part.split("=", 1) for part in path.relative_to(root).parent.parts if "=" in part)


def _athena_types(frame: pd.DataFrame, description) -> pd.DataFrame:
    """Result columns typed as Athena types them: DuckDB sums integers (a sum of counts) into a
    HUGEINT, which pandas receives as float64 (4.0); Trino's SUM(BIGINT) is a BIGINT
    (https://trino.io/docs/current/functions/aggregate.html#sum)."""
    for name, kind, *_ in description:
        if str(kind) == "HUGEINT":
            frame[name] = frame[name].astype("Int64" if frame[name].isna().any() else "int64")
    return frame


class LocalEngine:
    name = "local"

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.tables = available_tables(self.data_dir)
        self.reference = available_reference(self.data_dir)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")  # booked_at and dt are UTC, as in Athena
        # Trino's from_base(text, radix), which DuckDB lacks, for radix 16 (the key reconciliation's
        # bucket hash, aml_contract.key_reconciliation); any other radix is an error, not a guess.
        con.execute("CREATE MACRO from_base(digits, radix) AS CASE WHEN radix = 16 THEN ('0x' || digits)::BIGINT "
                    "ELSE error('from_base: only radix 16 is supported locally') END")
        for table, pattern in self.tables.items():
            partitioned = table in schema.PARTITIONED_TABLES
            options = (f", hive_partitioning = true, hive_types = {{'{schema.PARTITION_COLUMN}': 'VARCHAR'}}"
                       if partitioned else ", hive_partitioning = false")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}'{options})")
        for table in OPTIONAL_TABLES:
            if table not in self.tables:
                con.execute(f"CREATE VIEW {table} AS {empty_table_sql(table)}")
        for dataset, pattern in self.reference.items():
            con.execute(f"CREATE VIEW {dataset} AS {reference_view_sql(dataset, pattern)}")
        for dataset in reference.DERIVED_DATASETS:
            if dataset not in self.reference:
                con.execute(f"CREATE VIEW {dataset} AS {empty_reference_sql(dataset)}")
        return con

    def _files_in_scope(self, con: duckdb.DuckDBPyConnection, scan: dict) -> tuple[str, list[Path]]:
        """(table, files) a Parquet scan opened: the table's files that pass its partition filters."""
        info = scan.get("extra_info", {})
        names = info.get("Filename(s)") or ""
        first = Path((names if isinstance(names, str) else names[0]).split(", ")[0])
        table = first.relative_to(self.data_dir).parts[0]
        root = self.data_dir / table
        files = sorted(root.glob("**/*.parquet"))
        if info.get("File Filters"):
            listing = pd.DataFrame([{"file": f.as_posix(), **_partition_values(f, root)} for f in files])
            con.register("scan_files", listing)
            kept = {row[0] for row in con.execute(f"SELECT file FROM scan_files WHERE {info['File Filters']}").fetchall()}
            con.unregister("scan_files")
            files = [f for f in files if f.as_posix() in kept]
        return table, files

    def _bytes_in_partitions(self, con: duckdb.DuckDBPyConnection, scans: list[dict]) -> int:
        total = 0
        for scan in scans:
            info = scan.get("extra_info", {})
            read = int(info.get("Total Files Read") or 0)
            if info.get("Function") != "READ_PARQUET" or not read:
                continue
            table, files = self._files_in_scope(con, scan)
            if len(files) != read:
                raise AmlError(f"cannot account for the partitions read: DuckDB read {read} file(s) of {table}, "
                               f"its partition filter {info.get('File Filters')!r} keeps {len(files)}")
            hive = set(_partition_values(files[0], self.data_dir / table))
            columns = sorted((set(info.get("Projections") or []) | _filter_columns(info.get("Filters"))) - hive)
            paths = [f.as_posix() for f in files]
            chunks = con.execute(
                "SELECT COALESCE(SUM(total_compressed_size), 0) FROM parquet_metadata(?) "
                "WHERE split_part(path_in_schema, ', ', 1) IN (SELECT UNNEST(?::VARCHAR[]))",
                [paths, columns]).fetchall()[0][0]
            footers = con.execute("SELECT SUM(footer_size + 8) FROM parquet_file_metadata(?)", [paths]).fetchall()[0][0]
            total += int(chunks) + int(footers)  # footer, its 4-byte length and the PAR1 magic
        return total

    def run(self, query: NamedQuery, values: dict[str, str]) -> QueryResult:
        return self.run_sql(query.name, query.sql, query.bind_order(values))

    def run_sql(self, name: str, text: str, parameters: list) -> QueryResult:
        """Run Athena SQL text (one statement) with one value per `?`, as `name` in messages."""
        tables = referenced_tables(text)
        missing_reference = sorted(tables & set(reference.DATASETS) - set(self.reference))
        if missing_reference:
            raise AmlError(f"query {name} reads reference data {', '.join(missing_reference)}, not published "
                           f"under {self.data_dir / reference.PREFIX}",
                           f"publish it there: `aml reference build --out {self.data_dir}`")
        missing = sorted(tables - set(self.tables) - set(OPTIONAL_TABLES) - set(reference.DATASETS)
                         - set(reference.DERIVED_DATASETS))
        if missing:
            raise AmlError(f"query {name} reads table(s) {', '.join(missing)}, missing from {self.data_dir}",
                           "write the curated zone there first (Glue job or `aml generate`)")
        notes = tuple(f"{d} not published under {self.data_dir / reference.table_prefix(d)}: absolute USD floors"
                      for d in sorted(tables & set(reference.DERIVED_DATASETS) - set(self.reference)))
        sql = transpile(text)
        con = self._connect()
        with tempfile.TemporaryDirectory() as tmp:
            profile = Path(tmp) / "profile.json"
            con.execute("PRAGMA enable_profiling = 'json'")
            con.execute(f"PRAGMA profiling_output = '{profile.as_posix()}'")
            started = time.perf_counter()
            try:
                cursor = con.execute(sql, parameters)
                frame = _athena_types(cursor.df(), cursor.description)
            except duckdb.Error as err:
                raise AmlError(f"query {name} failed on DuckDB: {str(err).splitlines()[0]}") from err
            elapsed = time.perf_counter() - started
            con.execute("PRAGMA disable_profiling")
            tree = json.loads(profile.read_text())
        scans = _table_scans({"children": tree.get("operator", tree.get("children", []))})
        in_partitions = self._bytes_in_partitions(con, scans)
        con.close()
        parquet = [s for s in scans if s.get("extra_info", {}).get("Function") == "READ_PARQUET"]
        return QueryResult(
            name, self.name, frame,
            bytes_scanned=sum(int(s.get("bytes_scanned") or 0) for s in parquet),
            elapsed_seconds=elapsed,
            files_scanned=sum(int(s["extra_info"].get("Total Files Read") or 0) for s in parquet),
            bytes_in_partitions=in_partitions,
            row_groups=(sum(int(s.get("row_groups_scanned") or 0) for s in parquet),
                        sum(int(s.get("total_row_groups_to_scan") or 0) for s in parquet)),
            notes=notes)
