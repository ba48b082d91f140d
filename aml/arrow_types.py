"""The source tables in Arrow, in the two forms the local runtime writes, defined once:

- the contract form (`source_schema`): the generator's Parquet and PostgreSQL load, logical types
  (timestamps in microseconds, booleans as booleans); a required column is non-nullable, except
  `updated_at`, which PostgreSQL fills by default;
- the DMS form (`dms_parquet_schema`): what the DMS S3 target writes, typed by the contract's DMS
  type table (`aml_contract.dms`: timestamps in milliseconds, booleans as "true"/"false"); every
  source column nullable, as DMS declares them, after the `Op` and commit-timestamp columns;

and the curated tables the local runtime writes itself (`curated_schema`: the alerts Firehose
lands), typed as the Glue catalog declares them, so every partition has the same schema (an
alert naming no transaction is an empty list of strings, not a list of nulls).
"""
from __future__ import annotations

import pyarrow as pa

from aml_contract import dms, schema

DECIMAL = pa.decimal128(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE)

LOGICAL_TYPES = {schema.STRING: pa.string(), schema.DATE: pa.date32(),
                 schema.TIMESTAMP: pa.timestamp("us", tz="UTC"), schema.BOOLEAN: pa.bool_(),
                 schema.DECIMAL: DECIMAL, schema.INT: pa.int32(), "array<string>": pa.list_(pa.string())}

# The DMS type table's Parquet column (Arrow notation) -> the Arrow type the S3 target writes.
DMS_PARQUET_TYPES = {
    "string": pa.string(),
    "date32": pa.date32(),
    "timestamp[ms, UTC]": pa.timestamp("ms", tz="UTC"),
    f"decimal128({schema.DECIMAL_PRECISION},{schema.DECIMAL_SCALE})": DECIMAL,
    "int32": pa.int32(),
}


def source_schema(table: schema.Table) -> pa.Schema:
    """A source table in the contract form."""
    return pa.schema([pa.field(c.name, LOGICAL_TYPES[c.type], nullable=not c.required or c.name == "updated_at")
                      for c in table.columns])


def dms_parquet_type(column: schema.Column) -> pa.DataType:
    return DMS_PARQUET_TYPES[dms.dms_type(column).parquet]


def dms_parquet_schema(table: schema.Table) -> pa.Schema:
    """Op, dms_commit_ts, then the source columns in table order (as DMS lays them out)."""
    fields = [pa.field(schema.DMS_OP_COLUMN, DMS_PARQUET_TYPES[dms.OP_TYPE.parquet], nullable=False),
              pa.field(schema.DMS_COMMIT_TS_COLUMN, DMS_PARQUET_TYPES[dms.COMMIT_TS_TYPE.parquet], nullable=False)]
    fields += [pa.field(c.name, dms_parquet_type(c)) for c in table.columns]
    return pa.schema(fields)


def curated_schema(table: str) -> pa.Schema:
    """A curated table's columns (aml_contract.schema.CURATED_TABLES), partition column aside."""
    return pa.schema([pa.field(name, LOGICAL_TYPES[kind]) for name, kind in schema.CURATED_TABLES[table]])
