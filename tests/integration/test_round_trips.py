"""Round trips to PostgreSQL: what one command costs, and that a pool without a per-checkout
ping still survives connections that died while idle (docs/architecture.md, "Round trips of
one command").

The event store's pool does not ping a connection before each use. The first test kills every
pooled connection behind the application's back (as a PostgreSQL restart would) and checks
that the next commands and reads all succeed, each event stored once. The second counts, with
a TCP proxy between the application and PostgreSQL, the round trips of one warm command.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from api.bootstrap import Container, build
from application import store
from application.access import Actor
from application.commands import OpenCase, ScheduleAppointment
from application.service import IdempotencyKey, Written
from application.verification import verify_aggregate
from domain.vocabulary import AppointmentType, SentenceType
from tests.api.builders import appointment, open_body
from tests.pgserver import PostgresServer
from tests.round_trip_proxy import RoundTripProxy
from tests.support import LiveServer, live_server, make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

TEAM = "T1"
PO = Actor("po1", frozenset({"practitioner"}), frozenset({TEAM}))
TERMINATE_OTHERS = (
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
OTHERS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _terminate_other_backends(server: PostgresServer, url: str) -> int:
    """Terminate every backend of the database but this one; wait until they are gone."""
    with psycopg.connect(server.dsn(str(make_url(url).database)), autocommit=True) as conn:
        row = conn.execute(TERMINATE_OTHERS).fetchone()
        assert row is not None
        deadline = time.monotonic() + 10
        while (left := conn.execute(OTHERS).fetchone()) and left[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert left is not None
        assert left[0] == 0, "terminated backends did not go away"
    return int(row[0])


# -- connections that died in the pool --------------------------------------------------------


@pytest.mark.parametrize("defence", ["socket-check", "retries"])
def test_commands_and_reads_succeed_after_every_pooled_connection_was_terminated(
    defence: str,
    pg_server: PostgresServer,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both lines of defence, each alone: the checkout that skips connections the server has
    closed, and (with that check off, as for a death the client cannot see yet) the retries
    with the pool check after a broken connection."""
    if defence == "retries":
        monkeypatch.setattr(store, "_closed_by_server", lambda conn: False)
    with live_server(pg_url, tmp_path) as server:
        pool = server.container.app.recorder.datastore.pool  # type: ignore[attr-defined]
        client = server.client("po1", "practitioner", teams=(TEAM,))
        with client:
            response = client.post("/cases", json=open_body())
            assert response.status_code == 201, response.text
            case_id = response.json()["case_id"]
            post = _poster(client, case_id)
            assert post("warm").status_code == 201
            pool.wait(timeout=10)  # every pooled connection open: all of them die below
            before = pool.get_stats()

            terminated = _terminate_other_backends(pg_server, pg_url)
            assert terminated >= server.settings.effective_pool_size

            started = time.monotonic()
            answers: dict[str, httpx.Response] = {}
            if defence == "socket-check":
                # Opening a case reads the data key store first, which is not retried.
                answers["open"] = client.post("/cases", json=open_body(crn="Y765432"))
            # A keyed command: its key look-up (casetrail's own read) is the first statement
            # of the library's or ours to meet the pool.
            answers["after-1"] = post("after-1", key="after-1")
            first_took = time.monotonic() - started
            # Then several at once (each in its own thread and HTTP connection) and in turn.
            threads = [
                threading.Thread(target=_post_into, args=(server, case_id, f"after-{i}", answers))
                for i in range(2, 6)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            for i in range(6, 9):
                answers[f"after-{i}"] = post(f"after-{i}")
            read = client.get(f"/cases/{case_id}")
            stored = client.get(f"/cases/{case_id}/events")

        statuses = {name: r.status_code for name, r in answers.items()}
        failed = [r.json().get("type") for r in answers.values() if r.status_code != 201]
        assert set(statuses.values()) == {201}, f"{statuses} {failed}"
        answers.pop("open", None)
        assert read.status_code == 200, read.text
        assert stored.status_code == 200, stored.text
        items = stored.json()["items"]
        versions = [e["version"] for e in items]
        assert versions == list(range(1, len(items) + 1))  # consecutive: nothing twice
        scheduled = [e["data"]["appointment_id"] for e in items if e["type"] != "Opened"]
        assert sorted(scheduled) == sorted(["warm", *answers])  # each command exactly once
        assert read.json()["version"] == len(items) == 10
        assert sorted(r.json()["version"] for r in answers.values()) == list(range(3, 11))
        assert verify_aggregate(server.container.app.recorder, UUID(case_id)).ok

        # The dead connections were met and discarded (this test did exercise recovery).
        after = pool.get_stats()
        discarded = sum(
            after.get(k, 0) - before.get(k, 0) for k in ("returns_bad", "connections_lost")
        )
        assert discarded >= server.settings.effective_pool_size // 2, (before, after)
        print(f"\n{defence}: the first request after the restart took {first_took:.2f} s")


class _Post(Protocol):
    def __call__(self, appointment_id: str, *, key: str | None = None) -> httpx.Response: ...


def _poster(client: httpx.Client, case_id: str) -> _Post:
    def post(appointment_id: str, *, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else None
        return client.post(
            f"/cases/{case_id}/appointments", json=appointment(appointment_id), headers=headers
        )

    return post


def _post_into(
    server: LiveServer, case_id: str, appointment_id: str, answers: dict[str, httpx.Response]
) -> None:
    with server.client("po1", "practitioner", teams=(TEAM,)) as client:
        answers[appointment_id] = _poster(client, case_id)(appointment_id)


# -- counting round trips -----------------------------------------------------------------------


@pytest.fixture
def counted(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> Iterator[tuple[RoundTripProxy, Container, Container]]:
    """The application behind a counting proxy (one pooled connection, so that its prepared
    statements are warm after a few commands), and a second process straight on the store."""
    port = make_url(pg_url).port
    assert port is not None
    with RoundTripProxy(port) as proxy:
        proxied = str(make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False))
        app = build(make_settings(proxied, tmp_path, pool_size=1))
        other = build(make_settings(pg_url, tmp_path, pool_size=1))
        try:
            yield proxy, app, other
        finally:
            app.close()
            other.close()


def _schedule(case_id: UUID, appointment_id: str) -> ScheduleAppointment:
    return ScheduleAppointment(
        case_id=case_id,
        appointment_id=appointment_id,
        type=AppointmentType.COAP,
        starts_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        national_standard=True,
    )


def _open(container: Container) -> UUID:
    command = OpenCase(
        crn="R123456",
        person={"name": "Rae Trip"},
        sentence_type=SentenceType.COMMUNITY_ORDER,
        start_date=datetime(2026, 1, 5, tzinfo=UTC).date(),
        expected_end_date=datetime(2027, 1, 5, tzinfo=UTC).date(),
        pdu="SHF",
        team=TEAM,
        requirements={},
        licence_conditions=[],
        offence_flags=[],
    )
    return container.app.open_case(command, PO).aggregate_id


def _count(proxy: RoundTripProxy, run: Callable[[], Written]) -> tuple[int, Written, str]:
    proxy.reset()
    written = run()
    flights = "\n".join(f"  {i}. {f}" for fs in proxy.flights() for i, f in enumerate(fs, 1))
    return proxy.count(), written, flights


def test_round_trips_of_one_command(counted: tuple[RoundTripProxy, Container, Container]) -> None:
    """Exact counts: a change that adds a round trip to a command fails here. Measured through
    the application service (CaseTrail.execute), warm: the case cached, its last chain link
    remembered, its data key cached, the pooled connection's prepared statements made."""
    proxy, container, other = counted
    app = container.app
    # Data keys are cached while the key listener listens (see application/key_watch.py).
    assert app.keys.cache.wait_for(0, timeout=10)
    case_id = _open(container)
    keys = iter(range(1_000_000))

    def plain() -> Written:
        return app.execute(_schedule(case_id, f"plain-{next(keys)}"), PO)

    def keyed(key: str | None = None) -> Written:
        key = key or f"key-{next(keys)}"
        return app.execute(_schedule(case_id, key), PO, idempotency=IdempotencyKey(key, "0" * 64))

    for _ in range(8):  # psycopg prepares a statement on its sixth execution on a connection
        plain()
        keyed()

    count, _, flights = _count(proxy, plain)
    assert count == 7, f"a command without a key took {count} round trips:\n{flights}"

    count, first, flights = _count(proxy, lambda: keyed("counted"))
    assert count == 8, f"a command with a key took {count} round trips:\n{flights}"

    count, again, flights = _count(proxy, lambda: keyed("counted"))
    assert again == Written(first.aggregate_id, first.version, first.position, replayed=True)
    assert count == 1, f"a retried key took {count} round trips:\n{flights}"

    other.app.execute(_schedule(case_id, "elsewhere"), PO)  # another process writes
    count, written, flights = _count(proxy, plain)
    assert written.version == again.version + 2
    assert count == 8, f"a command after another process wrote took {count}:\n{flights}"
