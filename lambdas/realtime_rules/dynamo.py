"""Bulk DynamoDB reads and conditional writes: the calls of a batch grow with its items / 100.

Reads are BatchGetItem of 100 keys (unprocessed keys retried with back-off). Writes are
TransactWriteItems of up to 100 operations, each with its own condition. A transaction is used
for batching, not atomicity: when some items' conditions fail, DynamoDB cancels the whole
transaction and says which items failed and why; the others are resubmitted without them. So
every item ends written, rejected by its condition (with the stored item when asked for), or
failed with a transient error, independently of its neighbours.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

GET_LIMIT = 100  # keys per BatchGetItem
TRANSACT_LIMIT = 100  # operations per TransactWriteItems
TRANSACT_BYTES = 3_500_000  # under the 4 MB request limit, with room for the envelope and estimates
UNPROCESSED_RETRIES = 4
REJECTED = {"ConditionalCheckFailed", "TransactionConflict"}  # another writer got there first


class DynamoUnavailable(Exception):
    """DynamoDB did not answer (throttling, timeout): the affected records must be retried."""


def query_all(ddb, table: str, index: dict[str, str], partition: str, sort: str) -> list[dict]:
    """Every item of a global secondary index (aml_contract.names: name, partition and sort key
    attributes) under one partition and sort key value, page after page."""
    items, start = [], {}
    while True:
        page = ddb.query(TableName=table, IndexName=index["name"], KeyConditionExpression="#p = :p AND #s = :s",
                         ExpressionAttributeNames={"#p": index["partition"], "#s": index["sort"]},
                         ExpressionAttributeValues={":p": {"S": partition}, ":s": {"S": sort}}, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def get_all(ddb, table: str, keys: list[dict], map_=map, attributes: list[str] | None = None) -> list[dict]:
    """Every stored item of `keys` (consistent reads), only `attributes` of each if named.
    Raises DynamoUnavailable."""
    chunks = [keys[start:start + GET_LIMIT] for start in range(0, len(keys), GET_LIMIT)]
    projection = {}
    if attributes:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    return [item for found in map_(lambda chunk: _get_chunk(ddb, table, chunk, projection), chunks)
            for item in found]


def _get_chunk(ddb, table: str, keys: list[dict], projection: dict) -> list[dict]:
    found: list[dict] = []
    request = {table: {"Keys": keys, "ConsistentRead": True, **projection}}
    for attempt in range(UNPROCESSED_RETRIES + 1):
        try:
            response = ddb.batch_get_item(RequestItems=request)
        except (ClientError, BotoCoreError) as err:
            raise DynamoUnavailable(f"BatchGetItem: {err}") from err
        found += response.get("Responses", {}).get(table, [])
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.05 * 2 ** attempt)  # unprocessed keys mean throttling: back off
    raise DynamoUnavailable("BatchGetItem left keys unprocessed after retries")


@dataclass
class WriteOutcome:
    """Per operation index: written, rejected by its condition (stored item or None), or failed."""

    written: set[int] = field(default_factory=set)
    rejected: dict[int, dict | None] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def write_all(ddb, operations: Iterable[dict], map_=map) -> WriteOutcome:
    """Apply TransactWriteItems operations ({"Put": ...}, {"Update": ...}) in bulk; see the module doc.
    Outcomes are by position in `operations`. An iterator is consumed as the chunks are formed: with
    an executor's map (which submits each chunk as it comes), the first chunks are being written
    while the caller still produces the rest."""
    listed: list[dict] = []
    outcome = WriteOutcome()
    for part in map_(lambda chunk: _write_chunk(ddb, listed, chunk), _chunks(operations, listed)):
        outcome.written |= part.written
        outcome.rejected.update(part.rejected)
        outcome.failed.update(part.failed)
    return outcome


def _chunks(operations: Iterable[dict], listed: list[dict]) -> Iterable[list[int]]:
    """Indexes into `listed`, where each operation is appended before its chunk is yielded; a chunk
    of TRANSACT_LIMIT goes as soon as it is full, not when the next operation arrives."""
    chunk: list[int] = []
    size = 0
    for index, operation in enumerate(operations):
        listed.append(operation)
        item_bytes = _approximate_bytes(operation)
        if chunk and size + item_bytes > TRANSACT_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(index)
        size += item_bytes
        if len(chunk) == TRANSACT_LIMIT:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _approximate_bytes(operation: dict) -> int:
    """A request's share of the 4 MB limit: strings and numbers by length (cheap: a batch has
    thousands), other values serialised; the allowance covers the expressions and keys."""
    request = next(iter(operation.values()))
    values = (request.get("Item") or request.get("Key") or {}).items()
    return 512 + sum(len(name) + (len(value["S"]) if "S" in value else len(value["N"]) if "N" in value
                                  else len(json.dumps(value))) for name, value in values)


def _write_chunk(ddb, operations: list[dict], pending: list[int]) -> WriteOutcome:
    outcome = WriteOutcome()
    while pending:
        try:
            ddb.transact_write_items(TransactItems=[operations[i] for i in pending])
        except ClientError as err:
            reasons = err.response.get("CancellationReasons")
            if err.response["Error"]["Code"] != "TransactionCanceledException" or not reasons:
                outcome.failed.update({i: f"TransactWriteItems: {err}" for i in pending})
                return outcome
            retry = []
            for index, reason in zip(pending, reasons, strict=True):
                code = reason.get("Code") or "None"
                if code == "None":  # cancelled only because a neighbour failed
                    retry.append(index)
                elif code in REJECTED:
                    outcome.rejected[index] = reason.get("Item")
                else:
                    outcome.failed[index] = f"TransactWriteItems: {code} {reason.get('Message', '')}".strip()
            if len(retry) == len(pending):  # cancelled without a reason: do not loop
                outcome.failed.update({i: "TransactWriteItems: cancelled without a reason" for i in retry})
                return outcome
            pending = retry
        except BotoCoreError as err:
            outcome.failed.update({i: f"TransactWriteItems: {err}" for i in pending})
            return outcome
        else:
            outcome.written.update(pending)
            return outcome
    return outcome
