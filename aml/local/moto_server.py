"""The AWS emulator as `aml local up` runs it: moto's own server, with three emulator-only repairs
of its speed (what moto answers is unchanged) and one of its addressing:

- TransactWriteItems deep-copies the whole table once per item before it starts, so it can roll
  back: O(items x table size). On a rule-state table of 10,000 accounts a 100-item transaction
  takes about 20 s, where DynamoDB answers in milliseconds. Here moto's code and its rollback stay,
  but only the items the transaction touches are kept aside; a cancelled transaction still leaves
  every item as it was (tests/unit/test_moto_server.py).
- Every request lists moto's package directory (a few hundred stat calls, under a lock) to find
  its backend; the list cannot change while the server runs, so it is read once.
- Every Kinesis put copies the shard's whole list of sequence numbers to find the last one
  (`list(records.keys())[-1]`): O(records in the shard) per put, so putting n records costs
  O(n^2). `aml evaluate` puts every transaction of a dataset (100,000 and more); with 125,000
  records in a shard, 90% of the server's time went there. The first and last keys of the
  shard's ordered dict are read directly instead.
- CloudFormation reads a TemplateURL as path-style only when it contains "localhost"; for
  `http://127.0.0.1:PORT/bucket/key`, which the CDK CLI sends when AWS_ENDPOINT_URL names the
  loopback address (it forces path-style S3 for loopback endpoints), it took "127" for the bucket
  and every `cdk deploy` failed with NoSuchBucket. A loopback IP host is read as localhost.

Run as `python -m aml.local.moto_server [moto.server arguments]`.
"""
from __future__ import annotations

import contextlib
import copy
import ipaddress
import sys
from functools import cache
from types import SimpleNamespace
from urllib.parse import urlparse

from moto import backends
from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.kinesis.models import Shard

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
        current = table.get_item(hash_key, range_key)
        # Put and Delete replace or remove the stored Item object; only Update changes it in place.
        snapshots.append((table, hash_key, range_key, copy.deepcopy(current) if "Update" in entry else current))
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


def _min_sequence_number(self: Shard) -> int:
    return next(iter(self.records), 0)


def _max_sequence_number(self: Shard) -> int:
    return next(reversed(self.records), 0)


def _is_loopback_ip(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _loopback_as_localhost(template_url: str) -> str:
    parts = urlparse(template_url)
    if not _is_loopback_ip(parts.hostname):
        return template_url
    return parts._replace(netloc=f"localhost:{parts.port}" if parts.port else "localhost").geturl()


def _patch_cloudformation_template_urls() -> None:
    # Imported here: moto's CloudFormation loads every service it can deploy, whose extras the
    # rules Lambda's test venv (which imports this module for the DynamoDB repair) does not have.
    from moto.cloudformation import responses

    moto_get = responses.get_stack_from_s3_url
    if getattr(moto_get, "loopback_as_localhost", False):
        return

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        return moto_get(_loopback_as_localhost(template_url), account_id=account_id, partition=partition)

    get_stack_from_s3_url.loopback_as_localhost = True
    responses.get_stack_from_s3_url = get_stack_from_s3_url


def apply() -> None:
    """Idempotent; affects this process's moto only."""
    Shard.get_min_sequence_number = _min_sequence_number
    Shard.get_max_sequence_number = _max_sequence_number
    models.copy = SimpleNamespace(deepcopy=_deepcopy_except_tables)
    DynamoDBBackend.transact_write_items = _transact_write_items
    with contextlib.suppress(ImportError):  # the full moto server always has it
        _patch_cloudformation_template_urls()
    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        backends.list_of_moto_modules = cache(lambda listing=backends.list_of_moto_modules: tuple(listing()))


def main(argv: list[str]) -> None:
    apply()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
