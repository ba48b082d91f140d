"""Writing a result frame as a table, CSV, JSON lines or Parquet."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from aml.errors import AmlError

FORMATS = ("table", "csv", "json", "parquet")
SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def resolve(fmt: str | None, path: str | None) -> str:
    """The output format: the one asked for, else the one `path`'s suffix names, else a table on
    the terminal. Checked before the query runs, so a bad choice costs nothing."""
    if path and Path(path).is_dir():
        raise AmlError(f"--out {path} is a folder", "give a file name, e.g. --out alerts.csv")
    if fmt is None:
        if not path:
            return "table"
        try:
            return SUFFIXES[Path(path).suffix.lower()]
        except KeyError:
            raise AmlError(f"cannot tell the format of {Path(path).name} from its suffix",
                           f"add --output csv|json|parquet, or name it {', '.join(SUFFIXES)}") from None
    if fmt == "table" and path:
        raise AmlError("--output table prints to the terminal (it truncates wide values)",
                       "write a file with --output csv|json|parquet")
    if fmt == "parquet" and not path:
        raise AmlError("--output parquet needs a file", "add --out FILE.parquet")
    return fmt


def athena_array(items, text=str) -> str:
    """An array value as Athena writes it into a result CSV: `[a, b, c]`, elements unquoted with
    ", " between, a null element empty (https://docs.aws.amazon.com/athena/latest/ug/creating-arrays.html;
    an array<double> in a result file reads "[0.1234, 0.98765]",
    https://github.com/pyathena-dev/PyAthena/issues/285). The daily pipeline's batch alerts read
    the scenario queries' transaction_ids in this form (lambdas.daily_pipeline.batch_alerts.athena_array)."""
    return "[" + ", ".join("" if v is None else text(v) for v in items) + "]"


def _is_array(value) -> bool:
    return isinstance(value, list | tuple) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1)


def _athena_arrays(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its array cells (DuckDB gives numpy arrays) as Athena's CSV writes them."""
    columns = [c for c in frame.columns if frame[c].dtype == object and frame[c].map(_is_array).any()]
    if not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(lambda v: athena_array(list(v)) if _is_array(v) else v)
    return frame


def write(frame: pd.DataFrame, fmt: str, out: TextIO | None = None, path: str | None = None) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        if not path:
            raise AmlError("--output parquet needs a file", "add --out FILE.parquet")
        frame.to_parquet(path, index=False)
        return
    if fmt == "table":
        text = frame.to_string(index=False, max_colwidth=24) if len(frame) else "(no rows)"
        text += "\n"
    elif fmt == "csv":  # arrays as Athena writes them, so an export reads the same from either engine
        text = _athena_arrays(frame).to_csv(index=False)
    elif fmt == "json":
        text = frame.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        text = text if text.endswith("\n") or not text else text + "\n"
    else:
        raise AmlError(f"unknown output format {fmt!r}", f"one of: {', '.join(FORMATS)}")
    if path:
        Path(path).write_text(text)
    else:
        (out or sys.stdout).write(text)
