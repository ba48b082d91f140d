"""Records as DMS puts them on the stream: control records beside data records, LOB text at
DMS's limit. Field case: ../shared/cases/dms-control-record (a control record was dead-lettered)."""
import json
from pathlib import Path

import pytest
from lambda_harness import Context, _drain, _event, _row
from rule_runner import parse_record

from aml_contract import dms
from lambdas.realtime_rules.engine import metric_name
from lambdas.realtime_rules.records import Control, PoisonRecord

CASE = Path(__file__).parent / "data" / "dms_control_record.jsonl"


def _control(operation, schema_name="", table_name="", **extra):
    return {"metadata": {"timestamp": "2025-03-03T09:00:00.000000Z", "record-type": "control",
                         "operation": operation, "partition-key-type": "task-id",
                         "schema-name": schema_name, "table-name": table_name, **extra}}


def _counts(lambda_env, payloads):
    """Run the handler's engine on the payloads; return (response, counts) as the metrics see them."""
    handler = lambda_env["handler"]
    outcome = handler.runtime().engine.process(
        [handler.KinesisStreamRecord(r) for r in _event(payloads)["Records"]])
    return outcome


def test_field_case_control_record_is_acknowledged_and_the_insert_processed(lambda_env):
    payloads = [json.loads(line) for line in CASE.read_text().splitlines()]
    response = lambda_env["handler"].lambda_handler(_event(payloads), Context())
    assert response == {"batchItemFailures": []}
    assert _drain(lambda_env["sqs"], lambda_env["dlq"]) == []  # the queue stays empty
    state = lambda_env["ddb"].query(TableName="state", KeyConditionExpression="pk = :a",
                                    ExpressionAttributeValues={":a": {"S": "ACC-A1"}})
    assert state["Count"] > 0  # the insert went through the rules


@pytest.mark.parametrize("operation,schema_name,table_name,schema_change", [
    ("create-table", "", "awsdms_apply_exceptions", False),  # a task (re)start
    ("create-table", "", "", False),  # both names empty
    ("truncate-table", "core", "transactions", False),
    ("drop-table", "core", "transactions", True),
    ("add-column", "core", "transactions", True),
    ("drop-column", "core", "accounts", True),
    ("rename-column", "core", "transactions", True),
    ("column-type-change", "core", "transactions", True),
])
def test_control_records_are_parsed_never_poison(operation, schema_name, table_name, schema_change):
    parsed = parse_record(json.dumps(_control(operation, schema_name, table_name)).encode())
    assert isinstance(parsed, Control)
    assert parsed.operation == operation and parsed.schema_change is schema_change


def test_control_records_are_counted_per_operation_and_a_column_change_raises_the_alarm_metric(lambda_env):
    payloads = [_control("create-table", table_name=dms.CONTROL_TASK_TABLE), _control("create-table"),
                _control("add-column", "core", "transactions"), _row("t-ok", 1)]
    outcome = _counts(lambda_env, payloads)
    assert outcome.counts["control"] == 3
    assert outcome.counts["control create-table"] == 2 and outcome.counts["control add-column"] == 1
    assert outcome.counts["schema_changes"] == 1
    assert outcome.schema_changes == ["add-column core.transactions"]
    assert outcome.counts["poison"] == 0 and outcome.counts["transactions"] == 1
    # The monitoring stack alarms on this metric name (aml_contract.names).
    from aml_contract import names
    assert metric_name("schema_changes") == names.SCHEMA_CHANGES_METRIC


def test_a_data_record_without_data_and_an_unknown_record_type_are_poison():
    with pytest.raises(PoisonRecord, match="without data"):
        parse_record(json.dumps({"metadata": {"record-type": "data", "operation": "insert",
                                       "schema-name": "core", "table-name": "transactions"}}).encode())
    with pytest.raises(PoisonRecord, match="record-type"):
        parse_record(json.dumps({"metadata": {"record-type": "heartbeat", "operation": "x"}}).encode())


@pytest.mark.parametrize("column", ["memo", "originator_name", "beneficiary_name", "ip_address"])
def test_text_at_the_lob_limit_is_dead_lettered_as_possibly_truncated(column):
    row = {**_row("t-lob", 1), column: "x" * dms.LOB_SUSPECT_CHARS}
    with pytest.raises(PoisonRecord, match=f"{column}: .*LOB limit"):
        parse_record(json.dumps({"data": row, "metadata": {"operation": "insert", "schema-name": "core",
                                                    "table-name": "transactions"}}).encode())
    shorter = {**row, column: "x" * (dms.LOB_SUSPECT_CHARS - 1)}
    assert not isinstance(parse_record(json.dumps(shorter).encode()), PoisonRecord)


@pytest.mark.parametrize("metadata", [{"operation": "insert"}, {"operation": "insert", "schema-name": "core"},
                                      {"operation": "insert", "schema-name": "", "table-name": "transactions"}])
def test_a_data_record_without_schema_and_table_names_is_poison(metadata):
    with pytest.raises(PoisonRecord, match="invalid DMS metadata"):
        parse_record(json.dumps({"data": _row("t-x", 1), "metadata": metadata}).encode())


@pytest.mark.parametrize("text", ["infinity", "-infinity", "0044-03-15 10:00:00+00 BC", "12000-01-01 00:00:00+00"])
def test_booked_at_beyond_python_is_a_poison_record_not_a_crash(text):
    """What the replicator streams for timestamps PostgreSQL accepts and Python cannot hold
    (aml.replicate.columns.PgDatetime): the record is dead-lettered with a reason."""
    row = _row("t-far", 1) | {"booked_at": text}
    with pytest.raises(PoisonRecord, match="booked_at"):
        parse_record(json.dumps({"data": row, "metadata": {"operation": "insert", "record-type": "data",
                                                   "schema-name": "core", "table-name": "transactions"}}).encode())
