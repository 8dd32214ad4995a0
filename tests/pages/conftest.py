"""One small demo PDU per module, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.pdu import DemoOptions
from tests.pages.world import PDU, World, demo_world

SMALL = DemoOptions(pdu=PDU, cases=60, practitioners=8, teams=2, months=12, seed=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("pages")
    with demo_world(f"sqlite:///{tmp}/casetrail.db", tmp, SMALL) as w:
        yield w


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def any_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The small demo PDU on SQLite, then on the real PostgreSQL server."""
    tmp: Path = tmp_path_factory.mktemp("pages")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/casetrail.db"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    with demo_world(url, tmp, SMALL) as w:
        yield w
