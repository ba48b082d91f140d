"""One curation run, read as its pipeline: check the reference data (`reference_data`); for each
source table read the new DMS files, validate, derive amount_base where the source lacks it
(`amounts`), enrich (the curated form), merge with the state, and stage the outputs; then
reconcile every table's counts, publish the staged outputs and record the files as processed;
last, the segment statistics of the curated transactions as published (`segment_statistics`)."""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from aml_contract.reference import ReferenceData, versions
from aml_contract.schema import DMS_OP_COLUMN, DMS_OPS, SOURCE_TABLES, TRANSACTIONS, Table

from . import amounts, cdc, enrich, reference_data, segment_statistics
from .columns import REASON_COL
from .publish import Publication, publish
from .raw_input import RawInput, is_full_load, load_start, new_files, read_raw, relative_name
from .run_manifest import TableFigures, reconcile
from .runtime import Checkpoints, timed
from .spark_conf import apply_job_conf
from .stage import count_quarantine, stage_quarantine, stage_state
from .state import Index, Layout, current_table, load_processed, save_processed
from .storage import FileInfo, Observer, Storage
from .validate import refuse, valid_rows, validate

log = logging.getLogger("aml.glue.curation")

# Accounts before transactions: a transaction's customer pseudonyms come from the accounts'
# state as of this run (a CDC batch commonly opens an account and books on it).
TABLE_ORDER = ("customers", "accounts", "transactions")


@dataclass
class Run:
    spark: SparkSession
    storage: Storage
    layout: Layout
    key: bytes
    now: datetime
    reference: ReferenceData
    processed: dict[str, set[str]] = field(default_factory=dict)  # files read by earlier runs, per table
    load_start: datetime | None = None  # where this run's full-load rows sit in history
    publications: list[Publication] = field(default_factory=list)  # in order, once all reconcile
    checkpoints: Checkpoints = field(default_factory=Checkpoints)

    def full_load_in(self, table: str, files: list[FileInfo]) -> bool:
        """The table's full load has been read, in an earlier run or in this one."""
        names = [*self.processed.get(table, ()), *(relative_name(f.path, table) for f in files)]
        return any(is_full_load(name) for name in names)

    @property
    def codes(self) -> dict[str, frozenset[str]]:
        """The codes of each reference dataset a contract column names (`Column.reference`)."""
        return {"currencies": self.reference.currencies}


def run_curation(spark: SparkSession, raw_path: str, curated_path: str, quarantine_path: str, key: bytes,
                 now: datetime | None = None, run_id: str | None = None, observe: Observer | None = None) -> dict:
    """Curate every new raw file; return (and store, and log) the run manifest. `observe` is told
    every storage access (see `storage.Storage`)."""
    apply_job_conf(spark)
    started = time.monotonic()
    now = now or datetime.now(UTC)
    run_id = run_id or f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    storage = Storage(spark, observe)
    # Checked before any raw file is read: a missing or corrupt dataset fails the run up front.
    reference = reference_data.load(storage, curated_path)
    warnings = reference_data.warnings(reference, now.date())
    for warning in warnings:
        log.warning("%s", warning)
    run = Run(spark, storage, Layout(curated_path, quarantine_path, run_id), key, now, reference)
    processed = run.processed = load_processed(storage, run.layout)
    figures: dict[str, TableFigures] = {}
    files: dict[str, list[FileInfo]] = {}
    try:
        # Every footer of every table is checked before any data is read: bad input fails fast.
        raw = {}
        with timed("list new files, check footers"):
            for name in TABLE_ORDER:
                files[name] = new_files(storage, raw_path, name, processed.get(name, set()))
                raw[name] = read_raw(spark, storage, SOURCE_TABLES[name], files[name]) if files[name] else None
        run.load_start = load_start([r for r in raw.values() if r is not None])
        for name in TABLE_ORDER:
            figures[name] = _curate_table(run, SOURCE_TABLES[name], files[name], raw[name])
        reconcile(figures)
        with timed("publish"):
            for publication in run.publications:
                publish(storage, publication)
        for name, infos in files.items():
            processed.setdefault(name, set()).update(relative_name(f.path, name) for f in infos)
        save_processed(storage, run.layout, processed)
        # Derived from the curated zone as now published (the merged state, not this batch).
        with timed("segment statistics"):
            statistics = segment_statistics.run_stage(spark, storage, run.layout, now)
        if not statistics["published"]:
            log.warning("segment statistics not published: %s", statistics["reason"])
        manifest = {
            "run_id": run_id, "started_at": now.isoformat(), "raw_path": raw_path, "curated_path": curated_path,
            "quarantine_path": quarantine_path, "duration_seconds": round(time.monotonic() - started, 3),
            "reconciled": True, "reference": versions(reference.manifests), "warnings": warnings,
            "tables": {name: f.as_dict() for name, f in figures.items()},
            "published": [p.as_dict() for p in run.publications],
            "segment_statistics": statistics,
        }
        storage.write_text(run.layout.run_manifest, json.dumps(manifest, indent=1))
        log.info("curation run manifest %s", json.dumps(manifest))
        return manifest
    finally:
        run.checkpoints.release()
        storage.delete(run.layout.staging)
        storage.delete(run.layout.quarantine_staging)


def _curate_table(run: Run, table: Table, files: list[FileInfo], raw: RawInput | None) -> TableFigures:
    """One pass over the raw rows per table, plus the writes: the rows read are counted (by Op,
    and how many were refused) by an observation on the way to the merge; the merged changes are
    kept, counted by decision in one aggregation and written from. Only a batch with refused rows
    is read a second time, to break those down by reason and write them to the quarantine."""
    fig = TableFigures(files_read=len(files), bytes_read=sum(f.size for f in files))
    if table.name == TRANSACTIONS.name:
        fig.amount_base = dict.fromkeys(amounts.ORIGINS, 0)
    if raw is None:
        return fig
    fig.schema_notes, fig.files_set_aside = raw.notes, raw.poisoned
    if not raw.frames:  # every new file was poison
        return fig
    # validate
    validated = reduce(DataFrame.unionByName, (validate(f, table, run.now, run.codes, run.load_start) for f in raw.frames))
    read = Observation(f"read_{table.name}")
    refused = F.col(REASON_COL).isNotNull()
    observed = validated.observe(read, F.count_if(refused).alias("refused"), *(
        F.count_if(~refused & (F.col(DMS_OP_COLUMN) == op)).alias(op) for op in DMS_OPS))
    # enrich
    accounts = current_table(run.spark, run.storage, run.layout, "accounts") \
        if table.name == TRANSACTIONS.name else None
    changes = cdc.collapse_duplicates(valid_rows(observed), table)
    if table.name == TRANSACTIONS.name:
        rates = reference_data.fx_rates(run.spark, run.storage, run.layout.curated_path) \
            if amounts.lacks_amount_base(raw.frames) else None
        changes = amounts.with_amount_base(changes, rates)
    changes = enrich.curated_changes(changes, table, run.key, accounts)
    # merge
    index = Index(run.spark, run.storage, run.layout, table.name)
    with timed(f"{table.name}: read, validate, merge, protect, count decisions"):
        if index.exists():
            changes = run.checkpoints.keep(changes)  # read by the lookup and by the merge
            valid_read = sum(read.get[op] for op in DMS_OPS)  # at least the batch's distinct keys
            current = index.entries_for(cdc.batch_keys(changes), at_most=valid_read)
        else:
            current = index.entries()  # no state yet: an empty relation, which the merge plans away
        merged = cdc.merge(changes, current, run.full_load_in(table.name, raw.files), run.checkpoints.keep)
    read_counts = read.get
    fig.rows_read = {op: read_counts[op] for op in DMS_OPS if read_counts[op]}
    fig.record_decisions(merged.counts, merged.duplicates)
    if table.name == TRANSACTIONS.name:
        fig.amount_base = {origin: merged.amount_base.get(origin, 0) for origin in amounts.ORIGINS}
    # stage: the quarantine, then the touched partitions
    if read_counts["refused"] or merged.refused_count:
        with timed(f"{table.name}: count and write quarantine"):
            if read_counts["refused"]:
                count_quarantine(validated, fig, read_counts["refused"])
            if merged.refused_count:  # a key change DMS wrote as a U under the new key (cdc.decide)
                fig.quarantined[cdc.UNKNOWN_KEY_REASON] = merged.refused_count
                validated = refuse(validated, merged.refused, cdc.UNKNOWN_KEY_REASON)
            run.publications.append(stage_quarantine(run.storage, run.layout, table, validated, fig))
    if merged.touched:
        run.publications.extend(stage_state(index, table, merged, fig))
    return fig
