"""Engine-neutral arithmetic in the named queries: the checks that keep Athena and DuckDB on the
same answer at a threshold.

Athena (Trino) and DuckDB divide differently:
- Trino divides integers as integers (truncating), and a DECIMAL by a DECIMAL (an integer taken
  as DECIMAL(19,0)) at scale max(xs, ys), rounding
  (https://trino.io/docs/current/functions/decimal.html, "Binary arithmetic decimal operators"):
  SUM(amount_base) / 21 keeps 2 decimals.
- DuckDB's `/` always returns a DOUBLE (https://duckdb.org/docs/sql/functions/numeric.html).

So a threshold compared with a divided value can flip between engines (see the field case
../shared/cases/decimal-division). The rules, checked on the Trino text with sqlglot:
1. No comparison reads a divided value, directly or through a column computed by a division:
   cross-multiply instead (`recent * days >= k * baseline`), in exact DECIMAL and integer maths.
2. Every division is in floating point on purpose: one operand is `CAST(... AS DOUBLE)`. That
   rules out integer division and engine-dependent DECIMAL quotients; a DOUBLE is then only ever
   reported (rule 1), where both engines give the same IEEE-754 value.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

DIALECT = "athena"
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


@dataclass(frozen=True)
class Finding:
    rule: str  # "divided_comparison" | "non_double_division"
    sql: str  # the offending expression, as Trino text

    def __str__(self) -> str:
        return f"{self.rule}: {self.sql}"


def _is_double_cast(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DOUBLE)


def _divided_names(tree: exp.Expression) -> set[str]:
    """Output names of select items computed by a division, directly or from such a name
    (by name only, whatever the table alias: a conservative over-approximation)."""
    names: set[str] = set()
    aliases = list(tree.find_all(exp.Alias))
    changed = True
    while changed:
        changed = False
        for alias in aliases:
            if alias.alias in names:
                continue
            if _reads_division(alias.this, names):
                names.add(alias.alias)
                changed = True
    return names


def _reads_division(node: exp.Expression, divided: set[str]) -> bool:
    if isinstance(node, exp.Div) or node.find(exp.Div):
        return True
    return any(c.name in divided for c in node.find_all(exp.Column))


def lint(sql: str) -> list[Finding]:
    """Every breach of the two rules in one query text (Trino SQL)."""
    tree = sqlglot.parse_one(sql, read=DIALECT)
    divided = _divided_names(tree)
    findings = [Finding("divided_comparison", node.sql(dialect=DIALECT))
                for node in tree.find_all(*COMPARISONS) if _reads_division(node, divided)]
    findings += [Finding("non_double_division", node.sql(dialect=DIALECT))
                 for node in tree.find_all(exp.Div)
                 if not (_is_double_cast(node.this) or _is_double_cast(node.expression))]
    return findings
