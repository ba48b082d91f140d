"""`aml local up` is idempotent and gives a PostgreSQL with logical decoding and the core DDL."""
import psycopg
import pytest

from aml.cli import main
from aml.local import aws, services

pytestmark = pytest.mark.integration


def test_up_twice_is_harmless(local_services, capsys):
    assert main(["local", "up"]) == 0
    assert main(["local", "up"]) == 0
    assert main(["local", "status"]) == 0
    out = capsys.readouterr().out
    assert out.count("running") >= 4


def test_postgres_is_real_with_logical_wal_and_core_schema(local_services):
    with psycopg.connect(services.Postgres().url()) as conn:
        assert conn.execute("SHOW wal_level").fetchone()[0] == "logical"
        assert "PostgreSQL" in conn.execute("SELECT version()").fetchone()[0]
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'core'")}
        assert tables == {"customers", "accounts", "transactions"}


def test_emulator_answers_with_project_account(local_services):
    assert aws.account_id() == aws.ACCOUNT_ID


def test_port_in_use_gives_clear_error(local_services):
    busy = services.Postgres(port=services.aws.endpoint_host_port()[1])  # the emulator's port
    busy.data_dir = busy.data_dir.parent / "never-started"
    with pytest.raises(services.AmlError, match="already in use"):
        busy.start()
