"""The access log's tamper evidence: every row chained, each altered, deleted or added row
named by `AccessLog.verify`, `GET /audit/access/integrity` and `casetrail verify`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.bootstrap import Container, build
from api.cli import app as cli
from application.access import Actor
from application.access_chain import LANES
from application.access_log import AccessLog, Reading
from application.migrate import upgrade
from application.schema import access_log, access_log_heads
from tests.api.builders import open_case
from tests.support import LiveServer, make_settings

AUDITOR = Actor("aud1", frozenset({"auditor"}))


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    built = build(make_settings(database_url, tmp_path))
    yield built
    built.close()


def log_of(container: Container) -> AccessLog:
    assert container.app.access_log is not None
    return container.app.access_log


def record(log: AccessLog, count: int, actor: Actor = AUDITOR) -> None:
    for n in range(count):
        log.record(actor, uuid4() if n % 3 else None, Reading("/cases/{case_id}", f"req-{n}"))


def rows(container: Container) -> list[sa.RowMapping]:
    with container.engine.connect() as conn:
        return list(conn.execute(sa.select(access_log).order_by(access_log.c.id)).mappings())


def tamper(container: Container, statement: sa.Executable) -> None:
    with container.engine.begin() as conn:
        conn.execute(statement)


def busiest_lane(container: Container) -> list[sa.RowMapping]:
    """The rows of the lane holding most rows, in chain order."""
    by_lane: dict[int, list[sa.RowMapping]] = {}
    for row in rows(container):
        by_lane.setdefault(row["lane"], []).append(row)
    return sorted(max(by_lane.values(), key=len), key=lambda r: r["seq"])


def test_a_whole_log_verifies(container: Container) -> None:
    log = log_of(container)
    record(log, 40)
    result = log.verify()
    assert result.ok, result.breaks
    assert result.checked == 40
    assert {r["lane"] for r in rows(container)} <= set(range(LANES))


def test_an_altered_row_is_named(container: Container) -> None:
    log = log_of(container)
    record(log, 30)
    victim = busiest_lane(container)[1]
    t = access_log
    tamper(container, sa.update(t).where(t.c.id == victim["id"]).values(actor_id="someone-else"))
    result = log.verify()
    assert not result.ok
    assert [(b.row_id, b.seq) for b in result.breaks] == [(victim["id"], victim["seq"])]
    assert "altered" in result.breaks[0].reason


def test_an_altered_link_is_named_and_the_rows_after_it_still_verify(
    container: Container,
) -> None:
    log = log_of(container)
    record(log, 30)
    victim = busiest_lane(container)[0]
    t = access_log
    tamper(container, sa.update(t).where(t.c.id == victim["id"]).values(link="f" * 64))
    result = log.verify()
    assert [b.row_id for b in result.breaks] == [victim["id"]]


def test_a_deleted_row_is_named_by_its_place(container: Container) -> None:
    log = log_of(container)
    record(log, 30)
    lane = busiest_lane(container)
    victim = lane[1]
    tamper(container, sa.delete(access_log).where(access_log.c.id == victim["id"]))
    result = log.verify()
    assert [(b.row_id, b.lane, b.seq) for b in result.breaks] == [
        (None, victim["lane"], victim["seq"])
    ]
    assert "deleted" in result.breaks[0].reason
    assert result.checked == 29


def test_deleting_a_lane_s_last_rows_is_named(container: Container) -> None:
    log = log_of(container)
    record(log, 30)
    lane = busiest_lane(container)
    t = access_log
    tamper(container, sa.delete(t).where(t.c.id.in_([r["id"] for r in lane[-2:]])))
    result = log.verify()
    assert [(b.lane, b.seq) for b in result.breaks] == [(lane[-2]["lane"], lane[-2]["seq"])]
    assert f"{lane[-2]['seq']} to {lane[-1]['seq']} deleted" in result.breaks[0].reason


def test_a_row_added_behind_casetrail_s_back_is_named(container: Container) -> None:
    log = log_of(container)
    record(log, 5)
    forged = {
        "at": datetime.now(UTC),
        "actor_id": "ghost",
        "roles": "auditor",
        "case_id": None,
        "endpoint": "/cases/{case_id}",
        "request_id": "x",
    }
    tamper(container, sa.insert(access_log).values(**forged))
    forged_id = max(r["id"] for r in rows(container))
    result = log.verify()
    assert [b.row_id for b in result.breaks] == [forged_id]
    assert "not in the chain" in result.breaks[0].reason


def test_concurrent_readers_each_get_a_place_in_the_chain(container: Container) -> None:
    log = log_of(container)
    threads = [
        threading.Thread(target=record, args=(log, 25, Actor(f"a{n}", frozenset({"auditor"}))))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = log.verify()
    assert result.ok, result.breaks
    assert result.checked == 200
    with container.engine.connect() as conn:
        heads = conn.execute(sa.select(sa.func.sum(access_log_heads.c.seq))).scalar_one()
    assert heads == 200


def test_two_processes_writing_one_lane_in_turn_keep_it_whole(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process remembers the head it last wrote; the other moved it since, every time."""
    monkeypatch.setattr("application.access_log.LANES", 1)
    first, second = log_of(container), AccessLog(container.engine, container.app.chain_key)
    for _ in range(10):
        record(first, 1)
        record(second, 1)
    result = first.verify()
    assert result.ok, result.breaks
    assert [r["seq"] for r in rows(container)] == list(range(1, 21))


def test_rows_written_before_the_chain_are_chained_once_by_the_upgrade(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    upgrade(settings.database_url, "0007")
    engine = sa.create_engine(settings.database_url)
    old = sa.table(
        "access_log",
        *(sa.column(name) for name in ("at", "actor_id", "roles", "case_id", "endpoint")),
        sa.column("request_id"),
    )
    with engine.begin() as conn:
        for n in range(5):
            conn.execute(
                sa.insert(old).values(
                    at=datetime(2026, 11, 1, 9, n, tzinfo=UTC),
                    actor_id=f"old{n}",
                    roles="auditor",
                    case_id=UUID(int=n) if database_url.startswith("postgresql") else None,
                    endpoint="/cases/{case_id}",
                    request_id=f"old-{n}",
                )
            )
    engine.dispose()
    upgraded = build(settings)  # migrates to head and chains the old rows
    try:
        log = log_of(upgraded)
        record(log, 3)
        result = log.verify()
        assert result.ok, result.breaks
        assert result.checked == 8
        assert [r["seq"] for r in rows(upgraded)[:5]] == [1, 2, 3, 4, 5]
        assert log.chain_unlinked() == 0  # once only
    finally:
        upgraded.close()


def test_the_integrity_route_and_the_cli_name_a_deleted_row(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveServer(build(make_settings(sqlite_url, tmp_path))).start()
    try:
        with live.client("po1", "practitioner", teams=("T1",)) as po:
            case_id = open_case(po)
        with live.client("aud1", "auditor") as auditor:
            for _ in range(6):
                assert auditor.get(f"/cases/{case_id}/events").status_code == 200
            assert auditor.get("/audit/access/integrity").json()["ok"] is True
            victim = busiest_lane(live.container)[0]
            tamper(live.container, sa.delete(access_log).where(access_log.c.id == victim["id"]))
            answer = auditor.get("/audit/access/integrity")
            assert answer.status_code == 200
            body = answer.json()
            assert body["ok"] is False
            assert body["breaks"][0]["seq"] == victim["seq"]
            assert body["breaks"][0]["lane"] == victim["lane"]
        with live.client("po1", "practitioner", teams=("T1",)) as po:
            assert po.get("/audit/access/integrity").status_code == 403
    finally:
        live.stop()
    monkeypatch.setenv("CASETRAIL_ENV", "test")
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CASETRAIL_VAR_DIR", str(tmp_path))
    outcome = CliRunner().invoke(cli, ["verify"])
    assert outcome.exit_code == 1, outcome.output
    expected = f"(lane {victim['lane']}, number {victim['seq']}): number {victim['seq']} deleted"
    assert expected in outcome.output
