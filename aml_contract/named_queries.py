"""The Athena named queries (athena_queries/*.sql): header, execution parameters and rendered SQL.

Each file is Athena engine v3 (Trino) SQL starting with a header of ``-- key: value`` lines
(continuation lines start with ``--`` and more indentation)::

    -- name: structuring
    -- description: Cash deposits just below the CTR threshold ...
    -- parameters: start_date, end_date
    -- serves: 31 CFR 1010.314 (structuring); FinCEN red flag ...
    -- columns: subject_account_pid, deposit_count, ...
    -- evidence: window first_window_start..last_window_end; transactions transaction_ids; count transaction_count

``parameters`` names every ``?`` execution parameter in the order it appears (a name may repeat
when a value is needed twice, as the Athena console asks for each ``?`` in turn). Thresholds are
never written in the SQL: placeholders ``{{<rule_id>.<parameter>}}`` are rendered from
rule_parameters.json as SQL literals, so Athena, the local DuckDB engine and the real-time Lambda
all use the same values. The FATF lists are not parameters: they are dated reference data, and a
query joins the ``fatf_lists`` table on the booking date (high_risk_jurisdiction.sql), so a
``{{fatf.<list>}}`` placeholder is an error. The risk score's parameters render too:
``{{risk_score.alert_budget}}`` as a literal, ``{{risk_score.weights}}`` as the rows of a
``(VALUES ...) AS w(rule_id, weight)`` table (aml_contract.risk), and a list of objects (``{{fan_in.windows}}``)
as VALUES rows, columns in the objects' key order. ``{{profiles.<key>}}`` renders a value of the
`profiles` section (aml_contract.profiles.ProfileParameters), which the account_profiles query
reads. ``{{evidence.max_transactions}}`` renders MAX_EVIDENCE_TRANSACTIONS (below), the length
a scenario query caps its list of transaction ids at, and ``{{evidence.list}}`` the two columns
every scenario query aggregates its evidence into (EVIDENCE_LIST_SQL). Standard library only: the CDK stacks
import this to register one AWS::Athena::NamedQuery per file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

from aml_contract import risk, rules

QUERIES_DIR = Path(__file__).resolve().parent.parent / "athena_queries"
# The report's own queries (aml_report.queries), same format, not registered as named queries.
REPORT_QUERIES_DIR = QUERIES_DIR / "report"
HEADER_KEYS = ("name", "description", "parameters", "serves", "columns")
# A scenario query (one whose name is a rule id) also declares its `evidence`: the output columns
# bounding each hit's window, and those naming the transactions that make up the hit, for batch
# alerts (lambdas/daily_pipeline) and the analyst:
#   ``-- evidence: window <start>[..<end>]; transactions <col>[, <col>][; count <col>]``
# Without `count`, each transactions column holds one transaction id (a row about one transaction,
# or a cycle's hops). With `count`, the one transactions column is a list (an Athena array): the ids
# of the hit's first MAX_EVIDENCE_TRANSACTIONS transactions by (booked_at, transaction_id), and the
# count column says how many there are in all, so a list cut short says so beside it.
EVIDENCE_KEY = "evidence"
# The cap of a hit's list of transaction ids. A batch alert stores its ids in one DynamoDB item
# (400 KB at most; the ids appear there three times: the alert's list, its curated row, the query
# row in its details), in one SNS message (256 KB) and one Firehose record: 100 ids of the
# contract's longest (64 characters, aml_contract.schema.ID_LENGTH) keep the item under 31 KB, and
# every scenario's typical hit (a handful to a few dozen transactions) whole. A hit of more (a busy
# day's velocity spike, a fan-in of hundreds of payers) names its first 100 by time; its
# transaction_count holds the total, and alert_evidence lists the window's other transactions.
MAX_EVIDENCE_TRANSACTIONS = 100
EVIDENCE_SCOPE = "evidence"  # {{evidence.max_transactions}}: MAX_EVIDENCE_TRANSACTIONS
# {{evidence.list}}: the two evidence columns, aggregated over a query's rows of one hit that hold
# transaction_id and booked_at: the first MAX_EVIDENCE_TRANSACTIONS ids by time (then id), and how many.
EVIDENCE_LIST_SQL = (f"slice(array_agg(transaction_id ORDER BY booked_at, transaction_id), 1, {MAX_EVIDENCE_TRANSACTIONS})"
                     " AS transaction_ids, COUNT(*) AS transaction_count")
DATE_PARAMETER_SUFFIX = "_date"  # parameters named *_date take YYYY-MM-DD values
PROFILES_SCOPE = "profiles"  # {{profiles.<key>}}: rule_parameters.json's profiles section (aml_contract.profiles)

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")
_HEADER_LINE = re.compile(r"^--\s?([a-z_]+):\s*(.*)$")
# String literals, quoted identifiers and comments: a `?` inside them is not a parameter.
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


class NamedQueryError(ValueError):
    """A query file that breaks the conventions above."""


@dataclass(frozen=True)
class Evidence:
    """Where a scenario query's row holds its evidence: the columns of the window's first and last
    instant (the same column when the evidence is one instant or one day), the columns naming the
    hit's transactions, and, when those are one list, the column counting them all (see
    EVIDENCE_KEY)."""

    window_start: str
    window_end: str
    transactions: tuple[str, ...] = ()
    count: str | None = None  # the list's total; None: each transactions column holds one id

    @property
    def is_list(self) -> bool:
        return self.count is not None

    @classmethod
    def parse(cls, text: str, columns: tuple[str, ...]) -> Evidence:
        expected = "expected 'window <start>[..<end>]; transactions <columns>[; count <column>]'"
        try:
            parts = dict(p.strip().split(" ", 1) for p in text.split(";") if p.strip())
        except ValueError:
            raise NamedQueryError(f"evidence {text!r}: {expected}") from None
        if set(parts) - {"window", "transactions", "count"} or "window" not in parts:
            raise NamedQueryError(f"evidence {text!r}: {expected}")
        start, _, end = parts["window"].strip().partition("..")
        count = parts["count"].strip() if "count" in parts else None
        found = cls(start.strip(), (end or start).strip(), _split_list(parts.get("transactions", "")), count)
        if count is not None and len(found.transactions) != 1:
            raise NamedQueryError(f"evidence {text!r}: `count` counts one list column, named by `transactions`")
        unknown = [c for c in (found.window_start, found.window_end, *found.transactions, *([count] if count else []))
                   if c not in columns]
        if unknown:
            raise NamedQueryError(f"evidence names {', '.join(unknown)}, not among the query's columns")
        return found


@dataclass(frozen=True)
class NamedQuery:
    name: str  # the file stem, snake_case scenario name
    description: str
    parameters: tuple[str, ...]  # one name per `?`, in order
    serves: str  # the regulation or red flag the scenario serves
    columns: tuple[str, ...]  # expected output columns
    sql: str  # the full text (header included) with thresholds rendered
    path: Path
    evidence: Evidence | None = None  # scenario queries: what a batch alert takes from a row

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Distinct parameter names in first-use order (what a caller supplies)."""
        return tuple(dict.fromkeys(self.parameters))

    def bind_order(self, values: dict[str, str]) -> list[str]:
        """The value of each `?` in order, from values given by name."""
        return [values[name] for name in self.parameters]

    def execution_parameters(self, values: dict[str, str]) -> list[str]:
        """Athena's ExecutionParameters: each `?`'s value as SQL literal text (strings quoted)."""
        return ["'" + value.replace("'", "''") + "'" for value in self.bind_order(values)]


@dataclass(frozen=True)
class SqlText:
    """SQL rendered as it is (an expression the contract writes once for every query)."""

    text: str


@dataclass(frozen=True)
class SqlRows:
    """Rows for a ``VALUES`` list: ``(a, b), (c, d)``."""

    rows: tuple[tuple[object, ...], ...]


def sql_literal(value: object) -> str:
    """A rule parameter as a SQL literal both Trino and DuckDB read the same way."""
    if isinstance(value, SqlText):
        return value.text
    if isinstance(value, SqlRows):
        return ", ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in value.rows)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        # A list of objects (fan_in.windows): the rows of a VALUES table, columns in the objects' key order.
        keys = list(value[0])
        if any(list(v) != keys for v in value):
            raise NamedQueryError("a list of objects renders as VALUES rows only when every object has the same keys")
        return sql_literal(SqlRows(tuple(tuple(v[k] for k in keys) for v in value)))
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if not items:
            raise NamedQueryError("an empty list cannot be rendered as a SQL IN list")
        return "(" + ", ".join(sql_literal(v) for v in items) + ")"
    raise NamedQueryError(f"cannot render {type(value).__name__} as a SQL literal")


def placeholder_value(scope: str, key: str, params: rules.RuleParameters) -> object:
    """The value a ``{{scope.key}}`` placeholder stands for."""
    if scope == "fatf":
        raise NamedQueryError(f"{{{{fatf.{key}}}}}: the FATF lists are dated reference data, not a rendered "
                              "literal; join the fatf_lists table on the booking date (see high_risk_jurisdiction.sql)")
    if scope == "risk_score":
        if key == "weights":
            return SqlRows(tuple(risk.weights(params).items()))
        if key == "alert_budget":
            return float(params.risk_score.alert_budget)
        raise NamedQueryError(f"{{{{risk_score.{key}}}}}: risk_score renders alert_budget and weights")
    if scope == EVIDENCE_SCOPE:
        if key == "max_transactions":
            return MAX_EVIDENCE_TRANSACTIONS
        if key == "list":
            return SqlText(EVIDENCE_LIST_SQL)
        raise NamedQueryError(f"{{{{evidence.{key}}}}}: evidence renders max_transactions and list")
    if scope == PROFILES_SCOPE:
        if key not in {f.name for f in fields(params.profiles)}:
            raise NamedQueryError(f"{{{{profiles.{key}}}}}: no such profiles parameter")
        return getattr(params.profiles, key)
    if scope not in params.rules:
        raise NamedQueryError(f"unknown rule {scope!r} in placeholder {{{{{scope}.{key}}}}}")
    try:
        return params.rule(scope)[key]
    except KeyError as err:
        raise NamedQueryError(str(err.args[0])) from None


def render(text: str, params: rules.RuleParameters | None = None) -> str:
    """Replace every placeholder by its SQL literal."""
    params = params or rules.load()
    return _PLACEHOLDER.sub(lambda m: sql_literal(placeholder_value(m[1], m[2], params)), text)


def placeholders(text: str) -> list[tuple[str, str]]:
    """(scope, key) of every placeholder in a query text, in order."""
    return [(m[1], m[2]) for m in _PLACEHOLDER.finditer(text)]


def parse_header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER_LINE.match(line)
        if match and match[1] in (*HEADER_KEYS, EVIDENCE_KEY):
            last = match[1]
            header[last] = match[2].strip()
        elif last and line[2:].strip():
            header[last] += " " + line[2:].strip()
    return header


def count_parameters(sql: str) -> int:
    """Number of `?` execution parameters outside literals and comments."""
    return _NOT_CODE.sub(" ", sql).count("?")


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse(path: Path, params: rules.RuleParameters | None = None) -> NamedQuery:
    try:
        sql = render(path.read_text(encoding="utf-8"), params)
    except NamedQueryError as err:
        raise NamedQueryError(f"{path.name}: {err}") from None
    header = parse_header(sql)
    missing = [k for k in HEADER_KEYS if not header.get(k)]
    if missing:
        raise NamedQueryError(f"{path.name}: header lacks {', '.join(missing)}")
    if header["name"] != path.stem:
        raise NamedQueryError(f"{path.name}: header name {header['name']!r} differs from the file name")
    parameters = _split_list(header["parameters"])
    found = count_parameters(sql)
    if found != len(parameters):
        raise NamedQueryError(f"{path.name}: {found} `?` parameters in the SQL, {len(parameters)} in the header")
    columns = _split_list(header["columns"])
    try:
        evidence = Evidence.parse(header[EVIDENCE_KEY], columns) if header.get(EVIDENCE_KEY) else None
    except NamedQueryError as err:
        raise NamedQueryError(f"{path.name}: {err}") from None
    return NamedQuery(path.stem, header["description"], parameters, header["serves"], columns, sql, path, evidence)


def load_all(directory: str | Path | None = None, params: rules.RuleParameters | None = None) -> list[NamedQuery]:
    """Every named query in `directory` (the repository's athena_queries/ by default), by name."""
    folder = Path(directory) if directory is not None else QUERIES_DIR
    return [parse(p, params) for p in sorted(folder.glob("*.sql"))]
