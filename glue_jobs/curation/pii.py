"""Apply the contract's PII classes: drop, generalise, pseudonymise. Driven by `Column.pii` only,
so a column newly classified in the contract is protected here without a code change."""
from __future__ import annotations

import hashlib

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from aml_contract.schema import GENERALISATIONS, Pii, Table

SHA256_BLOCK = 64  # bytes


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer HMAC pads of `key` (RFC 2104): a key longer than a block is hashed
    first, then zero-padded to a block."""
    block = hashlib.sha256(key).digest() if len(key) > SHA256_BLOCK else key
    block = block.ljust(SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def pseudonym(column: SparkColumn, key: bytes) -> SparkColumn:
    """`aml_contract.pseudonym.pseudonymise` as a Spark expression: the hex HMAC-SHA256 of the
    value's UTF-8 bytes, H(K^opad || H(K^ipad || m)), built from Spark's own `sha2`, so it runs in
    the JVM's generated code (no Python worker, no Arrow round trip) and joins across engines with
    the pseudonyms the Lambda computes. Null stays null."""
    inner_pad, outer_pad = hmac_pads(key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), column.cast("binary")), 256))
    return F.sha2(F.concat(F.lit(outer_pad), inner), 256)


def _generalise(column: str) -> SparkColumn:
    how = GENERALISATIONS[column][1]
    if how == "year":
        return F.year(F.col(column))
    raise ValueError(f"no Spark implementation of generalisation {how!r} for {column}")


def protected_columns(table: Table, key: bytes) -> list[SparkColumn]:
    """The curated form of every source column that survives, in contract order."""
    out = []
    for c in table.columns:
        if c.pii is Pii.DROP:
            continue
        if c.pii is Pii.PSEUDONYMISE:
            out.append(pseudonym(F.col(c.name), key).alias(c.curated_name))
        elif c.pii is Pii.GENERALISE:
            out.append(_generalise(c.name).alias(c.curated_name))
        else:
            out.append(F.col(c.name))
    return out


def protect(df: DataFrame, table: Table, key: bytes, keep: list[str]) -> DataFrame:
    """Source columns -> their curated form; `keep` (internal columns) pass through unchanged."""
    return df.select(*protected_columns(table, key), *keep)
