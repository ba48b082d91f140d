"""`athena:startQueryExecution.sync` on DuckDB over the local mirror of the curated zone.

The QueryString (Athena/Trino SQL) gets its ExecutionParameters (SQL literal text, one per `?`,
in order) substituted, then runs on aml.query.local.LocalEngine (sqlglot transpile, one view per
curated table and reference dataset). The rows are written as Athena writes a result file
(https://docs.aws.amazon.com/athena/latest/ug/querying.html: CSV with a header row, every value
in double quotes, a NULL as an empty field without quotes) to
s3://<athena results bucket>/results/<QueryExecutionId>.csv, the workgroup's output location.
"""
from __future__ import annotations

import io
import json
import math
import re
import time
import uuid
from datetime import date, datetime

import pandas as pd

from aml.errors import AmlError
from aml.local import aws
from aml.pipeline.bindings import Binding, TaskError
from aml.query.output import athena_array
from aml_contract import names, schema

# SQL text that is not code: quoted strings and identifiers, comments (a `?` there is no parameter).
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


def substitute_parameters(sql: str, parameters: list[str]) -> str:
    """Each `?` outside strings and comments replaced, in order, by its execution parameter
    (SQL literal text, as Athena's ExecutionParameters take them)."""
    values = iter(parameters)
    count = 0

    def code(text: str) -> str:
        nonlocal count

        def one(_: re.Match) -> str:
            nonlocal count
            count += 1
            try:
                return next(values)
            except StopIteration:
                raise AmlError(f"the query has more `?` than the {len(parameters)} execution parameter(s)") from None
        return re.sub(r"\?", one, text)

    out, last = [], 0
    for match in _NOT_CODE.finditer(sql):
        out += [code(sql[last:match.start()]), match.group(0)]
        last = match.end()
    out.append(code(sql[last:]))
    if count != len(parameters):
        raise AmlError(f"the query has {count} `?` but {len(parameters)} execution parameter(s) were given")
    return "".join(out)


def _text(value) -> str | None:
    """One value as Athena's CSV writes it; None for NULL."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp | datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return f"{text} UTC" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "tolist") and getattr(value, "ndim", 1) == 0:  # a NumPy scalar: its Python value
        return _text(value.tolist())
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return athena_array(items, lambda v: str(_text(v)))
    return str(value)


def result_csv(frame: pd.DataFrame) -> str:
    """Athena's result file: a header row, every value double-quoted (quotes doubled), NULL empty."""
    buffer = io.StringIO()
    quote = '"{}"'.format

    def field(value) -> str:
        text = _text(value)
        return "" if text is None else quote(text.replace('"', '""'))
    buffer.write(",".join(quote(str(c).replace('"', '""')) for c in frame.columns) + "\n")
    for row in frame.itertuples(index=False, name=None):
        buffer.write(",".join(field(v) for v in row) + "\n")
    return buffer.getvalue()


def query_execution(query_id: str, task_input: dict, output_location: str, workgroup: str, state: str,
                    submitted: int, *, scanned: int = 0, reason: str | None = None) -> dict:
    """GetQueryExecution's response
    (https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryExecution.html), what the
    .sync integration returns (https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html);
    timestamps in epoch milliseconds as Step Functions serializes them."""
    done = int(time.time() * 1000)
    status = {"State": state, "SubmissionDateTime": submitted, "CompletionDateTime": done}
    if reason:
        status["StateChangeReason"] = reason
    context = task_input.get("QueryExecutionContext") or {"Database": schema.CURATED_DATABASE}
    execution = {
        "QueryExecutionId": query_id, "Query": task_input["QueryString"], "StatementType": "DML",
        "ResultConfiguration": {"OutputLocation": output_location},
        "QueryExecutionContext": {"Catalog": "AwsDataCatalog", **context},
        "Status": status,
        "Statistics": {"EngineExecutionTimeInMillis": done - submitted, "DataScannedInBytes": scanned,
                       "TotalExecutionTimeInMillis": done - submitted, "QueryQueueTimeInMillis": 0,
                       "ServicePreProcessingTimeInMillis": 0, "QueryPlanningTimeInMillis": 0,
                       "ServiceProcessingTimeInMillis": 0},
        "WorkGroup": workgroup,
        "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
    }
    if task_input.get("ExecutionParameters"):
        execution["ExecutionParameters"] = task_input["ExecutionParameters"]
    return {"QueryExecution": execution}


def athena_query_binding(res, zone) -> Binding:
    """`athena:startQueryExecution.sync` -> the query on DuckDB, its CSV in the results bucket;
    returns GetQueryExecution's response (Status.State SUCCEEDED, ResultConfiguration.OutputLocation
    the CSV). A query that fails is `States.TaskFailed`, its cause that response as JSON with
    State FAILED and the StateChangeReason."""
    from aml.query.local import LocalEngine

    def start_query_execution(task_input: dict) -> dict:
        query_id = str(uuid.uuid4())
        submitted = int(time.time() * 1000)
        key = f"{names.ATHENA_RESULTS_PREFIX}/{query_id}.csv"
        location = f"s3://{res.athena_results_bucket}/{key}"
        workgroup = task_input.get("WorkGroup") or res.athena_workgroup
        try:
            sql = substitute_parameters(task_input["QueryString"], list(task_input.get("ExecutionParameters") or []))
            result = LocalEngine(zone.ready()).run_sql(query_id, sql, [])
        except AmlError as err:
            raise TaskError("States.TaskFailed", json.dumps(query_execution(
                query_id, task_input, location, workgroup, "FAILED", submitted, reason=str(err)))) from err
        aws.client("s3").put_object(Bucket=res.athena_results_bucket, Key=key,
                                    Body=result_csv(result.frame).encode("utf-8"))
        return query_execution(query_id, task_input, location, workgroup, "SUCCEEDED", submitted,
                               scanned=result.bytes_scanned)
    return start_query_execution
