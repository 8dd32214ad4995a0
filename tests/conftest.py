"""Shared fixtures: databases for the tests, including a real PostgreSQL 15 server.

Fixtures
--------
pg_server     (session)  the running :class:`tests.pgserver.PostgresServer`; started lazily,
                         i.e. only if some selected test needs PostgreSQL.
pg_url        (function) SQLAlchemy URL of a fresh, empty PostgreSQL database (dropped after).
sqlite_url    (function) SQLAlchemy URL of a fresh SQLite file in the test's tmp_path.
database_url  (function) parametrised: runs the test once on SQLite and once on PostgreSQL.

PostgreSQL tests are never skipped. Under CI (``CI=true``) or ``CASETRAIL_REQUIRE_POSTGRES=1``
a skip of a ``postgres``-marked test is even turned into a failure, so a broken harness can
never make the PostgreSQL half of the suite quietly disappear.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.pgserver import PostgresServer
from tests.support import LiveServer, live_server

POSTGRES_FIXTURES = frozenset({"pg_server", "pg_url"})
URL_FIXTURES = {"sqlite": "sqlite_url", "postgres": "pg_url"}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run (start-up costs ~1-2 s, so share it)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database per test: tests cannot see each other's data, whatever the order."""
    url = pg_server.create_database()
    yield url
    # Dropping keeps disk use flat over long runs; FORCE ends connections a test leaked.
    pg_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/casetrail.db"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test against both supported back ends."""
    # getfixturevalue (not plain arguments) so the sqlite variant never starts PostgreSQL.
    url: str = request.getfixturevalue(URL_FIXTURES[request.param])
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use the PostgreSQL fixtures directly, so `-m postgres` and the CI
    check below also cover tests whose author forgot the marker."""
    for item in items:
        if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _postgres_required() -> bool:
    return (
        os.environ.get("CI", "").lower() in {"1", "true", "yes"}
        or os.environ.get("CASETRAIL_REQUIRE_POSTGRES") == "1"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI, report a skipped postgres test as failed (xfail is left alone)."""
    report: pytest.TestReport = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("postgres") is not None
        and _postgres_required()
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"PostgreSQL test was skipped ({reason}), but PostgreSQL tests must run in CI "
            "(CI=true / CASETRAIL_REQUIRE_POSTGRES=1)."
        )
    return report


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """casetrail over real HTTP (uvicorn on loopback), once per back end."""
    with live_server(database_url, tmp_path) as live:
        yield live


@pytest.fixture
def sqlite_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """casetrail over real HTTP on SQLite only (for tests where storage does not matter)."""
    with live_server(sqlite_url, tmp_path) as live:
        yield live
