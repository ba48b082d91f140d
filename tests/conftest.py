"""Shared fixtures: the local services and one Spark session per test process.

Services already running (a developer's `aml local up`) are reused and left running; services
the run started are stopped at its end. Tests must not rely on a clean emulator or database:
they create uniquely named databases, buckets and streams (see `unique_name`).

`make test` runs the suite in one process per core (pytest-xdist, `--dist loadgroup`): the
processes share the local services (started once, under a lock; stopped by the controlling
process), and tests that share a session- or module-scoped fixture run in the same process
(`pytest_collection_modifyitems`), so every expensive fixture (Spark, a synthesized app, the
demo's pipeline) is still built once.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("AML_PSEUDONYMIZATION_KEY", "test-pseudonymization-key-0123456789")
# The suite's Spark JVMs (the session below and every local Glue run, which inherit the variable;
# spark-submit adds it to the driver's command line) are short-lived: HotSpot's second JIT tier
# (C2) spent more CPU compiling than its code saved. One local Glue run of the entry-script test:
# 26 s of JVM CPU with both tiers, 14 s with C1 only (README, "The two commands").
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:TieredStopAtLevel=1")

_RUN_DIR = pytest.StashKey[Path]()
_RUN_DIR_INPUT = "aml_run_dir"  # how xdist's workers learn the controlling process's run folder
# Shared by every process of one run: what they may start is reused rather than stopped.
_SHARED_ONLY = frozenset({"local_services"})


def _run_dir(config: pytest.Config) -> Path:
    """A folder of this run's own, shared by its processes: the lock around starting the services,
    the services the run started, the test groups the workers collected."""
    if _RUN_DIR not in config.stash:
        given = getattr(config, "workerinput", {}).get(_RUN_DIR_INPUT)
        config.stash[_RUN_DIR] = Path(given) if given else Path(tempfile.mkdtemp(prefix="aml-test-run-"))
    return config.stash[_RUN_DIR]


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controlling process (or the only one) stops the services its run started, and only those:
    a developer's `aml local up` stays up, and so does another test run's."""
    if hasattr(config, "workerinput") or _RUN_DIR not in config.stash:
        return
    started = _run_dir(config) / "services-started"
    if started.exists():
        from aml.local import services

        names = set(started.read_text().split())
        if "aws-emulator" in names:
            services.Emulator().stop()
        if "postgres" in names:
            services.Postgres().stop()
    shutil.rmtree(_run_dir(config), ignore_errors=True)


# pytest-xdist's own loadgroup marks each test's node id, which pytest 9 no longer lets a plugin
# change (xdist 3.8.0, the latest, still tries): the groups are passed to the scheduler instead.
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """(xdist, the controlling process) Each worker shares the run's folder."""
    node.workerinput[_RUN_DIR_INPUT] = str(_run_dir(node.config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """(xdist, `--dist loadgroup`) Each group of files joined by a shared fixture is one unit of work."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups_file = _run_dir(config) / "groups.json"

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return _read_groups(groups_file).get(path, path)

    return SharedFixtureScheduling(config, log)


@functools.cache
def _read_groups(path: Path) -> dict[str, str]:
    """Read once, when the scheduler first asks: after every worker has collected."""
    return json.loads(path.read_text())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """(an xdist worker) Group the test files joined by a shared session-scoped fixture (its tests
    reach it through any conftest), so each such fixture is built in one process only; a file's
    tests (its module-scoped fixtures) always stay together. Written for the scheduler above."""
    if _RUN_DIR_INPUT not in getattr(config, "workerinput", {}):
        return
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    files = {item.path.relative_to(config.rootpath).as_posix() for item in items}
    for item in items:
        file = item.path.relative_to(config.rootpath).as_posix()
        for name, defs in item._fixtureinfo.name2fixturedefs.items():  # noqa: SLF001 (no public API lists a test's fixtures' scopes)
            # the project's own (a conftest's or a test file's: pytest's and plugins' have no baseid)
            if defs and defs[-1].scope == "session" and defs[-1].baseid and name not in _SHARED_ONLY:
                parent[find(f"fixture:{name}")] = find(file)
    target = _run_dir(config) / "groups.json"
    written = target.with_suffix(f".{os.getpid()}")
    written.write_text(json.dumps({file: find(file) for file in files}))
    written.replace(target)  # every worker collects the same tests: the same groups, whichever lands last


@contextmanager
def _exclusive(lock: Path):
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def local_services(pytestconfig):
    from aml.local import aws, services

    aws.use_local_endpoint()
    run = _run_dir(pytestconfig)
    with _exclusive(run / "services.lock"):  # one of the run's processes starts them at a time
        before = {s.name for s in services.status() if s.running}
        statuses = services.up()
        with (run / "services-started").open("a") as started:
            started.writelines(f"{s.name}\n" for s in statuses if s.running and s.name not in before)
    yield {s.name: s for s in statuses}


@pytest.fixture
def unique_name():
    """A fresh name: the prefix and 10 hex digits, no separator, so a prefix of up to 6 lowercase
    letters makes a valid environment name (aml_contract.names.ENV_NAME) as well."""
    def make(prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:10]}"
    return make


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # pandas UDF workers need the venv's pandas
    session = (SparkSession.builder.master("local[2]").appName("aml-tests")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", "2g")
               # Interpreted expressions, not Java generated and compiled (Janino) per query: on the
               # unit tests' tiny frames compiling was the JVM's largest cost (tests/unit/glue, the
               # JVM's CPU: 165 s with code generation, 125 s without). The results are the
               # same either way; the local Glue runs (entry script, demo, evaluate) keep Spark's
               # code generation, so that path runs in every `make test` too.
               .config("spark.sql.codegen.wholeStage", "false")
               .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
