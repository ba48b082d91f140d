"""Stage a table's outputs under the run's staging folders: its quarantined rows, and the new
content of the partitions the merge touched (rows and index entries). Each staging records the
figures the reconciliation checks, counted as the rows are written (no read-back), and returns
the `Publication`s that will swap it in once every table reconciles."""
from __future__ import annotations

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from aml_contract.schema import DMS_OP_COLUMN, PARTITIONED_TABLES, Table

from .cdc import Merge
from .columns import DELETED_COL, REASON_COL, curated_schema
from .errors import CurationError
from .publish import Publication, write_staged
from .run_manifest import TableFigures
from .runtime import timed
from .state import Index, Layout, read_parquet_or_empty
from .storage import Storage
from .validate import quarantine_rows


def count_quarantine(validated: DataFrame, fig: TableFigures, refused: int) -> None:
    """Refused rows by Op as read (any value, null included) and by reason; `refused` is how many
    the read counted, which a second read of the same files must confirm."""
    counts = validated.filter(F.col(REASON_COL).isNotNull()).groupBy(DMS_OP_COLUMN, REASON_COL).count().collect()
    for row in counts:
        op = row[DMS_OP_COLUMN] if row[DMS_OP_COLUMN] is not None else "null"
        fig.rows_read[op] = fig.rows_read.get(op, 0) + row["count"]
        fig.quarantined[row[REASON_COL]] = fig.quarantined.get(row[REASON_COL], 0) + row["count"]
    if fig.quarantined_total != refused:  # two reads of the same files disagree
        raise CurationError(f"refused {refused} rows on the way to the merge but {fig.quarantined_total} "
                            "when counting them by reason")


def stage_quarantine(storage: Storage, layout: Layout, table: Table, validated: DataFrame,
                     fig: TableFigures) -> Publication:
    staged = layout.staged_quarantine(table.name)
    written = Observation(f"quarantine_{table.name}")
    write_staged(storage, quarantine_rows(validated).observe(written, F.count(F.lit(1)).alias("rows")), staged,
                 partitioned=False)
    fig.quarantine_rows_written = written.get["rows"]
    return Publication(staged, layout.quarantine(table.name))


def stage_state(index: Index, table: Table, merged: Merge, fig: TableFigures) -> list[Publication]:
    """Write the touched partitions' new rows and index entries."""
    spark, storage, layout, name = index.spark, index.storage, index.layout, table.name
    partitioned = name in PARTITIONED_TABLES
    schema = curated_schema(name)
    old_rows = read_parquet_or_empty(spark, storage, layout.table(name), schema,
                                     merged.row_partitions if partitioned else None)
    rows = merged.rows(old_rows, table.column(table.primary_key).curated_name, partitioned)
    # Spark reports an observation only for a query that produced rows (on no rows `get` would
    # wait for ever), so rows are observed only when some are certain: any upsert is written, and
    # every applied change (there is one: a partition was touched) gets an index entry.
    certain_rows = merged.upserted > 0
    rows_written = Observation(f"rows_{name}")
    with timed(f"{name}: write rows"):
        write_staged(storage, rows.observe(rows_written, F.count(F.lit(1)).alias("rows")) if certain_rows else rows,
                     layout.staged_table(name), partitioned)

    live = ~F.col(DELETED_COL)
    index_after = Observation(f"index_after_{name}")
    touched_entries = index.entries(merged.touched)  # a partition not indexed yet reads as empty
    entries = merged.index(touched_entries).observe(index_after, F.count(F.when(live, F.lit(1))).alias("live"))
    with timed(f"{name}: write index"):
        write_staged(storage, entries, layout.staged_index(name), partitioned=True)

    fig.rows_written = rows_written.get["rows"] if certain_rows else \
        read_parquet_or_empty(spark, storage, layout.staged_table(name), schema).count()  # deletes only: rare
    fig.live_keys_after = index_after.get["live"]
    fig.live_keys_before = touched_entries.filter(live).count()
    written = storage.list_files(layout.staged_table(name), ".parquet")
    fig.files_written, fig.bytes_written = len(written), sum(f.size for f in written)
    fig.partitions_touched = merged.row_partitions if partitioned else []
    rows_target = tuple(merged.row_partitions) if partitioned else None
    return [Publication(layout.staged_table(name), layout.table(name), rows_target),
            Publication(layout.staged_index(name), layout.index(name), tuple(merged.touched))]
