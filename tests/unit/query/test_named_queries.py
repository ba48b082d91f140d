"""The query files: header, parameters, Trino validity, and thresholds equal to the rule parameters."""
from __future__ import annotations

import re

import pytest
import sqlglot

from aml.evaluate import baseline
from aml.query.local import transpile
from aml_contract import named_queries, profiles, risk, rules
from aml_contract.named_queries import NamedQueryError, load_all, placeholder_value, placeholders, sql_literal

REQUIRED = {"high_value_transactions", "large_cash", "structuring", "smurfing", "rapid_movement", "fan_in", "fan_out",
            "round_amounts", "cycles", "dormant_reactivation", "high_risk_jurisdiction", "velocity_spike",
            "pep_high_risk_activity", "customer_risk_summary"}
QUERIES = load_all()


def test_every_scenario_has_a_file_with_a_full_header():
    assert {q.name for q in QUERIES} >= REQUIRED
    for q in QUERIES:
        assert q.description and q.serves and q.columns, q.name
        # the profiles query describes one day (its as_of): end_date only
        window = {"end_date"} if q.name == profiles.QUERY_NAME else {"start_date", "end_date"}
        assert window <= set(q.parameter_names), q.name
        assert any(c.endswith("account_pid") for c in q.columns), q.name


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_parses_as_trino_and_transpiles_to_duckdb(query):
    for dialect in ("athena", "trino"):
        tree = sqlglot.parse_one(query.sql, read=dialect)
        assert isinstance(tree, sqlglot.exp.Query)
    assert "{{" not in query.sql and "?" in transpile(query.sql)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_dt_partition_restricted_by_parameters(query):
    body = "\n".join(line for line in query.sql.splitlines() if not line.startswith("--"))
    assert re.search(r"WHERE dt BETWEEN .*\?", body, re.DOTALL), query.name


def test_rendered_thresholds_equal_rule_parameters():
    params = rules.load()
    # the risk score's placeholders: the weights (aml_contract.risk) as VALUES rows, the budget a literal
    risk_score = {"weights": named_queries.SqlRows(tuple(risk.weights(params).items())),
                  "alert_budget": float(params.risk_score.alert_budget)}
    evidence = {"max_transactions": named_queries.MAX_EVIDENCE_TRANSACTIONS,
                "list": named_queries.SqlText(named_queries.EVIDENCE_LIST_SQL)}
    seen = set()
    for path in sorted(named_queries.QUERIES_DIR.glob("*.sql")):
        text = path.read_text()
        rendered = named_queries.render(text)
        for scope, key in placeholders(text):
            value = placeholder_value(scope, key, params)
            expected = (risk_score[key] if scope == "risk_score" else getattr(params.profiles, key)
                        if scope == named_queries.PROFILES_SCOPE else evidence[key]
                        if scope == named_queries.EVIDENCE_SCOPE else params.rule(scope)[key])
            assert value == expected
            assert sql_literal(expected) in rendered
            seen.add((scope, key))
        assert not re.search(r"\b(8000|9000|10000|5000)\b", re.sub(r"\{\{.*?\}\}", "", text)), path.name
    assert ("structuring", "min_amount") in seen and ("high_risk_jurisdiction", "grey_list_min_amount") in seen
    assert {("risk_score", k) for k in risk_score} <= seen  # customer_risk_summary ranks and cuts by them
    # account_profiles sizes its baseline and its lists by the profiles section
    assert {("profiles", k) for k in ("baseline_days", "max_counterparties", "max_countries")} <= seen
    # large_cash aggregates per dt partition (the UTC day), which is right only for a 1-day window
    assert params.rule("large_cash")["window_days"] == 1
    implicit = {("large_cash", "window_days")}
    # every threshold of every rule with a query is used by some query; a real-time-only rule
    # (amount_outlier, new_high_risk_country: they need a profile) has no query
    with_query = {q.name for q in QUERIES}
    for rule_id, rule in params.rules.items():
        if rule_id not in with_query:
            continue
        used = {k for s, k in seen | implicit if s == rule_id}
        assert used == set(rule.params), rule_id


def test_changed_parameters_change_the_sql():
    raw = {"version": "t", "base_currency": "USD", "out_of_order_tolerance_hours": 1,
           "risk_score": {"severity_multipliers": {"low": 1, "medium": 1, "high": 1}, "alert_budget": 0.5},
           "segments": {"statistics_days": 1, "min_transactions": 1, "percentiles": [50]},
           "profiles": {"baseline_days": 45, "max_age_days": 7, "refresh_days": 3, "max_counterparties": 9,
                        "max_countries": 4},
           "rules": {"structuring": {"rule_version": 1, "severity": "high", "score": 1, "description": "d",
                                     "min_amount": 7777}}}
    custom = rules.parse(raw)
    assert named_queries.render("x >= {{structuring.min_amount}}", custom) == "x >= 7777"
    assert named_queries.render("{{profiles.baseline_days}}, {{ profiles.max_countries }}", custom) == "45, 4"
    with pytest.raises(NamedQueryError, match="no such profiles parameter"):
        named_queries.render("{{profiles.window_days}}", custom)
    with pytest.raises(NamedQueryError):
        named_queries.render("{{structuring.max_amount}}", custom)
    with pytest.raises(NamedQueryError):
        named_queries.render("{{nosuchrule.x}}", custom)


def test_header_and_parameter_count_are_checked(tmp_path):
    good = "-- name: q\n-- description: d\n-- parameters: start_date, end_date\n-- serves: s\n-- columns: a_pid\n" \
           "SELECT '?' AS a_pid FROM t WHERE dt BETWEEN ? AND ? -- why?\n"
    (tmp_path / "q.sql").write_text(good)
    (q,) = load_all(tmp_path)
    assert q.parameters == ("start_date", "end_date") and q.bind_order({"start_date": "a", "end_date": "b"}) == ["a", "b"]
    (tmp_path / "q.sql").write_text(good.replace("AND ? --", "--"))
    with pytest.raises(NamedQueryError, match="1 `\\?` parameters"):
        load_all(tmp_path)
    (tmp_path / "q.sql").write_text(good.replace("-- name: q", "-- name: other"))
    with pytest.raises(NamedQueryError, match="differs"):
        load_all(tmp_path)


def test_a_fatf_placeholder_is_an_error_naming_the_file(tmp_path):
    """The FATF lists are dated reference data joined by the query, never a rendered literal."""
    (tmp_path / "listed.sql").write_text(
        "-- name: listed\n-- description: d\n-- parameters: start_date, end_date\n-- serves: s\n"
        "-- columns: a_pid\nSELECT a_pid FROM t WHERE dt BETWEEN ? AND ? AND c IN {{fatf.grey_list}}\n")
    with pytest.raises(NamedQueryError, match=r"listed\.sql: \{\{fatf\.grey_list\}\}.*fatf_lists table"):
        load_all(tmp_path)


@pytest.mark.parametrize("path", [named_queries.QUERIES_DIR / "high_risk_jurisdiction.sql",
                                  baseline.BASELINE_DIR / "baseline_high_risk_country.sql"], ids=lambda p: p.stem)
def test_fatf_lists_are_joined_on_the_utc_booking_date(path):
    """The join the Lambda's ReferenceData.fatf_lists(day) mirrors: valid_from <= dt < valid_to,
    on the counterparty country, with no list literal left in the text."""
    text = path.read_text()
    assert "{{fatf." not in text and "rendered when" not in text
    body = re.sub(r"\s+", " ", "\n".join(line for line in text.splitlines() if not line.startswith("--")))
    assert "JOIN fatf_lists f ON f.country = s.counterparty_country" in body
    assert "AND f.valid_from <= CAST(s.dt AS DATE) AND CAST(s.dt AS DATE) < f.valid_to" in body


def test_evidence_names_a_list_with_its_count_or_single_id_columns():
    columns = ("subject_account_pid", "first_at", "last_at", "transaction_ids", "transaction_count", "tx_a", "tx_b")
    listed = named_queries.Evidence.parse("window first_at..last_at; transactions transaction_ids; "
                                          "count transaction_count", columns)
    assert (listed.window_start, listed.window_end, listed.transactions, listed.count, listed.is_list) == (
        "first_at", "last_at", ("transaction_ids",), "transaction_count", True)
    single = named_queries.Evidence.parse("window first_at; transactions tx_a, tx_b", columns)
    assert (single.window_end, single.transactions, single.is_list) == ("first_at", ("tx_a", "tx_b"), False)
    for bad, message in [("window first_at; transactions tx_a, tx_b; count transaction_count", "one list column"),
                         ("window first_at; transactions transaction_ids; count nope", "nope, not among"),
                         ("window first_at; transactions", "expected"),
                         ("transactions tx_a", "expected")]:
        with pytest.raises(NamedQueryError, match=message):
            named_queries.Evidence.parse(bad, columns)


def test_the_evidence_cap_renders_as_a_literal():
    assert named_queries.render("slice(ids, 1, {{evidence.max_transactions}})") == \
        f"slice(ids, 1, {named_queries.MAX_EVIDENCE_TRANSACTIONS})"
    with pytest.raises(NamedQueryError, match="max_transactions and list"):
        named_queries.render("{{evidence.cap}}")


def test_every_scenario_aggregates_its_evidence_with_the_contract_s_one_expression():
    """The cap and the order live once (EVIDENCE_LIST_SQL): no scenario query spells them itself."""
    rendered = named_queries.render("SELECT a, {{evidence.list}} FROM m GROUP BY a")
    assert rendered == f"SELECT a, {named_queries.EVIDENCE_LIST_SQL} FROM m GROUP BY a"
    for query in named_queries.load_all():
        if query.evidence and query.evidence.count:
            assert "{{evidence.list}}" in query.path.read_text() or query.name == "cycles", query.name
            assert "array_agg(transaction_id" not in query.path.read_text(), query.name
