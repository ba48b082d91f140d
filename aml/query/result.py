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

    @property
    def rows(self) -> int:
        return len(self.frame)

    def summary(self) -> str:
        files = f", {self.files_scanned} files" if self.files_scanned is not None else ""
        return (f"{self.query}: {self.rows} rows, {self.bytes_scanned:,} bytes scanned{files}, "
                f"{self.elapsed_seconds:.2f}s on {self.engine}")
