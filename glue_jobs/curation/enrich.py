"""The curated form of a batch's changes: PII protected per the contract, the `dt` partition, and
on transactions the customer pseudonyms of both accounts. Pure DataFrame -> DataFrame: the
accounts lookup is passed in, read by the caller."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import (
    CASH_ACCOUNT_ID,
    DMS_COMMIT_TS_COLUMN,
    DMS_OP_COLUMN,
    PARTITION_COLUMN,
    PARTITIONED_TABLES,
    TRANSACTIONS,
    Table,
)

from .cdc import COPIES_COL, INSERTED_COL, LATEST_COL
from .columns import AMOUNT_BASE_ORIGIN_COL, COMMIT_TS_COL, KEY_COL, ORDER_COLS, UNPARTITIONED
from .pii import protect

# The internal columns a change carries through protection to the merge; a transaction's also
# carries where its amount_base came from (`amounts`), which the merge counts.
CHANGE_COLS = (DMS_OP_COLUMN, *ORDER_COLS, COPIES_COL, LATEST_COL, INSERTED_COL)


def curated_changes(changes: DataFrame, table: Table, key: bytes, accounts: DataFrame | None = None) -> DataFrame:
    """Distinct valid changes in curated form (PII protected), keyed (KEY_COL) and assigned a
    partition. `accounts` (curated accounts as of this run) is required for transactions."""
    if table.name == TRANSACTIONS.name and accounts is None:
        raise ValueError("transactions need the curated accounts to resolve customer pseudonyms")
    protected = with_partition(protect(changes, table, key, keep=_internal(changes)), table)
    if accounts is not None and table.name == TRANSACTIONS.name:
        protected = with_customer_pids(protected, accounts, key).withColumn(DMS_COMMIT_TS_COLUMN,
                                                                            F.col(COMMIT_TS_COL))
    return protected.withColumn(KEY_COL, F.col(table.column(table.primary_key).curated_name))


def _internal(changes: DataFrame) -> list[str]:
    return [*CHANGE_COLS, *(c for c in (AMOUNT_BASE_ORIGIN_COL,) if c in changes.columns)]


def with_partition(df: DataFrame, table: Table) -> DataFrame:
    """`dt`: the UTC day of booked_at for a partitioned table, UNPARTITIONED otherwise."""
    if table.name in PARTITIONED_TABLES:
        return df.withColumn(PARTITION_COLUMN, F.date_format(TRANSACTIONS.column("booked_at").name, "yyyy-MM-dd"))
    return df.withColumn(PARTITION_COLUMN, F.lit(UNPARTITIONED))


def with_customer_pids(transactions: DataFrame, accounts: DataFrame, key: bytes) -> DataFrame:
    """originator/beneficiary_customer_pid from `accounts` (account_pid, customer_pid); null for
    external accounts (not in `accounts`) and for the cash counterparty."""
    lookup = accounts.filter(F.col("account_pid") != pseudonymise(CASH_ACCOUNT_ID, key)) \
        .select("account_pid", "customer_pid")
    for side in ("originator", "beneficiary"):
        side_lookup = lookup.select(F.col("account_pid").alias(f"{side}_account_pid"),
                                    F.col("customer_pid").alias(f"{side}_customer_pid"))
        transactions = transactions.join(F.broadcast(side_lookup), f"{side}_account_pid", "left")
    return transactions
