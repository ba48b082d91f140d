"""The AWS emulator as `aml local up` runs it: moto's own server, with emulator-only repairs of
its speed (what moto answers is unchanged, and the forwarding removed belongs to the poller) and
one of its addressing:

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
- Every Query, on the table or on an index, first sorts the whole table by primary key
  (`Table.all_items`), then keeps the items under the queried key and sorts those again. A
  Query on the alerts table's subject index took 255 ms at 4,300 items, and the alert writers
  ask one per new alert. During a Query moto is handed only the candidates: the items under the
  queried partition key (the table's own, or the index's, compared the way moto compares
  them), unsorted. moto still checks and sorts them itself, by a key that includes the primary
  key, so what it answers is unchanged.
- Every DynamoDB request is parsed, and every response serialized, by walking the service model
  member by member for each AttributeValue (ten possible members, each looked up through
  moto's alias pickers on the way out): a BatchGetItem of 100 state items took about 1 s, and
  the rules Lambda's TransactWriteItems as long. An AttributeValue that is a plain dict is
  converted directly into the form that walk produces (the tests compare the two); anything
  else still takes moto's way.
- A Kinesis stream with an event source mapping hands every record put on it to moto's Lambda,
  which tries to run the function in Docker, fails (there is no Docker engine here), and writes
  the error to a new CloudWatch log stream: about 4 ms per record, so the demo's 11,800 CDC
  records took 45 s to put, and the server kept 11,800 log streams. The local runtime's poller
  (aml/stream/poller.py) is the mapping's stand-in and runs the handler itself, so moto's
  forwarding is switched off; the mapping itself is still created, described and listed.
- After every response, werkzeug's server (which moto runs) drains what is left of the request
  from the socket, waiting 10 ms for more (`selector.select(timeout=0.01)` in `run_wsgi`): every
  call to the emulator took at least 10 ms (ListTables, 12 ms a round trip), whatever it did.
  werkzeug then closes the connection, so every call also paid a new TCP connection and a new
  server thread (whose start waits on the GIL). Here a request body of known length, up to
  64 MB, is read whole before moto sees it, so nothing of that request can be left to drain:
  the wait is skipped and the connection is kept alive (HTTP/1.1, one thread per connection,
  closed after 120 s idle). A chunked or larger body is drained and closed as before.
- Every condition expression (each item of a TransactWriteItems carries one) is lexed again,
  character run by character run, with moto's token patterns: about a third of the server's
  DynamoDB time in the rules Lambda's benchmark. Lexing depends on the expression's text only
  (names and values are read later, by the parser), so each text is lexed once and its tokens
  handed out as fresh copies. The parser then rebuilds the condition's tree three times for each
  Put of a TransactWriteItems (the request check, the transaction, the put); the tree depends on
  the text, names and values only and reads the item it judges, so it is built once per three.
- Every stored or projected item checks its size (DynamoDB's 400 KB limit) once per attribute
  by summing every attribute already set: O(attributes^2) per item, a tenth of the server's
  DynamoDB time. The same sum is kept as it grows; an item over the limit fails at the same
  attribute with the same error.
- Every request looks up its service backend through a global lock (`backend_lock`), taken even
  when the account's backend exists; under concurrent requests (the alert writers' lookups run 8
  at a time) threads queue on it. A lookup of an existing, registered backend skips the lock;
  creating one still takes it.
- werkzeug logs a line per request to the server's log, formatting a date and taking the log
  handler's lock each time: a tenth of the server's busy time in the same benchmark, and a log of
  hundreds of thousands of lines after a test run. Only responses of 500 and above (moto's own
  failures) are logged now; the request log comes back with AML_EMULATOR_REQUEST_LOG=1.
- CloudFormation reads a TemplateURL as path-style only when it contains "localhost"; for
  `http://127.0.0.1:PORT/bucket/key`, which the CDK CLI sends when AWS_ENDPOINT_URL names the
  loopback address (it forces path-style S3 for loopback endpoints), it took "127" for the bucket
  and every `cdk deploy` failed with NoSuchBucket. A loopback IP host is read as localhost.

Run as `python -m aml.local.moto_server [moto.server arguments]`.
"""
from __future__ import annotations

import contextlib
import copy
import io
import ipaddress
import json
import os
import selectors
import sys
import threading
from collections import deque
from functools import cache, lru_cache
from types import SimpleNamespace
from urllib.parse import urlparse

from moto import backends
from moto.core.base_backend import BackendDict
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb import models
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.kinesis.models import Shard

_moto_transact_write_items = DynamoDBBackend.transact_write_items
_moto_lex = ConditionExpressionParser._lex_condition_expression
_moto_parse = ConditionExpressionParser.parse
_moto_item_init = Item.__init__
_moto_account_backend = BackendDict._create_account_specific_backend


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


_moto_serialize_structure = BaseJSONSerializer._serialize_type_structure
_moto_parse_structure = BaseJSONParser._parse_structure
_moto_all_items = Table.all_items
_moto_query = Table.query
_query_candidates = threading.local()  # the server answers requests on several threads


def _all_items(self: Table) -> list:
    candidates = getattr(_query_candidates, "items", None)
    return _moto_all_items(self) if candidates is None else candidates


def _items(self: Table) -> list:
    if not self.range_key_attr:
        return list(self.items.values())
    return [item for bucket in self.items.values() for item in bucket.values()]


def _may_match(item, conditions: list) -> bool:
    """False only where moto's own check (DynamoType equality) is false too: a missing attribute,
    another type, or another string. Numbers and binaries are left to moto (1 equals 1.0; a
    binary may be held as bytes or as base64)."""
    for name, expected in conditions:
        value = item.attrs.get(name)
        if value is None or value.type != expected.type or \
                (expected.type == "S" and value.value != expected.value):
            return False
    return True


def _query(self: Table, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name:
        conditions = kwargs.get("hash_key_conditions") or []
        candidates = [item for item in _items(self) if _may_match(item, conditions)]
    else:
        bucket = self.items.get(hash_key) if hash_key is not None else None
        candidates = [] if bucket is None else list(bucket.values()) if self.range_key_attr else [bucket]
    _query_candidates.items = candidates
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _query_candidates.items = None


_SCALARS = {"S": str, "N": str, "NULL": bool, "BOOL": bool}


def _attribute_value(value, blob, strict: bool):
    """An AttributeValue dict converted member by member as moto's model walk converts it: blobs
    through `blob`, the rest as they are. None leaves the value to moto: an unknown member, a
    member of another JSON kind, or (`strict`, the serializer, which would stringify them) a
    scalar or set member of another type."""
    if type(value) is not dict:
        return None
    out = {}
    for name, member in value.items():
        if member is None:  # moto's walk skips members that are None
            continue
        if name in _SCALARS:
            if strict and type(member) is not _SCALARS[name]:
                return None
            out[name] = member
        elif name == "B":
            out[name] = blob(member)
        elif name in ("SS", "NS", "BS") and type(member) is list:
            if name == "BS":
                out[name] = [blob(m) for m in member]
            elif strict and any(type(m) is not str for m in member):
                return None
            else:
                out[name] = list(member)
        elif name == "M" and type(member) is dict:
            out[name] = {key: _attribute_value(inner, blob, strict) for key, inner in member.items()}
            if any(inner is None for inner in out[name].values()):
                return None
        elif name == "L" and type(member) is list:
            out[name] = [_attribute_value(inner, blob, strict) for inner in member]
            if any(inner is None for inner in out[name]):
                return None
        else:
            return None
    return out


def _parse_structure(self, shape, value):
    if shape.name == "AttributeValue" and (parsed := _attribute_value(value, self._blob_parser, False)) is not None:
        return parsed
    return _moto_parse_structure(self, shape, value)


def _serialize_type_structure(self, serialized, value, shape, key) -> None:
    if shape.name == "AttributeValue" and (wire := _attribute_value(value, self._base64, True)) is not None:
        if key:
            self._default_serialize(serialized, wire, shape, key)
        else:
            serialized.update(wire)
        return
    _moto_serialize_structure(self, serialized, value, shape, key)


def _min_sequence_number(self: Shard) -> int:
    return next(iter(self.records), 0)


def _max_sequence_number(self: Shard) -> int:
    return next(reversed(self.records), 0)


@lru_cache(maxsize=4096)
def _lexed(expression: str) -> tuple:
    return tuple(_moto_lex(ConditionExpressionParser(expression, None, None)))


def _lex_condition_expression(self: ConditionExpressionParser) -> deque:
    """moto's tokens of the expression, lexed once per text; each token's children list is new,
    as moto's lexer makes it (a text that does not lex raises each time, uncached)."""
    return deque(node._replace(children=[]) for node in _lexed(self.condition_expression))


PARSED_LIMIT = 4096
_parsed: dict[tuple[str, str, str], tuple] = {}


def _parse_condition(self: ConditionExpressionParser):
    """moto's condition tree, built once per expression, names and values: a TransactWriteItems
    Put has its condition parsed three times (request check, transaction check, put), and the
    tree only reads the item it judges. The names and values found are recorded on this parser,
    as moto's parse records them. Values that are not JSON (binary) and texts that do not parse
    take moto's way each time. No names and empty names are one key (moto's request check passes
    {}, its backend None): a tree built without names references none."""
    try:
        key = (self.condition_expression, json.dumps(self.expression_attribute_names or {}, sort_keys=True),
               json.dumps(self.expression_attribute_values or {}, sort_keys=True))
    except TypeError:
        return _moto_parse(self)
    if (found := _parsed.get(key)) is None:
        op = _moto_parse(self)
        if len(_parsed) >= PARSED_LIMIT:
            _parsed.clear()
        _parsed[key] = (op, tuple(self.expr_attr_names_found), tuple(self.expr_attr_values_found))
        return op
    op, names, values = found
    self.expr_attr_names_found.extend(names)
    self.expr_attr_values_found.extend(values)
    return op


ITEM_SIZE_LIMIT = 405_000  # moto's, "between 409 and 410KB" by its own measurement


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict) -> None:
    """moto's Item.__init__ with the size it sums for each attribute kept as it grows."""
    self.hash_key, self.range_key = hash_key, range_key
    self.attrs, size = LimitedSizeDict(), 0
    for key, value in attrs.items():
        value = DynamoType(value)
        size += bytesize(key) + value.size()
        if size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self.attrs, key, value)


def _account_backend(self: BackendDict, account_id: str) -> None:
    """Without the lock when the account's backend exists and this dict is registered (what
    moto's locked code would find and leave as is); otherwise moto's own, under its lock."""
    if dict.__contains__(self, account_id) and any(known is self for known in BackendDict._instances):
        return
    _moto_account_backend(self, account_id)


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


PREREAD_BYTES = 64 * 1024 * 1024
IDLE_CONNECTION_SECONDS = 120  # a kept-alive connection's thread ends after this long idle
_request = threading.local()  # werkzeug serves each request in a thread of its own


def _body_read_whole(make_environ):
    def read_whole(self) -> dict:
        environ = make_environ(self)
        length = environ.get("CONTENT_LENGTH") or "0"
        _request.body_read = (not environ.get("wsgi.input_terminated") and length.isdigit()
                              and int(length) <= PREREAD_BYTES)
        if _request.body_read:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(int(length)))
        return environ
    read_whole.body_read_whole = True
    return read_whole


class _NothingToDrain:
    """A selector that finds the socket idle: the request's body was read whole."""

    def register(self, *args, **kwargs) -> None:
        """Nothing to watch: the request's body was read before moto saw it."""

    def select(self, timeout: float | None = None) -> list:
        return []

    def close(self) -> None:
        """Nothing was opened."""


class _DrainSelectors(SimpleNamespace):
    """werkzeug.serving's `selectors` module, but for its post-response drain."""

    def DefaultSelector(self):  # noqa: N802 (the module attribute it stands for)
        return _NothingToDrain() if getattr(_request, "body_read", False) else selectors.DefaultSelector()


def _keep_alive(send_header):
    def send(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and getattr(_request, "body_read", False):
            return  # werkzeug closes every connection; this one has nothing left to drain
        send_header(self, keyword, value)
    send.keep_alive = True
    return send


def _request_starts_unread(handle_one_request):
    def handle(self) -> None:
        # A kept-alive thread serves request after request: a request refused before its environ
        # is made (a malformed request line) must not inherit the previous one's "body read".
        _request.body_read = False
        handle_one_request(self)
    return handle


def _patch_request_drain() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug import serving

    if not getattr(MotoRequestHandler.make_environ, "body_read_whole", False):
        MotoRequestHandler.make_environ = _body_read_whole(MotoRequestHandler.make_environ)
        MotoRequestHandler.send_header = _keep_alive(MotoRequestHandler.send_header)
        MotoRequestHandler.handle_one_request = _request_starts_unread(MotoRequestHandler.handle_one_request)
        MotoRequestHandler.timeout = IDLE_CONNECTION_SECONDS
        # A kept-alive connection writes the headers and the body apart: with Nagle's algorithm
        # the body waits for the client's delayed ACK (about 40 ms a response).
        MotoRequestHandler.disable_nagle_algorithm = True
    serving.selectors = _DrainSelectors(**{k: v for k, v in vars(selectors).items()
                                          if not k.startswith("__") and k != "DefaultSelector"})


def _errors_only(log_request):
    def log(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).startswith("5"):
            log_request(self, code, size)
    log.errors_only = True
    return log


def _patch_request_log() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    if os.environ.get("AML_EMULATOR_REQUEST_LOG") != "1" and not getattr(MotoRequestHandler.log_request,
                                                                         "errors_only", False):
        MotoRequestHandler.log_request = _errors_only(MotoRequestHandler.log_request)


def _no_docker_invocation(self, *args, **kwargs) -> None:
    """moto's Kinesis-to-Lambda forwarding, replaced: the poller invokes the handler."""


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
    Table.all_items, Table.query = _all_items, _query
    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure
    BaseJSONParser._parse_structure = _parse_structure
    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression
    ConditionExpressionParser.parse = _parse_condition
    Item.__init__ = _item_init
    BackendDict._create_account_specific_backend = _account_backend
    # The full moto server always has CloudFormation and Lambda; the Lambda's test venv may not.
    with contextlib.suppress(ImportError):
        _patch_cloudformation_template_urls()
    with contextlib.suppress(ImportError):
        from moto.awslambda.models import LambdaBackend

        LambdaBackend.send_kinesis_message = _no_docker_invocation
    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        backends.list_of_moto_modules = cache(lambda listing=backends.list_of_moto_modules: tuple(listing()))


def main(argv: list[str]) -> None:
    apply()
    _patch_request_drain()  # the server's, not moto's: apply() also runs in-process (tests, the Lambda venv)
    _patch_request_log()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
