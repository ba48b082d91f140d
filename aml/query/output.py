"""Writing a result frame as a table, CSV, JSON lines or Parquet."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from aml.errors import AmlError

FORMATS = ("table", "csv", "json", "parquet")


def write(frame: pd.DataFrame, fmt: str, out: TextIO | None = None, path: str | None = None) -> None:
    if fmt == "parquet":
        if not path:
            raise AmlError("--output parquet needs a file", "add --out FILE.parquet")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return
    if fmt == "table":
        text = frame.to_string(index=False, max_colwidth=24) if len(frame) else "(no rows)"
        text += "\n"
    elif fmt == "csv":
        text = frame.to_csv(index=False)
    elif fmt == "json":
        text = frame.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        text = text if text.endswith("\n") or not text else text + "\n"
    else:
        raise AmlError(f"unknown output format {fmt!r}", f"one of: {', '.join(FORMATS)}")
    if path:
        Path(path).write_text(text)
    else:
        (out or sys.stdout).write(text)
