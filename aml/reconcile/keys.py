"""`aml reconcile`: every live source key against the curated zone on local disk, key by key (no
bucket pass: an operator's check of a local or copied zone), with the quarantine the job wrote
counted as accounted for. The comparison, its classes and its report are the daily pipeline's
(aml_contract.key_reconciliation, with the source read by lambdas/daily_pipeline/reconcile.py);
its deployed form is the pipeline's ReconcileDigests and ReconcileKeys steps.

The high-water mark is the latest `dms_commit_ts` of the curated transactions; a zone without one
(nothing curated by the job, or a hand-made zone) is taken as caught up with the source, so every
key it lacks is missing rather than pending.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyarrow.compute as pc
import pyarrow.dataset as ds

from aml_contract import key_reconciliation as kr
from aml_contract import schema
from lambdas.daily_pipeline.reconcile import Source

CAUGHT_UP = datetime.max.replace(tzinfo=UTC)


def _dataset(folder: Path) -> ds.Dataset | None:
    return ds.dataset(folder, format="parquet", partitioning="hive") if folder.exists() else None


def _parquet_column(folder: Path, column: str) -> list:
    dataset = _dataset(folder)
    if dataset is None or column not in dataset.schema.names:
        return []
    return dataset.to_table(columns=[column]).column(column).to_pylist()


def high_water_mark(curated_dir: Path) -> datetime:
    dataset = _dataset(curated_dir / kr.HIGH_WATER_MARK_TABLE)
    if dataset is None or schema.DMS_COMMIT_TS_COLUMN not in dataset.schema.names:
        return CAUGHT_UP
    latest = pc.max(dataset.to_table(columns=[schema.DMS_COMMIT_TS_COLUMN]).column(0)).as_py()
    if latest is None:
        return CAUGHT_UP
    return latest.replace(tzinfo=UTC) if latest.tzinfo is None else latest


def reconcile(db_url: str, curated_dir: Path, quarantine_dir: Path | None, key: bytes) -> kr.Report:
    """Every source table's live keys against the curated zone (and the quarantine, which holds
    the refused rows with their original ids)."""
    mark, tables = high_water_mark(curated_dir), {}
    with psycopg.connect(db_url) as conn:
        source = Source(conn, key)
        for name in kr.TABLES:
            ours = {k: (v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v)
                    for k, v in source.all_keys(name).items()}
            curated = {k for k in _parquet_column(curated_dir / name, kr.curated_key_column(name)) if k}
            refused = ({kr.curated_form(name, k, key) for k in _parquet_column(
                quarantine_dir / name, kr.table(name).primary_key) if k} if quarantine_dir else set())
            tables[name] = kr.classify(name, ours, curated, mark, source_total=len(ours), curated_total=len(curated),
                                       accounted_for=refused)
    return kr.Report(tables, None if mark == CAUGHT_UP else mark)
