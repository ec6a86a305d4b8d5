from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from core import clock
from core.clock import ManualClock
from core.engine import Engine
from tests.support.pgserver import PostgresServer, find_bindir

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile("ci", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_db_numbers = itertools.count(1)

# Files kept beside a PostgreSQL store (keys, secrets, photos) go under CIVIC_HOME, by default
# ./var: a test that forgets to set its own must not leave them in the working tree
os.environ["CIVIC_HOME"] = tempfile.mkdtemp(prefix="civic-tests-home-")
atexit.register(shutil.rmtree, os.environ["CIVIC_HOME"], ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found: under CI the PostgreSQL run must not be skipped")
        pytest.skip("PostgreSQL binaries not found")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> str:
    """A fresh, empty store: a SQLite file, or a new database on the test PostgreSQL server."""
    # files that belong with a PostgreSQL store (secrets, key store) go under CIVIC_HOME: keep
    # them per test, not in ./var where the next run would find them
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        return str(tmp_path / "civic.db")
    server: PostgresServer = request.getfixturevalue("pg_server")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return server.create_database(f"t_{worker}_{next(_db_numbers)}")


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    manual = ManualClock()
    previous = clock.use_clock(manual)
    try:
        yield manual
    finally:
        clock.use_clock(previous)


@pytest.fixture
def engine(db_url: str, manual_clock: ManualClock, tmp_path) -> Iterator[Engine]:
    eng = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def sqlite_engine(manual_clock: ManualClock, tmp_path) -> Iterator[Engine]:
    """SQLite only, for tests whose subject is not the storage (property tests, HTTP details)."""
    eng = Engine(str(tmp_path / "civic.db"), outbox=tmp_path / "outbox.jsonl")
    try:
        yield eng
    finally:
        eng.close()


# -- figures of the reliability tests (tests/support/figures.py) --------------------------------
def pytest_configure(config: pytest.Config) -> None:
    from tests.support.figures import FILE_ENV

    if not hasattr(config, "workerinput"):  # the controller (or a run without workers) owns the file
        path = os.path.join(tempfile.mkdtemp(prefix="civic-test-figures-"), "figures.jsonl")
        os.environ[FILE_ENV] = path  # workers inherit it
        config.stash[_FIGURES] = path


_FIGURES = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    from pathlib import Path

    from tests.support.figures import totals

    path = config.stash.get(_FIGURES, None)
    figures = totals(Path(path)) if path else {}
    if figures:
        terminalreporter.section("figures established by this run")
        for name, values in sorted(figures.items()):
            terminalreporter.write_line(f"{name}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(values.items())))
