"""`amount_base`, the USD amount every rule uses: `aml_contract.reference.ReferenceData.amount_base`
as a Spark expression. The source's own amount_base wins; else USD is its amount; else amount
times the reference rate of (currency, UTC date of booked_at), rounded half up to cents; else
null. A null amount_base row is curated and counted like any other (the manifest reports it).

Most rows carry amount_base, so the FX table is read and joined only when some row lacks it
(`lacks_amount_base`). The join is an equality on (currency, rate_date): the reference data
holds one row per currency and calendar day (aml_contract.reference), broadcast to every task
(https://spark.apache.org/docs/3.5.1/sql-performance-tuning.html#join-strategy-hints-for-sql-queries).
"""
from __future__ import annotations

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from aml_contract.schema import BASE_CURRENCY, DMS_OP_COLUMN, TRANSACTIONS

from .columns import AMOUNT_BASE_ORIGIN_COL, SQL_TYPES
from .reference_data import FX_CURRENCY, FX_DATE, FX_RATE

AMOUNT, CURRENCY, AMOUNT_BASE, BOOKED_AT = "amount", "currency", "amount_base", "booked_at"
CENTS = 2
# Where a curated transaction's amount_base came from (the run manifest counts each).
FROM_SOURCE, DERIVED, UNKNOWN = "source", "derived", "unknown"
ORIGINS = (FROM_SOURCE, DERIVED, UNKNOWN)
_TYPE = SQL_TYPES[TRANSACTIONS.column(AMOUNT_BASE).type]  # decimal(18,2), as curated


def lacks_amount_base(raw_frames: list[DataFrame]) -> bool:
    """Some raw insert or update has no amount_base (read as is, before validation: a row that is
    refused later only costs an unneeded FX read). Reads two columns, and stops at the first."""
    op = F.col(DMS_OP_COLUMN)
    return any(not frame.filter((op.isNull() | (op != "D")) & F.col(AMOUNT_BASE).isNull()).select(op).isEmpty()
               for frame in raw_frames)


def with_amount_base(changes: DataFrame, rates: DataFrame | None) -> DataFrame:
    """`changes` (valid transactions, typed) with amount_base filled by the rule and
    AMOUNT_BASE_ORIGIN_COL. `rates` (`reference_data.fx_rates`) may be None when no row lacks
    amount_base: then only USD can be derived, and nothing needs to be."""
    source, amount = F.col(AMOUNT_BASE), F.col(AMOUNT)
    if rates is None:
        converted: SparkColumn = F.lit(None)
        joined = changes
    else:
        # Only a row that lacks amount_base meets a rate; the others pass through the join.
        matches = (source.isNull() & (F.col(CURRENCY) == F.col(FX_CURRENCY))
                   & (F.to_date(F.col(BOOKED_AT)) == F.col(FX_DATE)))
        joined = changes.join(F.broadcast(rates), matches, "left")
        # decimal(18,2) * decimal(16,12) = decimal(35,14): exact; round() is HALF_UP.
        converted = F.round(amount * F.col(FX_RATE), CENTS)
    derived = F.when(F.col(CURRENCY) == BASE_CURRENCY, amount).otherwise(converted)
    # try_cast: a product past decimal(18,2) has no curated amount_base (unknown), not an error.
    value = F.coalesce(source, F.expr(f"try_cast(_derived as {_TYPE})"))
    origin = F.when(source.isNotNull(), F.lit(FROM_SOURCE)).when(value.isNotNull(), F.lit(DERIVED)) \
        .otherwise(F.lit(UNKNOWN))
    return (joined.withColumn("_derived", derived)
            .select(*(value.alias(AMOUNT_BASE) if c == AMOUNT_BASE else F.col(c) for c in changes.columns),
                    origin.alias(AMOUNT_BASE_ORIGIN_COL)))
