"""Named queries by name, and the validation of the values a caller binds to them."""
from __future__ import annotations

from datetime import date

from aml.errors import AmlError
from aml_contract.named_queries import DATE_PARAMETER_SUFFIX, NamedQuery, load_all


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
