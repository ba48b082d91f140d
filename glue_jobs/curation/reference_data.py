"""The reference data a run curates against, read from the curated zone's `reference/` folder
(aml_contract.reference: `reference/<dataset>/<dataset>.jsonl.gz` and `_manifest.json`, which
`cdk deploy` or `aml reference publish` put there). The job only reads it: `reference/` is no
table folder of the job's (it writes `state.Layout`'s folders only).

Every dataset is checked against its manifest before any raw file is read, so a missing or
corrupt dataset fails the run before anything is written. Stale data (past its review date) is
a warning in the run manifest, never a failure (the issue's decision: curate with the rates and
codes we hold, and say so).
"""
from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from aml_contract import reference
from aml_contract.reference import ReferenceData, ReferenceDataError

from .errors import CurationError
from .storage import Storage

# The fx_rates columns as the job joins them (prefixed: they never clash with a table's own).
FX_CURRENCY, FX_DATE, FX_RATE = "_fx_currency", "_fx_rate_date", "_fx_usd_per_unit"
RATE_TYPE = T.DecimalType(reference.RATE_PRECISION, reference.RATE_SCALE)


def root(curated_path: str) -> str:
    return curated_path.rstrip("/")


def load(storage: Storage, curated_path: str) -> ReferenceData:
    """Every dataset, checked against its manifest (fx_rates too, though Spark reads its rows:
    only when a row lacks amount_base, see `fx_rates`)."""
    base = root(curated_path)

    def fetch(key: str) -> bytes:
        return storage.read_bytes(f"{base}/{key}")

    try:
        data = ReferenceData(fetch)
        fx_manifest, _ = reference.read_dataset(fetch, "fx_rates")
    except ReferenceDataError as err:
        raise CurationError(f"reference data under {base}/{reference.PREFIX}/ is unusable, nothing was "
                            f"curated: {err} (publish it: `aml reference publish`)") from None
    data.manifests["fx_rates"] = fx_manifest
    return data


def warnings(data: ReferenceData, today: date) -> list[str]:
    return [f"stale reference data: {s}" for s in data.stale(today)]


def fx_rates(spark: SparkSession, storage: Storage, curated_path: str) -> DataFrame:
    """fx_rates as Spark joins it: one row per (currency, UTC day), the rate as
    decimal(RATE_PRECISION, RATE_SCALE) (an exact product with decimal(18,2) amounts). The file
    is gzip JSON Lines, which Spark reads as is (codec by the `.gz` suffix); rates are strings
    in it, so they are cast, never parsed as binary floating point."""
    path = f"{root(curated_path)}/{reference.data_key('fx_rates')}"
    storage.reading(path)
    schema = T.StructType([T.StructField(name, T.StringType()) for name, _ in reference.COLUMNS["fx_rates"]])
    return spark.read.schema(schema).json(path).select(
        F.col("currency").alias(FX_CURRENCY), F.to_date("rate_date").alias(FX_DATE),
        F.col("usd_per_unit").cast(RATE_TYPE).alias(FX_RATE))
