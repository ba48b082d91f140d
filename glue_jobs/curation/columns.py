"""The internal column names of the job (never published), and the Spark types and schemas of
the curated tables and the state index."""
from __future__ import annotations

from pyspark.sql import types as T

from aml_contract.schema import (
    BOOLEAN,
    CURATED_TABLES,
    DATE,
    DECIMAL,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    INT,
    PARTITION_COLUMN,
    PARTITIONED_TABLES,
    STRING,
    TIMESTAMP,
)

SPARK_TYPES: dict[str, T.DataType] = {
    STRING: T.StringType(), DATE: T.DateType(), TIMESTAMP: T.TimestampType(), BOOLEAN: T.BooleanType(),
    INT: T.IntegerType(), DECIMAL: T.DecimalType(DECIMAL_PRECISION, DECIMAL_SCALE),
}
SQL_TYPES: dict[str, str] = {name: spark_type.simpleString() for name, spark_type in SPARK_TYPES.items()}

# Internal columns (never published): where a change came from and what the job decided.
FILE_COL, ROW_COL, FILE_RANK_COL = "_source_file", "_row_index", "_file_rank"
COMMIT_TS_COL = "_commit_ts"  # dms_commit_ts cast to a timestamp
REASON_COL = "quarantine_reason"
DECISION_COL = "_decision"
KEY_COL = "_key"
KEY_HASH_COL = "_key_hash"  # xxhash64 of KEY_COL, stored in the state index (`cdc.key_hash`)
DELETED_COL = "_deleted"
AMOUNT_BASE_ORIGIN_COL = "_amount_base_origin"  # transactions: `amounts.ORIGINS`
# A change's position in the source's history: commit time, then full load before CDC, then file
# and row. Every part is a property of the change itself, so the order (and the winner per key)
# does not depend on which run or in which order the files arrive.
ORDER_COLS = (COMMIT_TS_COL, FILE_RANK_COL, FILE_COL, ROW_COL)
UNPARTITIONED = "all"  # the `dt` of every row of a table that is not partitioned (state index only)
UNKNOWN_PARTITION = "none"  # the `dt` of a tombstone whose key was never seen live


def curated_schema(table: str, with_partition: bool = True) -> T.StructType:
    fields = [T.StructField(name, SPARK_TYPES[logical], True) for name, logical in CURATED_TABLES[table]]
    if with_partition and table in PARTITIONED_TABLES:
        fields.append(T.StructField(PARTITION_COLUMN, T.StringType(), True))
    return T.StructType(fields)


def index_schema() -> T.StructType:
    """The state index: the last applied change per key (tombstones included)."""
    return T.StructType([
        T.StructField(KEY_COL, T.StringType(), False),
        T.StructField(KEY_HASH_COL, T.LongType(), False),
        T.StructField(COMMIT_TS_COL, T.TimestampType(), True),
        T.StructField(FILE_RANK_COL, T.IntegerType(), True),
        T.StructField(FILE_COL, T.StringType(), True),
        T.StructField(ROW_COL, T.LongType(), True),
        T.StructField(DELETED_COL, T.BooleanType(), False),
        T.StructField(PARTITION_COLUMN, T.StringType(), True),
    ])
