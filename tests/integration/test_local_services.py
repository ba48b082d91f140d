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


def _exists(admin, sql: str, name: str) -> bool:
    return admin.execute(sql, (name,)).fetchone() is not None


@pytest.mark.parametrize("slots", [0, 1, 2])
def test_a_dropped_database_takes_its_replication_slots_with_it(local_services, unique_name, slots):
    """A logical slot holds WAL for the whole server until dropped, and PostgreSQL refuses to drop
    the database it belongs to; a run that created one must leave neither behind."""
    server = services.Postgres()
    name = unique_name("dropdb")
    url = server.ensure_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(slots):
            conn.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (f"{name}_{i}",))
    held = psycopg.connect(url)  # a session still open on it, as a test that failed midway leaves
    server.drop_database(name)
    held.close()
    with psycopg.connect(server.url("postgres")) as admin:
        assert not _exists(admin, "SELECT 1 FROM pg_database WHERE datname = %s", name)
        assert not _exists(admin, "SELECT 1 FROM pg_replication_slots WHERE database = %s", name)
    server.drop_database(name)  # already gone: nothing to do

