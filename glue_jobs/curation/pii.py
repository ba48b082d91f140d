"""Apply the contract's PII classes: drop, generalise, pseudonymise. Driven by `Column.pii` only,
so a column newly classified in the contract is protected here without a code change."""
# No `from __future__ import annotations`: pandas_udf reads the pd.Series hints at definition.
from collections.abc import Iterator

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from aml_contract.pseudonym import pseudonymise
from aml_contract.schema import GENERALISATIONS, Pii, Table

CACHE_LIMIT = 1_000_000  # distinct ids remembered per task (about 150 MB at most)


def pseudonymiser(key: bytes):
    """A vectorised UDF computing `aml_contract.pseudonym.pseudonymise` (the same hex HMAC the
    Lambda computes), so pseudonyms join across engines. The HMAC runs once per distinct id in a
    task, not once per row: ids repeat (an account books many transactions), and the lookup of a
    known id is a vectorised `Series.map`."""
    import pandas as pd

    @F.pandas_udf(T.StringType())
    def pseudonym(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        known: dict[str, str] = {}
        for values in batches:
            new = [v for v in values.dropna().unique() if v not in known]
            if len(known) + len(new) > CACHE_LIMIT:
                known.clear()
                new = list(values.dropna().unique())
            known.update((v, pseudonymise(v, key)) for v in new)
            pids = values.map(known)
            yield pids.astype(object).where(pids.notna(), None)  # nulls (and only nulls) stay null

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
