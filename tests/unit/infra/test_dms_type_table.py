"""The DMS type table (aml_contract.dms) is the one source of truth: the DDL, the synthesized DMS
settings and the local replicator's writers must agree with it, or this fails."""
from __future__ import annotations

import json
import re

import pyarrow as pa
import pytest

from aml.arrow_types import DMS_PARQUET_TYPES as PARQUET_TYPES
from aml.arrow_types import dms_parquet_schema as arrow_schema
from aml_contract import dms, names, schema


def _endpoint(synth, engine: str) -> dict:
    (found,) = [r["Properties"] for _, _, r in synth.resources("AWS::DMS::Endpoint")
                if r["Properties"]["EngineName"] == engine]
    return found


def _task_settings(synth) -> dict[str, dict]:
    return {r["Properties"]["MigrationType"]: json.loads(r["Properties"]["ReplicationTaskSettings"])
            for _, _, r in synth.resources("AWS::DMS::ReplicationTask")}


def test_every_column_arrives_under_the_synthesized_task_settings(synth):
    for migration_type, settings in _task_settings(synth).items():
        meta = settings["TargetMetadata"]
        assert meta["LimitedSizeLobMode"] is True and meta["LobMaxSize"] == dms.LOB_MAX_SIZE_KB, migration_type
        for table in schema.SOURCE_TABLES.values():
            assert dms.replicated_columns(table, meta) == table.column_names, (migration_type, table.name)


def test_without_lob_support_dms_would_drop_every_free_text_column():
    """The check above can fail: the settings we had before dropped every `text` column."""
    dropped = set(schema.TRANSACTIONS.column_names) - set(
        dms.replicated_columns(schema.TRANSACTIONS, {"SupportLobs": False}))
    assert dropped == set(dms.lob_columns(schema.TRANSACTIONS)) == {
        "originator_name", "beneficiary_name", "ip_address", "memo"}


def test_no_key_is_a_lob_and_keys_are_bounded_varchar():
    for table in schema.SOURCE_TABLES.values():
        key = dms.dms_type(table.column(table.primary_key))
        assert not key.lob and key.dms.startswith("WSTRING("), table.name
    # The stream's partition key must be an ordinary column too.
    assert dms.dms_type(schema.TRANSACTIONS.column(names.REALTIME_PARTITION_KEY)).lob is False


def test_the_ddl_declares_every_column_with_the_type_table_type():
    ddl = schema.postgres_ddl()
    for table in schema.SOURCE_TABLES.values():
        body = re.search(rf"CREATE TABLE IF NOT EXISTS core\.{table.name} \((.*?)\n\);", ddl, re.S).group(1)
        declared = dict(re.findall(r"^\s+(\w+) ([a-z]+(?:\(\d+(?:,\d+)?\))?)", body, re.M))
        assert declared == {c.name: dms.dms_type(c).postgres for c in table.columns}, table.name


def test_the_s3_target_settings_match_the_type_table(synth):
    s3 = _endpoint(synth, "s3")["S3Settings"]
    assert s3["DataFormat"] == "parquet" and s3["TimestampColumnName"] == schema.DMS_COMMIT_TS_COLUMN
    assert s3["IncludeOpForFullLoad"] is True
    # DATETIME -> Parquet TIMESTAMP in ms only with ParquetTimestampInMillisecond.
    ts = dms.dms_type(schema.TRANSACTIONS.column("booked_at")).parquet
    assert ("[ms," in ts) is bool(s3.get("ParquetTimestampInMillisecond"))


def test_the_kinesis_target_sends_table_and_column_changes_as_control_records(synth):
    kinesis = _endpoint(synth, "kinesis")["KinesisSettings"]
    assert kinesis["IncludeTableAlterOperations"] is True and kinesis["MessageFormat"] == "json"


@pytest.mark.parametrize("table", list(schema.SOURCE_TABLES))
def test_the_replicator_writes_the_type_table_parquet_types(table):
    written = arrow_schema(schema.SOURCE_TABLES[table])
    assert written.names == [schema.DMS_OP_COLUMN, schema.DMS_COMMIT_TS_COLUMN, *schema.SOURCE_TABLES[table].column_names]
    assert written.field(schema.DMS_COMMIT_TS_COLUMN).type == pa.string()  # DMS's own string
    for column in schema.SOURCE_TABLES[table].columns:
        assert written.field(column.name).type == PARQUET_TYPES[dms.dms_type(column).parquet], column.name
    if table == "customers":
        assert written.field("is_pep").type == pa.string()  # boolean -> STRING(5): "true"/"false"


def test_the_streamed_table_has_no_boolean_column():
    """Booleans reach the rules Lambda only as DMS strings; today transactions (the only streamed
    table) has none. Adding one must come with a parser field that accepts "true"/"false"."""
    assert [c.name for c in schema.TRANSACTIONS.columns if c.type == schema.BOOLEAN] == []


@pytest.mark.parametrize("data_type,length,lob", [
    ("text", None, True), ("character varying", None, True), ("character varying", 64, False),
    ("bytea", None, True), ("jsonb", None, True), ("character", 8, False), ("integer", None, False),
    ("uuid", None, False),
])
def test_lob_types_as_information_schema_names_them(data_type, length, lob):
    assert dms.is_lob(data_type, length) is lob


def test_a_text_key_is_refused_with_a_clear_message():
    problems = dms.lob_key_problems([("transactions", "transaction_id", "text", None),
                                     ("accounts", "account_id", "character varying", None),
                                     ("customers", "customer_id", "character varying", 64)])
    assert len(problems) == 2
    assert "core.transactions.transaction_id is a primary key of type text" in problems[0]
    assert "LOB" in problems[1] and "DMS does not replicate" in problems[1]
