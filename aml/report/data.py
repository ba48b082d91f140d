"""What `aml report` reads, on either engine: the report's queries (aml_report.queries: its own two
in athena_queries/report/, not registered in Athena, and customer_risk_summary) over the period,
run by the query layer's engines, and the JSON the pipeline leaves beside the tables in the curated
zone (aml_report.documents: a folder locally, the deployment's curated bucket with Athena)."""
from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd

from aml import aws_account
from aml.errors import AmlError
from aml.query import catalog
from aml.query.athena import DEFAULT_ENV
from aml.query.run import engine_for
from aml_contract import names
from aml_report import queries
from aml_report.build import ZoneData, zone_data
from aml_report.documents import LocalFiles, S3Files


def parse_period(start: str, end: str) -> tuple[date, date]:
    """--from and --to as dates, the first not after the second."""
    days = []
    for flag, text in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise AmlError(f"{flag} {text!r} is not a date", "use the form YYYY-MM-DD") from None
    if days[0] > days[1]:
        raise AmlError(f"--from {days[0]} is after --to {days[1]}", "swap them")
    return days[0], days[1]


def deployed_curated_files(env_name: str | None = None) -> S3Files:
    """The curated bucket of the deployment of `env_name` (default dev) on the caller's account and
    region, as the Athena engine finds its workgroup (aml.aws_account), never the local emulator's."""
    session = aws_account.session("--engine athena")
    account = session.client("sts").get_caller_identity()["Account"]
    return S3Files(names.bucket_name(env_name or DEFAULT_ENV, "curated_bucket", account, session.region_name),
                   session.client("s3"))


def _value(value):
    """A frame's NULL (NaN, NA, NaT) as None; anything else as it is."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """A query result's rows as dicts of plain values, what the report's sections read."""
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def gather(start: date, end: date, engine: str = "local", data_dir: str | Path | None = None,
           workgroup: str | None = None, env_name: str | None = None) -> ZoneData:
    """Everything the standard sections need, for the days [start, end]."""
    window = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    runner = engine_for(engine, data_dir, workgroup, env_name=env_name)
    rows = {q.name: records(runner.run(q, catalog.bind(q, window)).frame)  # one engine for every query
            for q in queries.all_queries()}
    files = deployed_curated_files(env_name) if engine == "athena" else LocalFiles(runner.data_dir)
    return zone_data(start, end, engine, rows, files)


def load_scores(path: str | Path) -> dict:
    """Labelled figures per scenario ({scenario: {recall, precision, ...}}) from a JSON file: the
    demo's summary.json (its `detection`) or that mapping itself."""
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise AmlError(f"cannot read scores from {path}: {err}", "pass a JSON file such as out/demo/summary.json") \
            from None
    found = found.get("detection", found) if isinstance(found, dict) else None
    if not isinstance(found, dict) or not all(isinstance(v, dict) and "recall" in v for v in found.values()):
        raise AmlError(f"{path} holds no scores", "expected {scenario: {recall, precision}} or a summary.json "
                       "with `detection`")
    return found
