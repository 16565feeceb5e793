"""Every test runs with its own collection and data folders: the user's are never touched.

Tests that take `db` run on both stores: an SQLite file, and a fresh database on a
PostgreSQL server that the session starts from the installed server binaries (and stops at
the end). Without those binaries the PostgreSQL runs are skipped with one line saying how to
enable them; with STUDYAPP_REQUIRE_POSTGRES=1 (as CI sets it) they fail instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from benchmarks import postgres
from tests.backends import POSTGRESQL, SQLITE

REQUIRE_VAR = "STUDYAPP_REQUIRE_POSTGRES"

# CI draws the same examples on every run, so that a red build points at a change rather
# than at a lucky draw; a run anywhere else draws new ones, to find what CI's do not.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("STUDYAPP_DB", str(home / "collection.db"))
    yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a fresh collection file."""
    return tmp_path / "collection.db"


SKIP_REASON = "PostgreSQL tests skipped"


def start_server() -> postgres.Server:
    """A throwaway PostgreSQL server; skips the test (one line for all) when there is none."""
    try:
        return postgres.start()
    except postgres.ServerUnavailable as exc:
        if os.environ.get(REQUIRE_VAR) == "1":
            pytest.fail(f"{REQUIRE_VAR}=1 but the PostgreSQL server would not start: {exc}")
        pytest.skip(f"{SKIP_REASON}: {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Every test skipped for want of a server is reported at one place, so the summary
    says it once, with the count, instead of once per test."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and SKIP_REASON in longrepr[2]:
        report.longrepr = (__file__, _SKIP_LINE, longrepr[2])
    return report


_SKIP_LINE = start_server.__code__.co_firstlineno


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.Server]:
    """The session's own PostgreSQL server, started on first use."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=[SQLITE, POSTGRESQL])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty collection: an SQLite file path, or the URL of a new database (dropped
    after the test, so a run's thousand databases do not fill the disk)."""
    if backend == SQLITE:
        yield str(tmp_path / "collection.db")
        return
    server: postgres.Server = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(url.rsplit("/", 1)[1])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only: behaviour of an SQLite file (its copies, its journal, its folder); "
        "runs on the SQLite store only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked sqlite_only keeps only its SQLite run."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("backend") == POSTGRESQL
        (dropped if on_pg and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether `condition` comes true within `seconds` (checked every 20 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
