"""PostgreSQL: a process trusts its cached data keys only while its key listener listens. A
listener cut off (its backend terminated) stops the cache being used, and on reconnecting it
catches up on the destructions it did not hear."""

from __future__ import annotations

from pathlib import Path

import psycopg
import sqlalchemy as sa

from api.bootstrap import build
from application.key_watch import LISTENER_NAME
from domain.personal import ERASED
from tests.integration.test_key_rotation import PO, _open
from tests.support import make_settings


def _terminate_listeners(pg_url: str) -> int:
    url = sa.engine.make_url(pg_url)
    with psycopg.connect(
        dbname=url.database, host=url.host, port=url.port, user=url.username, autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (LISTENER_NAME,),
        ).fetchall()
    return len(rows)


def test_a_key_destroyed_while_a_listener_was_cut_off_is_not_served(
    pg_url: str, tmp_path: Path
) -> None:
    erasing = build(make_settings(pg_url, tmp_path))
    holding = build(make_settings(pg_url, tmp_path))
    try:
        case_id = _open(erasing, "X000001")
        assert holding.app.keys.cache.wait_for(0, timeout=10)
        assert holding.app.get_case(case_id, PO).state.person["name"] == "Person X000001"
        assert holding.app.keys.cache.entries  # the key is held

        assert _terminate_listeners(pg_url) == 2
        erasing.app.keys.destroy("X000001", "request")  # heard only after reconnecting

        assert holding.app.get_case(case_id, PO).state.person["name"] == ERASED
        assert holding.app.keys.cache.wait_for(1, timeout=10)  # it listens again, caught up
        assert holding.app.keys.get(case_id).destroyed  # type: ignore[union-attr]
    finally:
        erasing.close()
        holding.close()
