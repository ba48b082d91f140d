"""Apply the contract's PII classes: drop, generalise, pseudonymise. Driven by `Column.pii` only,
so a column newly classified in the contract is protected here without a code change."""
# No `from __future__ import annotations`: pandas_udf reads the pd.Series hints at definition.
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import GENERALISATIONS, Pii, Table


def pseudonymiser(key: bytes):
    """A vectorised UDF computing `aml_contract.pseudonym.pseudonymise` (the same hex HMAC the
    Lambda computes), so pseudonyms join across engines."""
    import pandas as pd

    @F.pandas_udf(T.StringType())
    def pseudonym(values: pd.Series) -> pd.Series:
        return values.map(lambda v: pseudonymise(v, key), na_action="ignore")

    return pseudonym


def _generalise(column: str) -> SparkColumn:
    how = GENERALISATIONS[column][1]
    if how == "year":
        return F.year(F.col(column))
    raise ValueError(f"no Spark implementation of generalisation {how!r} for {column}")


def protected_columns(table: Table, key: bytes) -> list[SparkColumn]:
    """The curated form of every source column that survives, in contract order."""
    pid = pseudonymiser(key)
    out = []
    for c in table.columns:
        if c.pii is Pii.DROP:
            continue
        if c.pii is Pii.PSEUDONYMISE:
            out.append(pid(F.col(c.name)).alias(c.curated_name))
        elif c.pii is Pii.GENERALISE:
            out.append(_generalise(c.name).alias(c.curated_name))
        else:
            out.append(F.col(c.name))
    return out


def protect(df: DataFrame, table: Table, key: bytes, keep: list[str]) -> DataFrame:
    """Source columns -> their curated form; `keep` (internal columns) pass through unchanged."""
    return df.select(*protected_columns(table, key), *keep)
