"""The PostgreSQL side: connections, preflight checks, the logical replication slot and the
consistent full-load snapshot. psycopg 3 has no streaming replication protocol, so changes are
read through the SQL interface: peek a bounded batch, then advance the slot once the batch is
durably written downstream (a crash in between only re-reads the same batch)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql
from psycopg.adapt import Loader
from psycopg.pq import Format

from aml.errors import AmlError
from aml.replicate.columns import PgDatetime
from aml.replicate.decoding import DECODING_OPTIONS, PLUGIN
from aml_contract import dms, schema

log = logging.getLogger(__name__)
FLUSH_WAIT_SECONDS = 10
APPLICATION_NAME = "aml-replicate"  # pg_stat_activity shows which sessions are replicators


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _lenient(pg_type: str) -> type:
    """psycopg's loader for a date/time type, keeping what Python cannot hold as a PgDatetime
    instead of raising DataError (infinity, BC, years past 9999: PostgreSQL accepts them all).
    It wraps the loader psycopg registered (the C one of psycopg-binary: C loaders cannot be
    subclassed, and the pure-Python ones cost a full load several times over)."""
    oid = psycopg.postgres.types[pg_type].oid
    fast = psycopg.adapters.get_loader(oid, Format.TEXT)

    class Lenient(Loader):
        def __init__(self, oid: int, context=None):
            super().__init__(oid, context)
            self._fast = fast(oid, context)

        def load(self, data):
            try:
                return self._fast.load(data)
            except psycopg.DataError:
                return PgDatetime(bytes(data).decode())
    return Lenient


_DATETIME_LOADERS = {pg_type: _lenient(pg_type) for pg_type in ("timestamptz", "timestamp", "date")}


def connect(url: str) -> psycopg.Connection:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else err.__class__.__name__
        raise AmlError(f"PostgreSQL at {redact(url)} is not reachable: {reason}",
                       "start it with `aml local up`, or pass the right --db-url") from None
    for pg_type, loader in _DATETIME_LOADERS.items():
        conn.adapters.register_loader(pg_type, loader)
    # Decoded values are printed with the decoding session's settings: pin them.
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("SET extra_float_digits = 3")
    return conn


def check_wal_level(conn: psycopg.Connection) -> None:
    level = conn.execute("SHOW wal_level").fetchone()[0]
    if level != "logical":
        raise AmlError(f"PostgreSQL runs with wal_level={level}, but change data capture needs wal_level=logical",
                       "set wal_level = logical in postgresql.conf (rds.logical_replication = 1 on Aurora) "
                       "and restart the server; `aml local up` starts it that way")


def check_replicable_keys(conn: psycopg.Connection) -> None:
    """Refuse a source whose primary keys DMS would treat as LOBs (text, unbounded varchar, ...):
    DMS does not replicate such a table at all, so it must fail here, not silently on AWS."""
    keys = conn.execute(
        "SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length "
        "FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema "
        "  AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name "
        "JOIN information_schema.columns c ON c.table_schema = tc.table_schema "
        "  AND c.table_name = tc.table_name AND c.column_name = k.column_name "
        "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = %s AND tc.table_name = ANY(%s) "
        "ORDER BY c.table_name, k.ordinal_position",
        (schema.SOURCE_SCHEMA, list(schema.SOURCE_TABLES))).fetchall()
    problems = dms.lob_key_problems(keys)
    if problems:
        raise AmlError("; ".join(problems),
                       f"declare the key column as varchar(n) (the contract's DDL uses varchar({schema.ID_LENGTH})), "
                       "e.g. ALTER TABLE ... ALTER COLUMN ... TYPE varchar(64)")


class Slot:
    """One logical replication slot, used by one replicator process at a time."""

    def __init__(self, conn: psycopg.Connection, name: str):
        self.conn = conn
        self.name = name

    def info(self) -> dict | None:
        row = self.conn.execute(
            "SELECT plugin, database, active, active_pid, restart_lsn::text, confirmed_flush_lsn::text, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, wal_status "
            "FROM pg_replication_slots WHERE slot_name = %s", (self.name,)).fetchone()
        if row is None:
            return None
        keys = ("plugin", "database", "active", "active_pid", "restart_lsn", "confirmed_flush_lsn",
                "pending_wal_bytes", "wal_status")
        return {"slot": self.name, **dict(zip(keys, row, strict=True))}

    def lock(self) -> None:
        """Take the slot for this session, or fail naming who holds it. A session advisory lock
        guards the gaps between SQL decoding calls, when PostgreSQL itself marks the slot idle."""
        key = self._lock_key()
        if not self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            holder = self.conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND ((classid::bigint << 32) | objid::bigint) = %s", (key,)).fetchone()
            raise self._in_use(holder[0] if holder else None)
        info = self.info()
        if info and info["active"]:
            raise self._in_use(info["active_pid"])

    def _lock_key(self) -> int:
        return self.conn.execute("SELECT hashtextextended(%s, 0)", (f"aml.replicate:{self.name}",)).fetchone()[0]

    def _in_use(self, pid: int | None) -> AmlError:
        who = f"process {pid}" if pid else "another process"
        return AmlError(f"replication slot {self.name!r} is in use by {who}",
                        "stop that replicator first, or use another slot name with --slot")

    def check_usable(self, info: dict) -> None:
        database = self.conn.info.dbname
        if info["database"] != database:
            raise AmlError(f"replication slot {self.name!r} belongs to database {info['database']!r}, not {database!r}",
                           "connect to that database, or use another slot name with --slot")
        if info["plugin"] != PLUGIN:
            raise AmlError(f"replication slot {self.name!r} uses the {info['plugin']} plugin, not {PLUGIN}",
                           "drop it with `aml replicate drop-slot`, or use another slot name with --slot")

    def ensure(self) -> bool:
        """Create the slot unless it exists; True when created."""
        info = self.info()
        if info:
            self.check_usable(info)
            return False
        try:
            self.conn.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (self.name, PLUGIN))
        except errors.DuplicateObject:
            return False
        except errors.ObjectNotInPrerequisiteState as err:
            raise AmlError(f"cannot create replication slot {self.name!r}: {err}",
                           "run PostgreSQL with wal_level = logical") from None
        log.info("created replication slot %s (%s)", self.name, PLUGIN)
        return True

    def require(self) -> dict:
        info = self.info()
        if info is None:
            raise AmlError(f"replication slot {self.name!r} does not exist",
                           "run `aml replicate full-load` first: it creates the slot before loading")
        self.check_usable(info)
        return info

    def peek(self, max_changes: int) -> list[tuple[str, str, str]]:
        """Whole transactions from the slot's position, stopping after the transaction in which
        max_changes is reached. Nothing is consumed."""
        query = sql.SQL("SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes(%s, NULL, %s, {})").format(
            sql.SQL(", ").join(sql.Literal(o) for o in DECODING_OPTIONS))
        try:
            return self.conn.execute(query, (self.name, max_changes)).fetchall()
        except errors.ObjectInUse:
            raise self._in_use(None) from None

    def advance(self, lsn: str) -> None:
        self.conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (self.name, lsn))

    def drop(self) -> bool:
        try:
            self.conn.execute("SELECT pg_drop_replication_slot(%s)", (self.name,))
        except errors.UndefinedObject:
            return False
        except errors.ObjectInUse:
            raise self._in_use(None) from None
        return True

    def wait_for_flush(self) -> None:
        """Wait until every WAL record inserted so far is flushed: decoding reads only flushed WAL,
        and with synchronous_commit=off a just-committed change may not be there yet."""
        target = self.conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        deadline = time.monotonic() + FLUSH_WAIT_SECONDS
        while not self.conn.execute("SELECT pg_current_wal_flush_lsn() >= %s", (target,)).fetchone()[0]:
            if time.monotonic() > deadline:
                log.warning("WAL flush did not reach %s within %s s", target, FLUSH_WAIT_SECONDS)
                return
            time.sleep(0.02)


@contextmanager
def snapshot(url: str) -> Iterator[psycopg.Connection]:
    """A read-only REPEATABLE READ transaction: every table is loaded as of one instant."""
    conn = connect(url)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    conn.autocommit = False
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def read_table(conn: psycopg.Connection, table: schema.Table, chunk_rows: int) -> Iterator[list[tuple]]:
    """The table's rows in contract column order, in chunks, through a server-side cursor."""
    query = sql.SQL("SELECT {} FROM {}.{}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names),
        sql.Identifier(schema.SOURCE_SCHEMA), sql.Identifier(table.name))
    with conn.cursor(name=f"aml_load_{table.name}") as cur:
        cur.itersize = chunk_rows
        cur.execute(query)
        while rows := cur.fetchmany(chunk_rows):
            yield rows
