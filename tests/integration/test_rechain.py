"""Re-chaining under a new integrity key: every link is new, no event changes, the chain
verifies under the new key only, and a store that does not verify under the old key is left
exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from api.bootstrap import Container, build
from application.rechain import BrokenChainError, rechain
from application.verification import verify_store
from tests.integration.test_key_rotation import ADMIN, _open, _write
from tests.support import make_settings

OLD = "old-integrity-key-0123456789abcdef0123456789"
NEW = "new-integrity-key-fedcba9876543210fedcba9876"


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[tuple[Container, list[UUID]]]:
    container = build(make_settings(database_url, tmp_path, integrity_key=OLD))
    cases = [_open(container, f"X{n:06d}") for n in range(4)]
    for n, case_id in enumerate(cases):
        _write(container, case_id, n)
    container.app.erase_person("X000001", "request", ADMIN)
    yield container, cases
    container.close()


def _rows(container: Container, table: str) -> list[Any]:
    with container.engine.connect() as conn:
        return sorted(map(tuple, conn.execute(sa.text(f"SELECT * FROM {table}")).all()))


def _events(container: Container) -> list[Any]:
    return _rows(container, container.app.recorder.events_table_name)  # type: ignore[attr-defined]


def test_rechaining_replaces_every_link_and_no_event(
    store: tuple[Container, list[UUID]], database_url: str, tmp_path: Path
) -> None:
    container, cases = store
    events, links = _events(container), _rows(container, "event_chain")

    written = rechain(container.app.recorder, NEW.encode(), batch=3)

    assert written == len(links) == len(events)
    assert _events(container) == events
    relinked = _rows(container, "event_chain")
    assert {(i, v) for i, v, _ in relinked} == {(i, v) for i, v, _ in links}
    assert not set(relinked) & set(links)  # every hash is new
    assert verify_store(container.app.recorder) == {}  # it now checks under the new key
    _write(container, cases[0], 99)  # and new events chain on under it
    assert verify_store(container.app.recorder) == {}

    old_key = build(make_settings(database_url, tmp_path, integrity_key=OLD))
    try:
        assert set(verify_store(old_key.app.recorder)) == set(cases)  # the old key: all broken
    finally:
        old_key.close()


def test_a_store_that_does_not_verify_is_not_rechained(
    store: tuple[Container, list[UUID]],
) -> None:
    container, cases = store
    table = container.app.recorder.events_table_name  # type: ignore[attr-defined]
    with container.engine.begin() as conn:  # someone with write access edits an event
        conn.execute(
            sa.text(f"UPDATE {table} SET state = :s WHERE originator_version = 2"),
            {"s": b"forged"},
        )
    links = _rows(container, "event_chain")

    with pytest.raises(BrokenChainError) as refused:
        rechain(container.app.recorder, NEW.encode())

    assert set(refused.value.broken) == set(cases)
    assert {r.first_bad_version for r in refused.value.broken.values()} == {2}
    assert _rows(container, "event_chain") == links
