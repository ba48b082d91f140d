"""The emulator repair in aml.local.moto_server keeps TransactWriteItems' all-or-nothing rollback."""

import json
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aml.local import moto_server


@pytest.fixture()
def table(repaired_moto):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    ddb.put_item(TableName="t", Item=_item("kept", 1))
    ddb.put_item(TableName="t", Item=_item("updated", 1))
    yield ddb


def _item(pk: str, version: int) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "s"}, "version": {"N": str(version)}}


def _put(pk: str, version: int, expected: int | None) -> dict:
    condition = {"ConditionExpression": "attribute_not_exists(pk)"} if expected is None else {
        "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(expected)}}}
    return {"Put": {"TableName": "t", "Item": _item(pk, version), **condition}}


def _state(ddb) -> dict:
    return {i["pk"]["S"]: int(i["version"]["N"]) for i in ddb.scan(TableName="t", ConsistentRead=True)["Items"]}


def _update(pk: str, version: int) -> dict:  # moto changes an updated item in place
    return {"Update": {"TableName": "t", "Key": {"pk": {"S": pk}, "sk": {"S": "s"}},
                       "UpdateExpression": "SET version = :v", "ExpressionAttributeValues": {":v": {"N": str(version)}}}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table):
    table.put_item(TableName="t", Item=_item("changed in place", 1))
    items = [_put("new", 1, None), _put("updated", 2, 1), _update("changed in place", 7),
             _put("kept", 5, 4)]  # the last one's condition fails
    with pytest.raises(ClientError) as err:
        table.transact_write_items(TransactItems=items)
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in err.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _state(table) == {"kept": 1, "updated": 1, "changed in place": 1}


def test_a_transaction_that_succeeds_writes_every_item(table):
    table.transact_write_items(TransactItems=[_put("new", 1, None), _put("updated", 2, 1)])
    assert _state(table) == {"kept": 1, "new": 1, "updated": 2}


def test_a_rejected_transaction_changes_nothing(table):
    with pytest.raises(ClientError):  # two operations on one item: moto's own validation error
        table.transact_write_items(TransactItems=[_put("new", 1, None), _put("new", 2, None)])
    assert _state(table) == {"kept": 1, "updated": 1}


def test_the_backend_listing_is_read_once_and_unchanged():
    moto_server.apply()
    moto_server.apply()
    cached = moto_server.backends.list_of_moto_modules
    assert list(cached()) == list(cached.__wrapped__()) and "dynamodb" in cached()  # a fresh listing
    assert cached.cache_info().currsize == 1 and not hasattr(cached.__wrapped__, "cache_info")


@pytest.mark.parametrize("host", ["127.0.0.1:4566", "127.0.0.1", "localhost:4566", "[::1]:4566"])
def test_cloudformation_reads_a_path_style_template_url_on_any_loopback_host(monkeypatch, host):
    """The CDK CLI uploads each template and passes its path-style URL on the endpoint's host."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_server.apply()
    body = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}'
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="cdk-assets")
        s3.put_object(Bucket="cdk-assets", Key="stack.json", Body=body.encode())
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(StackName="s", TemplateURL=f"http://{host}/cdk-assets/stack.json")
        assert cfn.get_template(StackName="s")["TemplateBody"] == {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}


def test_a_virtual_hosted_template_url_is_read_as_before(repaired_moto):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cdk-assets")
    s3.put_object(Bucket="cdk-assets", Key="stack.json", Body=b'{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="v", TemplateURL="https://cdk-assets.s3.us-east-1.amazonaws.com/stack.json")


@pytest.fixture()
def indexed(repaired_moto):
    """A table keyed (pk, sk) with an index on (subject, rule), items written in shuffled order."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "subject", "rule")],
        GlobalSecondaryIndexes=[{"IndexName": "by-subject-rule", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "subject", "KeyType": "HASH"},
                                               {"AttributeName": "rule", "KeyType": "RANGE"}]}])
    for n in (7, 3, 11, 0, 5, 9, 1, 8, 2, 10, 4, 6):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"p{n % 4}"}, "sk": {"S": f"s{n:02d}"},
                                          "subject": {"S": f"a{n % 2}"}, "rule": {"S": f"r{n % 3}"}})
    yield ddb


def _keys(page: dict) -> list[str]:
    return [i["sk"]["S"] for i in page["Items"]]


@pytest.mark.parametrize("forward", [True, False])
def test_table_query_order_and_pages(indexed, forward):
    """The speed repair lists a Query's candidates unsorted; results keep DynamoDB's order (by sort
    key, reversed when ScanIndexForward is false) and pages continue where the last one stopped."""
    expected = sorted((f"s{n:02d}" for n in range(12) if n % 4 == 1), reverse=not forward)
    query = {"TableName": "t", "KeyConditionExpression": "pk = :p", "ScanIndexForward": forward,
             "ExpressionAttributeValues": {":p": {"S": "p1"}}}
    assert _keys(indexed.query(**query)) == expected
    first = indexed.query(**query, Limit=2)
    rest = indexed.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert _keys(first) + _keys(rest) == expected


def test_index_query_finds_every_item_in_order(indexed):
    expected = sorted(f"s{n:02d}" for n in range(12) if n % 2 == 1 and n % 3 == 2)
    page = indexed.query(TableName="t", IndexName="by-subject-rule",
                         KeyConditionExpression="subject = :s AND #r = :r", ExpressionAttributeNames={"#r": "rule"},
                         ExpressionAttributeValues={":s": {"S": "a1"}, ":r": {"S": "r2"}})
    assert _keys(page) == expected
    indexed.delete_item(TableName="t", Key={"pk": {"S": "p1"}, "sk": {"S": "s05"}})
    page = indexed.query(TableName="t", IndexName="by-subject-rule",
                         KeyConditionExpression="subject = :s AND #r = :r", ExpressionAttributeNames={"#r": "rule"},
                         ExpressionAttributeValues={":s": {"S": "a1"}, ":r": {"S": "r2"}})
    assert _keys(page) == [k for k in expected if k != "s05"]


def test_a_mapped_stream_does_not_hand_records_to_moto_lambda(repaired_moto):
    """The poller is the event source mapping's stand-in: moto's per-record Docker attempt (and
    the error log stream it writes) is switched off, and the mapping itself still exists."""
    import io
    import zipfile

    session = boto3.Session(region_name="us-east-1")
    iam, kinesis, lam, logs = (session.client(s) for s in ("iam", "kinesis", "lambda", "logs"))
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("h.py", "def handler(event, context):\n    return None\n")
    lam.create_function(FunctionName="f", Runtime="python3.13", Role=role, Handler="h.handler",
                        Code={"ZipFile": code.getvalue()})
    kinesis.create_stream(StreamName="s", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="s")["StreamDescription"]["StreamARN"]
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="f", StartingPosition="TRIM_HORIZON")
    kinesis.put_records(StreamName="s", Records=[{"PartitionKey": "k", "Data": b"x"} for _ in range(3)])
    assert len(lam.list_event_source_mappings(FunctionName="f")["EventSourceMappings"]) == 1
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/f")["logGroups"]
    assert not groups or not logs.describe_log_streams(logGroupName="/aws/lambda/f")["logStreams"]
    shard = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=shard)["Records"]) == 3


ATTRIBUTE_VALUES = [
    {"S": "x"}, {"S": ""}, {"N": "-1.50"}, {"B": b"\x00\xffbytes"}, {"BOOL": True}, {"BOOL": False},
    {"NULL": True}, {"SS": ["a", "b"]}, {"NS": ["1", "2.5"]}, {"BS": [b"a", b"\x01"]}, {"M": {}}, {"L": []},
    {"M": {"a": {"L": [{"N": "1"}, {"M": {"b": {"S": "c"}, "d": {"B": b"e"}}}, {"NULL": True}]}}},
]


@pytest.mark.parametrize("value", ATTRIBUTE_VALUES + [{"S": 5}, {"X": "unknown"}, {"L": [{"S": 1}]}])
def test_attribute_values_serialize_as_moto_serializes_them(value):
    """The serializer repair writes an AttributeValue directly; the result must equal moto's own
    member-by-member walk, nested or not (and values it does not know are left to moto)."""
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    moto_server.apply()
    operation = get_service_model("dynamodb").operation_model("GetItem")
    item = {"Item": {"k": value, "n": {"L": [value, {"M": {"v": value}}]}}}

    def serialize():  # as moto's responses serialize a result
        serializer = JSONSerializer(operation_model=operation, value_picker=XFormedAttributePicker())
        return json.loads(serializer.serialize(item)["body"])

    repaired = serialize()
    with mock.patch.object(moto_server.BaseJSONSerializer, "_serialize_type_structure",
                           moto_server._moto_serialize_structure):
        assert serialize() == repaired


def test_items_of_every_type_come_back_as_they_were_stored(indexed):
    item = {"pk": {"S": "every"}, "sk": {"S": "type"},
            **{f"a{i}": value for i, value in enumerate(ATTRIBUTE_VALUES)}}
    indexed.put_item(TableName="t", Item=item)
    got = indexed.get_item(TableName="t", Key={"pk": {"S": "every"}, "sk": {"S": "type"}})["Item"]
    batch = indexed.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "every"}, "sk": {"S": "type"}}]}})
    for found in (got, batch["Responses"]["t"][0]):
        for name in ("a7", "a8", "a9"):  # sets: their order is not kept
            found[name] = {k: sorted(v) for k, v in found[name].items()}
        assert found == {**item, **{f"a{i}": {k: sorted(v) for k, v in item[f"a{i}"].items()} for i in (7, 8, 9)}}


def _wire(value):
    """An AttributeValue as a client sends it (blobs in base64)."""
    import base64

    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


@pytest.mark.parametrize("value", ATTRIBUTE_VALUES + [{"S": 5}, {"X": "unknown"}, {"S": None, "N": "1"},
                                                      {"L": [{"X": 1}]}, {"SS": "not a list"}])
def test_attribute_values_parse_as_moto_parses_them(value):
    """The parser repair reads an AttributeValue directly; the result must equal moto's own walk."""
    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    moto_server.apply()
    operation = get_service_model("dynamodb").operation_model("PutItem")
    body = json.dumps({"TableName": "t", "Item": {"k": _wire(value), "n": {"L": [_wire(value), {"M": {"v": _wire(value)}}]}}})

    def parse():
        return JSONParser(operation).parse({"body": body.encode(), "headers": {}, "method": "POST",
                                            "url_path": "/", "query_string": ""})

    repaired = parse()
    with mock.patch.object(moto_server.BaseJSONParser, "_parse_structure", moto_server._moto_parse_structure):
        assert parse() == repaired


def test_a_condition_parsed_once_is_still_judged_on_each_requests_values(table):
    moto_server._lexed.cache_clear()
    moto_server._parsed.clear()
    table.transact_write_items(TransactItems=[_put("updated", 2, 1)])  # version = :v, :v = 1: holds
    with pytest.raises(ClientError) as err:  # the same text, :v = 1 again: no longer holds
        table.transact_write_items(TransactItems=[_put("updated", 3, 1)])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    table.transact_write_items(TransactItems=[_put("updated", 3, 2)])  # :v = 2: a new tree, lexed once
    assert _state(table)["updated"] == 3
    assert moto_server._lexed.cache_info().hits >= 1


def test_a_put_in_a_transaction_has_its_condition_parsed_once(table):
    moto_server._parsed.clear()
    with mock.patch.object(moto_server, "_moto_parse", wraps=moto_server._moto_parse) as parse:
        table.transact_write_items(TransactItems=[_put("updated", 2, 1), _put("new", 1, None)])
        table.transact_write_items(TransactItems=[_put("updated", 3, 2)])
    assert parse.call_count == 3  # moto parses each three times (request check, transaction, put)
    assert _state(table) == {"kept": 1, "new": 1, "updated": 3}


@pytest.mark.parametrize(("text", "names", "values"), [
    ("attribute_not_exists(#id) OR (#v = :v AND size(#n) > :s)",
     {"#id": "pk", "#v": "version", "#n": "name"}, {":v": {"N": "2"}, ":s": {"N": "3"}}),
    ("contains(#src, :r) AND NOT begins_with(sk, :p)", {"#src": "sources"}, {":r": {"S": "x"}, ":p": {"S": "s"}}),
    ("version IN (:a, :b) AND #m.#k BETWEEN :a AND :b", {"#m": "m", "#k": "k"}, {":a": {"N": "1"}, ":b": {"N": "9"}}),
])
def test_a_cached_tree_judges_items_and_records_what_it_found_as_moto_does(text, names, values):
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item

    moto_server._parsed.clear()
    items = [None, Item({"S": "a"}, None, {"pk": {"S": "a"}, "version": {"N": "2"}, "name": {"S": "abcd"},
                                          "sources": {"SS": ["x"]}, "sk": {"S": "t"}, "m": {"M": {"k": {"N": "5"}}}}),
             Item({"S": "b"}, None, {"pk": {"S": "b"}, "version": {"N": "1"}, "sk": {"S": "s"}})]
    own = ConditionExpressionParser(text, names, values)
    expected = moto_server._moto_parse(own)
    for _ in range(2):  # the first builds the tree, the second takes it from the cache
        parser = ConditionExpressionParser(text, names, values)
        tree = moto_server._parse_condition(parser)
        assert [tree.expr(i) for i in items] == [expected.expr(i) for i in items]
        assert (parser.expr_attr_names_found, parser.expr_attr_values_found) == \
            (own.expr_attr_names_found, own.expr_attr_values_found)
    assert len(moto_server._parsed) == 1


def test_a_condition_that_does_not_parse_fails_every_time():
    from moto.dynamodb.comparisons import ConditionExpressionParser

    moto_server._parsed.clear()
    for _ in range(2):
        with pytest.raises(Exception, match="Value provided in ExpressionAttributeValues unused|:missing"):
            moto_server._parse_condition(ConditionExpressionParser("version = :missing", {}, {}))
    assert not moto_server._parsed


def test_lexed_tokens_are_moto_s_own_and_each_caller_gets_fresh_ones():
    from moto.dynamodb.comparisons import ConditionExpressionParser

    text = "attribute_not_exists(#id) OR (#v = :v AND size(#n) > :s)"
    fresh = moto_server._moto_lex(ConditionExpressionParser(text, None, None))
    first, second = (moto_server._lex_condition_expression(ConditionExpressionParser(text, None, None))
                     for _ in range(2))
    assert list(first) == list(fresh)
    first[0].children.append("changed")
    assert all(node.children == [] for node in second)
    for _ in range(2):  # a text that does not lex fails every time, as with moto's own lexer
        with pytest.raises(ValueError, match="Cannot parse condition"):
            moto_server._lex_condition_expression(ConditionExpressionParser("version = ; :v", None, None))


def test_an_existing_backend_is_found_without_the_global_lock(repaired_moto, monkeypatch):
    from moto.core import base_backend
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends["123456789012"]["us-east-1"]  # created, under the lock

    class NoLock:
        def __enter__(self):
            raise AssertionError("backend_lock taken")

        def __exit__(self, *exc):
            return False

    with monkeypatch.context() as patched:  # undone before moto's own teardown takes the lock
        patched.setattr(base_backend, "backend_lock", NoLock())
        assert dynamodb_backends["123456789012"]["us-east-1"].region_name == "us-east-1"
        with pytest.raises(AssertionError, match="backend_lock taken"):  # a new account still locks
            dynamodb_backends["210987654321"]


def test_the_request_log_keeps_only_the_emulator_s_own_failures():
    logged = []
    log = moto_server._errors_only(lambda self, code, size: logged.append(str(code)))
    for code in (200, "204", 400, 404, 500, "503", "-"):
        log(None, code, "-")
    assert logged == ["500", "503"]


@pytest.mark.parametrize(("setting", "errors_only"), [(None, True), ("1", False)])
def test_the_request_log_comes_back_with_its_setting(monkeypatch, setting, errors_only):
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    monkeypatch.setattr(MotoRequestHandler, "log_request", MotoRequestHandler.log_request)  # undone after
    if setting is None:
        monkeypatch.delenv("AML_EMULATOR_REQUEST_LOG", raising=False)
    else:
        monkeypatch.setenv("AML_EMULATOR_REQUEST_LOG", setting)
    moto_server._patch_request_log()
    assert getattr(MotoRequestHandler.log_request, "errors_only", False) is errors_only


def _moto_item(attrs: dict):
    from moto.dynamodb.models.dynamo_type import Item

    with mock.patch.object(Item, "__init__", moto_server._moto_item_init):
        return Item({"S": "k"}, None, attrs)


@pytest.mark.parametrize("attrs", [
    {"pk": {"S": "k"}},
    {"pk": {"S": "k"}, "n": {"N": "12.5"}, "ss": {"SS": ["a", "bb"]}, "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "é"}]}}},
     "b": {"B": b"\x00\x01"}, "t": {"BOOL": True}, "z": {"NULL": True}},
])
def test_an_item_is_built_as_moto_builds_it(repaired_moto, attrs):
    from moto.dynamodb.models.dynamo_type import Item

    item = Item({"S": "k"}, None, attrs)
    assert item.attrs == _moto_item(attrs).attrs and type(item.attrs) is type(_moto_item(attrs).attrs)
    assert item.size() == _moto_item(attrs).size()


@pytest.mark.parametrize(("extra", "fits"), [(0, True), (1, False), (3, False)])
def test_an_item_over_the_size_limit_fails_as_moto_s_does(repaired_moto, extra, fits):
    """Sizes: 'pk'+'k' 3, 'a'+300,000 x's, then 'b' up to LIMIT - 2 + extra, then 'c'+'z' 2."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import Item

    used = 3 + 1 + 300_000
    attrs = {"pk": {"S": "k"}, "a": {"S": "x" * 300_000},
             "b": {"S": "y" * (moto_server.ITEM_SIZE_LIMIT - 2 + extra - used - 1)}, "c": {"S": "z"}}
    outcomes = []
    for build in (lambda: Item({"S": "k"}, None, attrs), lambda: _moto_item(attrs)):
        try:
            outcomes.append(build().size())
        except ItemSizeTooLarge:
            outcomes.append("too large")
    assert outcomes == [moto_server.ITEM_SIZE_LIMIT, moto_server.ITEM_SIZE_LIMIT] if fits else ["too large"] * 2


def test_an_item_s_attributes_are_not_each_summed_again(repaired_moto):
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    with mock.patch.object(LimitedSizeDict, "__setitem__", side_effect=AssertionError("the item summed again")):
        assert Item({"S": "k"}, None, {"pk": {"S": "k"}, "n": {"N": "1"}}).size() == 5
