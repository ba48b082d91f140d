"""The query lint (aml/query/lint.py): every named query compares thresholds without dividing and
divides only in DOUBLE; and the lint itself catches each kind of breach."""
from __future__ import annotations

import pytest

from aml.query.lint import lint
from aml_contract.named_queries import load_all

QUERIES = load_all()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_named_query_passes_the_lint(query):
    assert [str(f) for f in lint(query.sql)] == []


@pytest.mark.parametrize(("sql", "rule"), [
    # the comparison of the field case ../shared/cases/decimal-division, as velocity_spike had it
    ("SELECT a FROM t WHERE recent >= 5 * (base * 1 / 21)", "divided_comparison"),
    # a divided value compared two CTEs later, through renamed columns
    ("WITH r AS (SELECT CAST(s AS DOUBLE) / n AS per_day FROM t), q AS (SELECT per_day AS x FROM r) "
     "SELECT * FROM q WHERE x > 3", "divided_comparison"),
    ("SELECT a FROM t GROUP BY a HAVING SUM(b) BETWEEN 1 AND CAST(SUM(c) AS DOUBLE) / 2", "divided_comparison"),
    ("SELECT a FROM t JOIN u ON t.x = CAST(u.y AS DOUBLE) / 100", "divided_comparison"),
    ("SELECT CASE WHEN CAST(a AS DOUBLE) / b > 0.8 THEN 1 END FROM t", "divided_comparison"),
    # integer division (Trino truncates, DuckDB's `/` gives a DOUBLE) and a DECIMAL quotient
    ("SELECT COUNT(*) / 3 AS third FROM t", "non_double_division"),
    ("SELECT SUM(amount_base) / 21 AS per_day FROM t", "non_double_division"),
])
def test_lint_catches(sql, rule):
    assert rule in {f.rule for f in lint(sql)}


def test_lint_accepts_cross_multiplied_comparison_and_reported_double_ratio():
    sql = ("SELECT CAST(recent AS DOUBLE) / base AS ratio FROM t "
           "WHERE recent * days >= 5 * 1 * base ORDER BY ratio DESC")
    assert lint(sql) == []
