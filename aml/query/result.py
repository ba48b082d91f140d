"""What a query run returns, whichever engine ran it."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class QueryResult:
    query: str
    engine: str  # "local" | "athena"
    frame: pd.DataFrame
    bytes_scanned: int  # data read from storage: DuckDB profiling, or Athena's DataScannedInBytes
    elapsed_seconds: float
    files_scanned: int | None = None  # local only: Parquet files read after partition pruning
    # local only: footers + needed column chunks of those files (what partition pruning leaves to read)
    bytes_in_partitions: int | None = None
    row_groups: tuple[int, int] | None = None  # local only: (read, in those files); the rest skipped by statistics
    notes: tuple[str, ...] = ()  # what the analyst must know to read the rows (e.g. no statistics published)

    @property
    def rows(self) -> int:
        return len(self.frame)

    def summary(self) -> str:
        files = f", {self.files_scanned} files" if self.files_scanned is not None else ""
        if self.bytes_in_partitions is not None:
            files += f" holding {self.bytes_in_partitions:,} bytes for the columns needed"
        if self.row_groups is not None:
            files += f", {self.row_groups[0]}/{self.row_groups[1]} row groups read"
        notes = "".join(f"; {n}" for n in self.notes)
        return (f"{self.query}: {self.rows} rows, {self.bytes_scanned:,} bytes scanned{files}, "
                f"{self.elapsed_seconds:.2f}s on {self.engine}{notes}")
