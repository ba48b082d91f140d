"""`aml generate --db-url` loads a bank through the contract DDL; bad input fails cleanly."""
from __future__ import annotations

import psycopg
import pytest

from aml.cli import main
from aml.local.services import Postgres

pytestmark = pytest.mark.integration

ARGS = ["generate", "--customers", "200", "--days", "20", "--seed", "4"]


@pytest.fixture
def database(local_services, unique_name):
    name = unique_name("gen").replace("-", "_")
    admin = Postgres().url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield Postgres().url(name)
    Postgres().drop_database(name)


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
                for t in ("customers", "accounts", "transactions")}


def test_db_url_loads_through_the_ddl_and_matches_the_files(database, tmp_path, capsys):
    import pandas as pd

    assert main([*ARGS, "--db-url", database, "--out", str(tmp_path / "bank")]) == 0
    files = {t: pd.read_parquet(tmp_path / "bank" / f"{t}.parquet") for t in ("customers", "accounts", "transactions")}
    assert _counts(database) == {t: len(f) for t, f in files.items()}
    with psycopg.connect(database) as conn:
        total = conn.execute("SELECT sum(amount_base), min(booked_at) FROM core.transactions").fetchone()
        kinds = conn.execute("SELECT data_type FROM information_schema.columns WHERE table_schema = 'core' "
                             "AND table_name = 'transactions' AND column_name = 'amount'").fetchone()[0]
    assert kinds == "numeric"
    assert total[0] == files["transactions"].amount_base.sum()
    assert total[1] == files["transactions"].booked_at.min()


def test_loading_twice_fails_cleanly_and_keeps_the_first_load(database, capsys):
    assert main([*ARGS, "--db-url", database]) == 0
    before = _counts(database)
    assert main([*ARGS, "--db-url", database]) != 0
    assert "already holds rows" in capsys.readouterr().err
    assert _counts(database) == before


def test_unreachable_db_url_is_one_clear_error(tmp_path, capsys):
    url = "postgresql://postgres@127.0.0.1:1/core_banking"
    assert main([*ARGS, "--db-url", url, "--out", str(tmp_path / "bank")]) != 0
    err = capsys.readouterr().err
    assert url in err and "aml local up" in err and "Traceback" not in err
    assert not (tmp_path / "bank").exists()


@pytest.mark.parametrize("argv, with_out", [
    (["--customers", "-5", "--days", "10"], True),
    (["--customers", "100", "--days", "0"], True),
    (["--customers", "100", "--days", "10", "--start-date", "2026-02-30"], True),
    (["--customers", "100", "--days", "10"], False),  # neither --out nor --db-url
])
def test_bad_arguments_exit_non_zero_and_write_nothing(argv, with_out, tmp_path, capsys):
    out = tmp_path / "bank"
    assert main(["generate", "--seed", "1", *argv, *(["--out", str(out)] if with_out else [])]) != 0
    assert capsys.readouterr().err.startswith("aml: error:")
    assert not out.exists()


def test_unknown_option_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*ARGS, "--colour", "blue"])
    assert exit_info.value.code != 0
