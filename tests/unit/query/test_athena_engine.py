"""`aml query run --engine athena` against an AWS account (issue 28: it "needs a workgroup and region
that the README never mentions"): the region from AWS_REGION as the AWS CLI reads it, the workgroup
of the deployed environment by name, never the local emulator's resources; and one error line
when no region is configured."""
from __future__ import annotations

import pandas as pd
import pytest

from aml.cli import main

ARGS = ["--param", "start_date=2026-01-01", "--param", "end_date=2026-01-30"]


@pytest.fixture
def no_aws_configuration(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture
def athena_calls(monkeypatch):
    import awswrangler as wr

    calls = []

    def read_sql_query(sql, **kwargs):
        calls.append({"sql": sql, **kwargs})
        return pd.DataFrame({"subject_account_pid": ["a" * 64]})

    monkeypatch.setattr(wr.athena, "read_sql_query", read_sql_query)
    return calls


@pytest.mark.parametrize(("extra", "workgroup", "database"), [
    ([], "aml-dev-analysts", "aml_curated"),
    (["--env", "prod"], "aml-prod-analysts", "aml_curated"),
    (["--workgroup", "team", "--database", "aml_curated_prod"], "team", "aml_curated_prod"),
])
def test_the_deployed_environments_workgroup_in_the_callers_region(
        no_aws_configuration, athena_calls, monkeypatch, capsys, extra, workgroup, database):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # what docs/runbook.md exports; boto3 alone ignores it
    code = main(["query", "run", "structuring", "--engine", "athena", *ARGS, *extra, "--output", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [call] = athena_calls
    assert (call["workgroup"], call["database"]) == (workgroup, database)
    assert call["boto3_session"].region_name == "eu-west-1"
    assert call["params"] == ["'2026-01-01'", "'2026-01-30'"] and "1 rows" in err


def test_the_account_filter_reaches_athena_as_one_more_parameter(no_aws_configuration, athena_calls, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert main(["query", "run", "structuring", "--engine", "athena", *ARGS, "--account", "a" * 64,
                 "--output", "json"]) == 0
    [call] = athena_calls
    assert call["params"] == ["'2026-01-01'", "'2026-01-30'", f"'{'a' * 64}'"]
    assert "WHERE hits.subject_account_pid = ?" in call["sql"]


@pytest.mark.parametrize(("argv", "message"), [
    (["query", "run", "structuring", "--engine", "athena", *ARGS], "--engine athena needs an AWS region"),
    (["pipeline", "start", "--date", "2026-01-30"], "aml pipeline start needs an AWS region"),
])
def test_no_region_is_one_error_line(no_aws_configuration, athena_calls, capsys, argv, message):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and not athena_calls
    assert err.startswith(f"aml: error: {message}") and "AWS_REGION" in err and len(err.strip().splitlines()) == 1


def test_an_env_name_no_deployment_can_have_is_one_error_line(no_aws_configuration, athena_calls, monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code = main(["query", "run", "structuring", "--engine", "athena", *ARGS, "--env", "Prod"])
    out, err = capsys.readouterr()
    assert code == 2 and not athena_calls and "invalid environment name 'Prod'" in err
    assert len(err.strip().splitlines()) == 1
