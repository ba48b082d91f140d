"""Parse the output of PostgreSQL's `test_decoding` plugin (the plugin DMS itself uses on
PostgreSQL sources) into committed transactions of typed row changes.

With the options in DECODING_OPTIONS each transaction arrives as
    BEGIN 781
    table core.transactions: UPDATE: transaction_id[text]:'t1' amount[numeric]:13.00 ...
    COMMIT 781 (at 2024-05-01 10:00:00.238424+00)
String-like values are single-quoted with '' for a quote; numbers, booleans and `null` are bare.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aml.replicate.columns import from_text, parse_timestamp
from aml_contract import schema

log = logging.getLogger(__name__)

PLUGIN = "test_decoding"
DECODING_OPTIONS = ("include-xids", "1", "include-timestamp", "1", "skip-empty-xacts", "1")
OPS = {"INSERT": "I", "UPDATE": "U", "DELETE": "D"}

_BEGIN = re.compile(r"BEGIN (\d+)")
_COMMIT = re.compile(r"COMMIT (\d+) \(at (.+)\)")
_CHANGE = re.compile(r"table ([^.]+)\.([^:]+): (INSERT|UPDATE|DELETE|TRUNCATE): ?(.*)", re.DOTALL)
# One column: name[type]:value, the value quoted ('it''s') or bare (12.50, true, null).
_COLUMN = re.compile(r"\s*(?:(old-key|new-tuple):|([^\[\s]+)\[([^\]]+)\]:('(?:[^']|'')*'|\S+))", re.DOTALL)
_TOAST = "unchanged-toast-datum"


def lsn_to_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class Change:
    table: str
    op: str  # I | U | D
    row: tuple  # values in contract column order; a delete carries the replica identity only
    old_key: str | None = None  # an update that changed the primary key: the key before it


@dataclass
class Transaction:
    xid: int
    commit_lsn: int  # end of the commit record: advancing the slot here consumes the transaction
    commit_ts: datetime | None = None
    changes: list[Change] = field(default_factory=list)


class DecodingError(ValueError):
    """test_decoding output this parser does not understand."""


def split_old_key(text: str) -> tuple[str | None, str]:
    """An update that changed the key prints 'old-key: <key columns> new-tuple: <row>':
    (old key columns, new row). Otherwise (None, text)."""
    if not text.startswith("old-key:"):
        return None, text
    old, _, new = text[len("old-key:"):].partition(" new-tuple:")
    return old, new


def parse_columns(text: str) -> dict[str, tuple[str, str | None]]:
    """'a[text]:'x' b[numeric]:1.5' -> {name: (pg type, unquoted text or None)}; for an update
    that changed the key (old-key: ... new-tuple: ...) only the new tuple is kept."""
    columns: dict[str, tuple[str, str | None]] = {}
    pos = 0
    while pos < len(text):
        match = _COLUMN.match(text, pos)
        if not match:
            raise DecodingError(f"unparsable column data at {text[pos:pos + 60]!r}")
        pos = match.end()
        marker, name, pg_type, raw = match.groups()
        if marker:
            if marker == "new-tuple":
                columns.clear()
            continue
        if raw == "null":
            value = None
        elif raw.startswith("'"):
            value = raw[1:-1].replace("''", "'")
        else:
            value = raw
        columns[name] = (pg_type, value)
    return columns


def _row(table: schema.Table, columns: dict[str, tuple[str, str | None]]) -> tuple:
    values = []
    for col in table.columns:
        _, text = columns.get(col.name, ("", None))
        if text == _TOAST:
            # Only REPLICA IDENTITY FULL carries unchanged TOASTed values; DMS has the same limit.
            log.warning("%s.%s: unchanged TOAST value replicated as null (set REPLICA IDENTITY FULL)",
                        table.name, col.name)
            text = None
        values.append(from_text(col.type, text))
    return tuple(values)


def parse(rows: Iterable[tuple[str, str, str]]) -> list[Transaction]:
    """(lsn, xid, data) rows of pg_logical_slot_peek_changes -> complete transactions, in commit
    order. Changes of tables outside the contract are dropped, but their transactions are kept
    so the slot can advance past them."""
    done: list[Transaction] = []
    current: Transaction | None = None
    for lsn, _xid, data in rows:
        if match := _BEGIN.fullmatch(data):
            current = Transaction(xid=int(match.group(1)), commit_lsn=0)
        elif match := _COMMIT.fullmatch(data):
            if current is None:
                raise DecodingError(f"COMMIT without BEGIN at {lsn}")
            current.commit_lsn = lsn_to_int(lsn)
            current.commit_ts = parse_timestamp(match.group(2))
            done.append(current)
            current = None
        elif match := _CHANGE.fullmatch(data):
            if current is None:
                raise DecodingError(f"change outside a transaction at {lsn}")
            change = _change(*match.groups())
            if change:
                current.changes.append(change)
        else:
            raise DecodingError(f"unexpected decoder output at {lsn}: {data[:80]!r}")
    return done


def _change(schema_name: str, table_name: str, action: str, rest: str) -> Change | None:
    table = schema.SOURCE_TABLES.get(table_name) if schema_name == schema.SOURCE_SCHEMA else None
    if table is None:
        return None
    if action == "TRUNCATE":
        # DMS does not replicate TRUNCATE from PostgreSQL either: say so rather than drop it quietly.
        log.warning("TRUNCATE of %s.%s is not replicated", schema_name, table_name)
        return None
    if rest == "(no-tuple-data)":
        log.warning("%s on %s.%s without replica identity data skipped", action, schema_name, table_name)
        return None
    old, new = split_old_key(rest)
    old_key = parse_columns(old).get(table.primary_key, ("", None))[1] if old else None
    return Change(table_name, OPS[action], _row(table, parse_columns(new)), old_key)
