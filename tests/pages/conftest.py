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
