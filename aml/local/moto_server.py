"""The AWS emulator as `aml local up` runs it: moto's own server, with one emulator-only repair.

moto's TransactWriteItems deep-copies the whole table once per item before it starts, so it can
roll back: O(items x table size). On a rule-state table of 10,000 accounts a 100-item transaction
takes about 20 s, where DynamoDB answers in milliseconds. `apply()` keeps moto's code and its
rollback but snapshots only the items the transaction touches; a cancelled transaction still
leaves every item as it was (tests/unit/test_moto_server.py). Nothing else of moto changes.

Run as `python -m aml.local.moto_server [moto.server arguments]`.
"""
from __future__ import annotations

import copy
import sys
from types import SimpleNamespace

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _deepcopy_except_tables(value, memo=None):
    """moto's per-item table copy becomes the table itself; the rollback below restores items."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict]) -> None:
    snapshots = []
    for entry in transact_items:
        op = next(iter(entry.values()), {})
        table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        attrs = (op.get("Item") or op.get("Key") or {}) if table else {}
        if table is None or table.hash_key_attr not in attrs or \
                (table.range_key_attr and table.range_key_attr not in attrs):
            continue  # moto rejects this entry before it writes anything
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        snapshots.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(snapshots):
            _restore(table, hash_key, range_key, item)
        raise


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    bucket = table.items[hash_key]
    if item is None:
        bucket.pop(range_key, None)
        if not bucket:
            table.items.pop(hash_key, None)
    else:
        bucket[range_key] = item


def apply() -> None:
    """Idempotent; affects this process's moto only."""
    models.copy = SimpleNamespace(deepcopy=_deepcopy_except_tables)
    DynamoDBBackend.transact_write_items = _transact_write_items


def main(argv: list[str]) -> None:
    apply()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
