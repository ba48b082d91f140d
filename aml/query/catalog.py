"""Named queries by name, and the validation of the values a caller binds to them."""
from __future__ import annotations

import dataclasses
from datetime import date

from aml.errors import AmlError
from aml_contract import pseudonym
from aml_contract.named_queries import DATE_PARAMETER_SUFFIX, NamedQuery, load_all

ACCOUNT_PARAMETER = "account_pid"  # the investigation queries' account parameter (account_alerts)
ACCOUNT_COLUMN = "subject_account_pid"  # the account every scenario query's row is about


def queries() -> dict[str, NamedQuery]:
    return {q.name: q for q in load_all()}


WINDOW_PARAMETERS = {"start_date", "end_date"}


def window_queries() -> dict[str, NamedQuery]:
    """The monitoring queries: those taking exactly a window of dates (start_date, end_date), which
    the demo, the backtest and the benchmarks run over a period. The investigation queries
    (account_alerts, alert_evidence) also take an account or an alert; account_profiles takes one
    day (end_date, its as_of) and is the daily pipeline's (LoadProfiles)."""
    return {name: q for name, q in queries().items() if set(q.parameter_names) == WINDOW_PARAMETERS}


def get(name: str) -> NamedQuery:
    found = queries()
    if name not in found:
        raise AmlError(f"unknown query {name!r}", f"one of: {', '.join(sorted(found))}")
    return found[name]


def for_account(query: NamedQuery, values: dict[str, str], account_pid: str) -> tuple[NamedQuery, dict[str, str]]:
    """`query` and `values` narrowed to one account (its pseudonym): the value of the query's own
    account parameter when it takes one, else the query's rows whose subject is that account (the
    query's text as a subquery, filtered by one more `?` and ordered as the query orders them when
    its ORDER BY names output columns). The same text runs on Athena and DuckDB."""
    if not pseudonym.is_pseudonym(account_pid):
        raise AmlError(f"--account {account_pid!r} is not an account pseudonym",
                       "give a *_account_pid value (64 hex digits) from a query's output, not an account id")
    if values.get(ACCOUNT_PARAMETER, account_pid) != account_pid:
        raise AmlError(f"--account and --param {ACCOUNT_PARAMETER} name different accounts", "give one of them")
    values = {**values, ACCOUNT_PARAMETER: account_pid}
    if ACCOUNT_PARAMETER in query.parameters:
        return query, values
    if ACCOUNT_COLUMN not in query.columns:
        takes = sorted(n for n, q in queries().items() if ACCOUNT_COLUMN in q.columns)
        raise AmlError(f"query {query.name} has no {ACCOUNT_COLUMN} column to filter by --account",
                       f"--account applies to: {', '.join(takes)}")
    sql = f"SELECT * FROM (\n{query.sql.rstrip()}\n) AS hits\nWHERE hits.{ACCOUNT_COLUMN} = ?"
    order = _output_order(query)
    if order:
        sql += f"\nORDER BY {order}"
    return dataclasses.replace(query, sql=sql + "\n", parameters=(*query.parameters, ACCOUNT_PARAMETER)), values


def _output_order(query: NamedQuery) -> str | None:
    """The query's outermost ORDER BY when every key is one of its output columns (else None: an
    order by an expression or a column of the inner tables cannot be applied outside)."""
    import sqlglot
    from sqlglot import exp

    order = sqlglot.parse_one(query.sql, read="athena").args.get("order")
    if not order:
        return None
    keys = order.expressions
    if not all(isinstance(k.this, exp.Column) and not k.this.table and k.this.name in query.columns for k in keys):
        return None
    return ", ".join(k.this.name + (" DESC" if k.args.get("desc") else "") for k in keys)


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """`--param name=value` strings into a dict."""
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise AmlError(f"malformed parameter {item!r}", "write --param name=value, e.g. start_date=2025-01-31")
        values[name.strip()] = value.strip()
    return values


def bind(query: NamedQuery, values: dict[str, str]) -> dict[str, str]:
    """Checked values for every parameter of `query`: none missing or unknown, dates valid and
    in order (start_date <= end_date)."""
    wanted = query.parameter_names
    missing = [n for n in wanted if n not in values]
    if missing:
        example = " ".join(f"--param {n}=" + ("YYYY-MM-DD" if n.endswith(DATE_PARAMETER_SUFFIX) else "VALUE")
                           for n in missing)
        raise AmlError(f"query {query.name} needs parameter(s) {', '.join(missing)}", example)
    unknown = sorted(set(values) - set(wanted))
    if unknown:
        raise AmlError(f"query {query.name} has no parameter(s) {', '.join(unknown)}",
                       f"it takes: {', '.join(wanted)}")
    dates = {}
    for name in wanted:
        if name.endswith(DATE_PARAMETER_SUFFIX):
            try:
                dates[name] = date.fromisoformat(values[name])
            except ValueError:
                raise AmlError(f"parameter {name}={values[name]!r} is not a date",
                               "use the form YYYY-MM-DD") from None
            values = {**values, name: dates[name].isoformat()}
    if "start_date" in dates and "end_date" in dates and dates["start_date"] > dates["end_date"]:
        raise AmlError(f"start_date {dates['start_date']} is after end_date {dates['end_date']}",
                       "swap them or widen the window")
    return {n: values[n] for n in wanted}
