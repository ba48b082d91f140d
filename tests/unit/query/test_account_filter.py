"""`aml query run NAME --account PID` (issue 28: "queries take an optional account (pseudonym)
filter"): the rows of one account, the same rows in the same order as the unfiltered run's."""
from __future__ import annotations

import pandas as pd
import pytest

from aml.cli import main
from aml.query import catalog
from aml.query.run import execute

WINDOW = {"start_date": "2025-01-01", "end_date": "2025-04-20"}
ARGS = ["--param", "start_date=2025-01-01", "--param", "end_date=2025-04-20"]


@pytest.mark.parametrize("name", ["high_value_transactions", "velocity_spike", "large_cash", "structuring"])
def test_the_filter_keeps_exactly_the_accounts_rows_in_order(curated_dir, name):
    everything = execute(name, dict(WINDOW), data_dir=curated_dir).frame
    assert len(everything), f"{name} finds nothing in the hand-made bank: pick another query"
    for account in everything[catalog.ACCOUNT_COLUMN].unique():
        expected = everything[everything[catalog.ACCOUNT_COLUMN] == account].reset_index(drop=True)
        narrowed = execute(name, dict(WINDOW), data_dir=curated_dir, account_pid=account).frame
        pd.testing.assert_frame_equal(narrowed, expected, check_dtype=False)


def test_an_account_with_no_hit_gets_no_rows(curated_dir):
    assert execute("structuring", dict(WINDOW), data_dir=curated_dir, account_pid="0" * 64).frame.empty


def test_a_query_with_an_account_parameter_takes_the_account_as_it(curated_dir, pid):
    query, values = catalog.for_account(catalog.get("account_alerts"), dict(WINDOW), pid("S1"))
    assert query == catalog.get("account_alerts") and values[catalog.ACCOUNT_PARAMETER] == pid("S1")


def test_the_outer_order_is_the_querys_when_it_orders_by_output_columns():
    query, _ = catalog.for_account(catalog.get("structuring"), dict(WINDOW), "a" * 64)
    assert query.sql.rstrip().endswith("ORDER BY max_total_amount DESC, subject_account_pid")
    assert query.parameters == ("start_date", "end_date", "account_pid")
    # ordered by an expression: the subquery's own order only, nothing outside it can repeat it
    query, _ = catalog.for_account(catalog.get("pep_high_risk_activity"), dict(WINDOW), "a" * 64)
    assert query.sql.rstrip().endswith("WHERE hits.subject_account_pid = ?")


def test_on_the_command_line(capsys, curated_dir, pid):
    code = main(["query", "run", "structuring", *ARGS, "--data-dir", str(curated_dir), "--account", pid("S1"),
                 "--output", "csv"])
    out, err = capsys.readouterr()
    assert code == 0 and [line.split(",")[0] for line in out.splitlines()[1:]] == [pid("S1")]
    assert "1 rows" in err


@pytest.mark.parametrize(("name", "account", "extra", "message"), [
    ("structuring", "S1", [], "--account 'S1' is not an account pseudonym"),
    ("account_profiles", "a" * 64, [], "query account_profiles has no subject_account_pid column"),
    ("account_alerts", "a" * 64, ["--param", "account_pid=" + "b" * 64], "name different accounts"),
])
def test_bad_account_one_clear_error(capsys, curated_dir, name, account, extra, message):
    params = ["--param", "end_date=2025-04-20"] if name == "account_profiles" else ARGS
    code = main(["query", "run", name, *params, *extra, "--data-dir", str(curated_dir), "--account", account])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert message in err and err.startswith("aml: error:") and len(err.strip().splitlines()) == 1
