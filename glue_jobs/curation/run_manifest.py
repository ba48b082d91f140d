"""The run manifest: what a run read, refused, collapsed, applied and wrote, per table, and the
reconciliation that fails the run (before anything is published) when the counts disagree."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from aml_contract.schema import TRANSACTIONS

from .errors import CurationError

# The figure each applied or dismissed decision of the merge (`cdc`) adds to.
DECISION_FIGURES = {"superseded": "superseded", "stale": "stale", "insert": "inserted", "update": "updated",
                    "delete": "deleted", "delete_unknown": "deletes_of_unknown_keys"}


@dataclass
class TableFigures:
    files_read: int = 0
    bytes_read: int = 0
    rows_read: dict[str, int] = field(default_factory=dict)  # by Op as read
    quarantined: dict[str, int] = field(default_factory=dict)  # by reason
    quarantine_rows_written: int = 0
    duplicates_collapsed: int = 0
    superseded: int = 0  # a later change to the key came in the same run
    stale: int = 0  # the state already held this change or a later one
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    deletes_of_unknown_keys: int = 0
    partitions_touched: list[str] = field(default_factory=list)  # `dt` values rewritten
    rows_written: int = 0  # rows in the rewritten partitions (or the whole current-state table)
    files_written: int = 0
    bytes_written: int = 0
    live_keys_before: int = 0  # in the rewritten partitions, per the state index
    live_keys_after: int = 0
    # transactions: curated (inserted or updated) rows by where amount_base came from: the
    # source, derived from the reference rate, or unknown (null: no rate for the currency and day)
    amount_base: dict[str, int] = field(default_factory=dict)
    schema_notes: list[str] = field(default_factory=list)
    # Poison files (unreadable, or lacking a required column): never read, never read again (they
    # are marked processed), left in the raw zone. file (below its table folder) -> why.
    files_set_aside: dict[str, str] = field(default_factory=dict)

    @property
    def rows_read_total(self) -> int:
        return sum(self.rows_read.values())

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def record_decisions(self, counts: dict[str, int], duplicates: int) -> None:
        """Add the merge's changes per decision; a refused decision (not listed) is counted
        where its rows are quarantined."""
        for decision, n in counts.items():
            if decision in DECISION_FIGURES:
                name = DECISION_FIGURES[decision]
                setattr(self, name, getattr(self, name) + n)
        self.duplicates_collapsed = duplicates

    def as_dict(self) -> dict:
        return {**asdict(self), "rows_read_total": self.rows_read_total,
                "quarantined_total": self.quarantined_total}


def reconciliation_errors(table: str, f: TableFigures) -> list[str]:
    """Every row read is accounted for exactly once, and the written state equals the state
    before plus inserts minus deletes."""
    errors = []
    accounted = (f.quarantined_total + f.duplicates_collapsed + f.superseded + f.stale + f.inserted
                 + f.updated + f.deleted + f.deletes_of_unknown_keys)
    if f.rows_read_total != accounted:
        errors.append(f"{table}: read {f.rows_read_total} rows but accounted for {accounted} "
                      "(quarantined + duplicates + superseded + stale + inserted + updated + deleted "
                      "+ deletes of unknown keys)")
    if f.quarantine_rows_written != f.quarantined_total:
        errors.append(f"{table}: quarantined {f.quarantined_total} rows but wrote {f.quarantine_rows_written}")
    if f.live_keys_after != f.live_keys_before + f.inserted - f.deleted:
        errors.append(f"{table}: state holds {f.live_keys_after} live keys, expected "
                      f"{f.live_keys_before} + {f.inserted} inserted - {f.deleted} deleted")
    if table == TRANSACTIONS.name and sum(f.amount_base.values()) != f.inserted + f.updated:
        errors.append(f"{table}: amount_base of {sum(f.amount_base.values())} rows accounted for "
                      f"({f.amount_base}), but {f.inserted} inserted + {f.updated} updated")
    if f.rows_written != f.live_keys_after:
        errors.append(f"{table}: wrote {f.rows_written} rows but the state holds {f.live_keys_after} live keys")
    return errors


def reconcile(figures: dict[str, TableFigures]) -> None:
    errors = [e for table, f in figures.items() for e in reconciliation_errors(table, f)]
    if errors:
        raise CurationError("counts do not reconcile: " + "; ".join(errors))


SUMMARY_FIGURES = ("rows_read_total", "inserted", "updated", "deleted", "quarantined_total", "rows_written",
                   "amount_base")


def run_summary(manifest: dict) -> dict:
    """The run manifest's headline (what the entry script prints last, and the demo reports)."""
    return {"run_id": manifest["run_id"], "duration_seconds": manifest["duration_seconds"],
            "reference": manifest.get("reference"), "warnings": manifest.get("warnings", []),
            "segment_statistics": manifest.get("segment_statistics"),
            "tables": {t: {k: f[k] for k in SUMMARY_FIGURES if k in f} for t, f in manifest["tables"].items()}}
