"""Writers: Parquet files (atomically, via a temporary directory) and a PostgreSQL load through
the contract DDL with COPY, in one transaction."""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aml.arrow_types import source_schema
from aml.errors import AmlError
from aml.generate import labels
from aml.generate.bank import Bank
from aml_contract.schema import SOURCE_SCHEMA, SOURCE_TABLES, postgres_ddl

FILES = ("customers", "accounts", "transactions", "labels")


def arrow_schema(table: str) -> pa.Schema:
    if table == "labels":
        return labels.ARROW_SCHEMA
    return source_schema(SOURCE_TABLES[table])


def to_arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    schema = arrow_schema(table)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False).replace_schema_metadata(None)


def write_parquet(bank: Bank, out_dir: str | Path) -> dict[str, Path]:
    """Write <out_dir>/{customers,accounts,transactions,labels}.parquet; returns table -> path.
    Files are written into a temporary sibling directory first, then moved into place, so a
    failure never leaves a partial file behind."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AmlError(f"--out {out} exists and is not a directory", "choose a directory path")
    for name in FILES:  # checked up front: replacing the files must not stop half way
        target = out / f"{name}.parquet"
        if target.exists() and not target.is_file():
            raise AmlError(f"cannot write to {out}: {target} exists and is not a file", "remove it or choose "
                           "another directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary directory
    except OSError as err:
        raise AmlError(f"cannot write to {out}: {err.strerror}", "choose a writable directory") from None
    try:
        for name, frame in bank.tables().items():
            pq.write_table(to_arrow(frame, name), staging / f"{name}.parquet", compression="snappy")
        if out.exists():
            for name in FILES:
                os.replace(staging / f"{name}.parquet", out / f"{name}.parquet")
            staging.rmdir()
        else:
            os.rename(staging, out)
    except OSError as err:
        raise AmlError(f"cannot write to {out}: {err.strerror}", "choose a writable directory") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: out / f"{name}.parquet" for name in FILES}


def connect(db_url: str):
    """A psycopg connection, or one clear error naming the URL."""
    import psycopg

    try:
        return psycopg.connect(db_url, connect_timeout=5)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as err:
        reason = str(err).strip().splitlines()[0].strip() if str(err).strip() else type(err).__name__
        raise AmlError(f"cannot connect to PostgreSQL at {db_url}: {reason}",
                       "start the local server with `aml local up`, or check host, port, database and user "
                       "in --db-url") from None


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, date_format="%Y-%m-%d %H:%M:%S%z")
    return buffer.getvalue()


def load_postgres(bank: Bank, db_url: str, chunk_rows: int = 100_000) -> dict[str, int]:
    """Create schema `core` through the contract DDL and COPY the three source tables into it, all in
    one transaction (nothing is left behind on failure). Returns table -> rows loaded."""
    import psycopg

    counts = {}
    with connect(db_url) as conn:
        try:
            with conn.transaction():
                conn.execute(postgres_ddl())
                for name in SOURCE_TABLES:
                    frame = getattr(bank, name)
                    columns = ", ".join(frame.columns)
                    with conn.cursor().copy(f"COPY {SOURCE_SCHEMA}.{name} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                        for start in range(0, len(frame), chunk_rows):
                            copy.write(_csv(frame.iloc[start:start + chunk_rows]))
                    counts[name] = len(frame)
        except psycopg.errors.UniqueViolation as err:
            raise AmlError(f"{db_url} already holds rows with the same keys ({err.diag.message_primary})",
                           "load into an empty database, or a fresh one") from None
        except psycopg.Error as err:
            raise AmlError(f"loading into {db_url} failed: {str(err).strip().splitlines()[0]}",
                           "nothing was written; check the database and retry") from None
    return counts
