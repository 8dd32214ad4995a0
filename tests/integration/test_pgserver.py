"""The PostgreSQL test harness itself works: real server, isolated databases, the features the
rest of the code base relies on (LISTEN/NOTIFY, eventsourcing's PostgreSQL persistence)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.pgserver import PostgresServer

pytestmark = pytest.mark.postgres


def _dsn(server: PostgresServer, url: str) -> str:
    return server.dsn(str(make_url(url).database))


@pytest.fixture
def engine(pg_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(pg_url)
    yield eng
    eng.dispose()


def test_server_is_postgresql_15(pg_server: PostgresServer) -> None:
    with psycopg.connect(pg_server.admin_dsn) as conn:
        row = conn.execute("SELECT version()").fetchone()
    assert row is not None
    assert row[0].startswith("PostgreSQL 15."), row[0]


def test_sqlalchemy_url_connects(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == "postgres"


def test_created_databases_are_independent(pg_server: PostgresServer) -> None:
    first, second = pg_server.create_database(), pg_server.create_database()
    assert first != second
    engines = [sa.create_engine(first), sa.create_engine(second)]
    try:
        with engines[0].begin() as conn:
            conn.execute(sa.text("CREATE TABLE only_here (id int)"))
        assert sa.inspect(engines[0]).has_table("only_here")
        assert not sa.inspect(engines[1]).has_table("only_here")
    finally:
        for eng in engines:
            eng.dispose()


def test_listen_notify_across_connections(pg_server: PostgresServer, pg_url: str) -> None:
    # The projection engine wakes up on NOTIFY instead of polling; prove the server delivers.
    dsn = _dsn(pg_server, pg_url)
    with (
        psycopg.connect(dsn, autocommit=True) as listener,
        psycopg.connect(dsn, autocommit=True) as notifier,
    ):
        listener.execute("LISTEN casetrail_events")
        notifier.execute("SELECT pg_notify('casetrail_events', 'position=42')")
        received = list(listener.notifies(timeout=5, stop_after=1))
    assert [(n.channel, n.payload) for n in received] == [("casetrail_events", "position=42")]


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Counters(Application[UUID]):
    def create(self) -> UUID:
        counter = Counter()
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, by: int) -> None:
        counter: Counter = self.repository.get(counter_id)
        counter.increment(by)
        self.save(counter)


def test_eventsourcing_application_persists_in_postgres(
    pg_server: PostgresServer, pg_url: str
) -> None:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(make_url(pg_url).database),
        "POSTGRES_HOST": pg_server.host,
        "POSTGRES_PORT": str(pg_server.port),
        "POSTGRES_USER": pg_server.user,
        "POSTGRES_PASSWORD": "",
    }
    with Counters(env=env) as app:
        counter_id = app.create()
        app.increment(counter_id, by=3)
        app.increment(counter_id, by=4)

    # A second application instance has no cache: the state must come back from PostgreSQL.
    with Counters(env=env) as app:
        counter: Counter = app.repository.get(counter_id)
        assert counter.count == 7
        assert counter.version == 3

    with psycopg.connect(_dsn(pg_server, pg_url)) as conn:
        row = conn.execute("SELECT count(*) FROM counters_events").fetchone()
    assert row == (3,)


def _durability(dsn: str) -> tuple[str, ...]:
    """fsync, synchronous_commit and full_page_writes as the server reports them."""
    values = []
    with psycopg.connect(dsn) as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            assert row is not None
            values.append(str(row[0]))
    return tuple(values)


def test_default_server_runs_without_durability(pg_server: PostgresServer) -> None:
    # The test harness trades durability for speed: its clusters are thrown away.
    assert _durability(pg_server.admin_dsn) == ("off", "off", "off")


def test_durable_server_runs_with_postgresql_defaults() -> None:
    # The benchmarks run on what a system of record needs: every commit flushed to disk.
    with PostgresServer(durable=True) as server:
        assert server.durable
        assert _durability(server.admin_dsn) == ("on", "on", "on")
        url = server.create_database()
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE t (id int)"))
                conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
        finally:
            engine.dispose()
