"""Keeping the read models up to date costs the same per event whatever the case's history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.bootstrap import Container, build
from domain.vocabulary import RoSH
from tests.integration import projection_helpers as h
from tests.support import make_settings


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    ct = build(make_settings(database_url, tmp_path))
    try:
        yield ct
    finally:
        ct.close()


def _upkeep_of_one_event(ct: Container, write: Any) -> tuple[int, int]:
    """(SQL statements on the upkeep engine, reads of a case's history) to project one event."""
    statements = 0
    history_reads = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    recorder = ct.app.recorder
    real_select_events = recorder.select_events

    def select_events(*args: Any, **kwargs: Any) -> Any:
        nonlocal history_reads
        history_reads += 1
        return real_select_events(*args, **kwargs)

    write()
    sa.event.listen(ct.projections.engine, "before_cursor_execute", count)
    recorder.select_events = select_events  # type: ignore[method-assign]
    try:
        ct.projections.catch_up()
    finally:
        sa.event.remove(ct.projections.engine, "before_cursor_execute", count)
        recorder.select_events = real_select_events  # type: ignore[method-assign]
    return statements, history_reads


def test_an_event_on_a_long_case_costs_what_one_on_a_new_case_does(container: Container) -> None:
    ct = container
    short = h.open_case(ct.app, 1).aggregate_id
    long = h.open_case(ct.app, 2).aggregate_id
    for i in range(300):
        h.assess_risk(ct.app, long, list(RoSH)[i % 4])
    ct.projections.catch_up()
    ct.projections.catch_up()  # once more: the caches of rows now hold both cases

    on_short = _upkeep_of_one_event(ct, lambda: h.assess_risk(ct.app, short, RoSH.HIGH))
    on_long = _upkeep_of_one_event(ct, lambda: h.assess_risk(ct.app, long, RoSH.HIGH))

    assert on_short == on_long
    assert on_long[1] == 0  # no case's history is read back from the store
    rows = {r["case_id"]: r for r in h.live_rows(ct)["case_list"]}
    assert rows[long]["version"] == 302
    assert rows[short]["version"] == 2
