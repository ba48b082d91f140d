"""Importers: a published labelled AML dataset -> `aml.evaluate.dataset.Dataset` (the source
contract plus labels kept apart). One module per format; `load(format, path)` picks it."""
from __future__ import annotations

import importlib
from pathlib import Path

from aml.errors import AmlError

FORMATS = {"amlsim": "amlsim", "saml-d": "samld", "amlworld": "amlworld", "contract": "contract"}


def load(fmt: str, path: str | Path):
    if fmt not in FORMATS:
        raise AmlError(f"unknown format {fmt!r}", f"one of: {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise AmlError(f"{path} does not exist", "point at the dataset's file or folder")
    return importlib.import_module(f"aml.evaluate.importers.{FORMATS[fmt]}").load(path)


def read_csv(path: Path, required: list[str], **kwargs):
    """A CSV with its required columns checked up front, every value read as text."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], **kwargs)
    except (OSError, ValueError) as err:
        raise AmlError(f"cannot read {path}: {err}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise AmlError(f"{path.name} lacks column(s) {', '.join(missing)}",
                       f"found: {', '.join(map(str, frame.columns))}")
    return frame


def single_file(path: Path, pattern: str, hint: str) -> Path:
    """`path` itself, or the one file matching `pattern` in the folder `path`."""
    if not path.is_dir():
        return path
    found = sorted(path.glob(pattern))
    if len(found) != 1:
        raise AmlError(f"{path} holds {len(found)} {pattern} files", hint)
    return found[0]


def mapped(values, mapping: dict[str, str], where: str):
    """Each value (trimmed, lower case) as `mapping` maps it; any value the mapping lacks stops the
    import with one error naming it, so no row is silently dropped or mistyped."""
    kinds = values.fillna("").str.strip().str.lower()
    unmapped = sorted(set(kinds) - set(mapping))
    if unmapped:
        raise AmlError(f"{where}: unknown value(s) {unmapped}", f"expected: {', '.join(sorted(mapping))}")
    return kinds.map(mapping)


def truthy(series):
    """1/0, true/false, True/False, yes/no as booleans."""
    return series.fillna("").astype(str).str.strip().str.lower().isin(("1", "true", "t", "yes", "y"))
