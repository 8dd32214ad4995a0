"""The event store: which eventsourcing module, and recorders that keep idempotency keys.

An idempotency key is inserted by the recorder in the same transaction as the command's
events, so an acknowledged command and its key commit together or not at all, and a
concurrent retry of the same key loses on the key's primary key (one event, one answer).

On PostgreSQL a pooled connection is not pinged before each use (that was one round trip per
checkout, a fifth of a command's time). Connections that died while idle (PostgreSQL
restarted, a backend terminated) are dealt with in three ways, none costing a round trip while
the connections are well: a connection whose socket the server has already closed is not
handed out (``_closed_by_server``, one poll of the socket); a statement that fails on a broken
connection anyway has the pool check all its idle connections at once
(``_ReconnectingDatastore``); and every read and the insert are retried on a connection error
(the library's own ``@retry``, and ``_retried`` for ours), never a write of ours.

When the server itself is down, the pool keeps trying to reconnect. psycopg_pool waits 1 s,
then 2, 4, 8 s… between attempts, so after a 4 s outage the next attempt could come 8 s after
the server was back. Its back-off is capped here (``_PromptBackoff``): attempts every
0.1 to 0.5 s, so commands succeed again within a second of the server's return.
"""

from __future__ import annotations

import base64
import logging
import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment, EnvType, get_topic, retry
from psycopg import Connection
from psycopg.pq import ConnStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg_pool.base import AttemptWithBackoff
from sqlalchemy.engine import make_url

from application.integrity import CHAIN_TABLE, GENESIS, link

IDEMPOTENCY_TABLE = "idempotency_keys"
IMPORTED_TABLE = "imported_cases"
logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def _retried(func: Callable[P, R]) -> Callable[P, R]:
    """Retry a read on a connection error exactly as the library retries its own (10 attempts,
    0.2 s apart). Only for reads: a write whose COMMIT was sent before its connection broke may
    have committed, so retrying it is not neutral (see ``PostgresCaseRecorder``)."""
    retried = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)(func)
    return cast(Callable[P, R], retried)


def _closed_by_server(conn: Connection[Any]) -> bool:
    """Whether the server has already closed this idle connection, found without a round trip.

    A server sends an idle connection nothing but the odd notice, parameter status or
    notification, unless it is ending the session: then a FATAL error and end-of-file. So the
    socket is polled (no wait); what is waiting is read, and the connection is closed if the
    reading meets end-of-file. A death the client cannot see yet (no end-of-file arrived) is
    left to the retries.
    """
    poll = getattr(select, "poll", None)
    if poll is None:  # not on this platform: the retries still apply
        return False
    try:
        poller = poll()
        poller.register(conn.fileno(), select.POLLIN)
        for _ in range(3):
            if not poller.poll(0):
                return False
            conn.pgconn.consume_input()  # raises at end-of-file
    except (OSError, psycopg.Error):
        return True
    return conn.pgconn.status == ConnStatus.BAD


class _PromptBackoff(AttemptWithBackoff):
    """psycopg_pool's reconnect back-off (1 s, doubling, unbounded), started at 0.1 s and
    capped at ``MAX_DELAY``: the wait after the server returns is at most that long."""

    INITIAL_DELAY = 0.1
    MAX_DELAY = 0.5

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, self.MAX_DELAY)


class _PromptPool(ConnectionPool[Any]):
    """The library's pool, reconnecting with ``_PromptBackoff``."""

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        # A first attempt comes without one: the pool would make an AttemptWithBackoff.
        if attempt is None:
            attempt = _PromptBackoff(timeout=self.reconnect_timeout)
        super()._add_connection(attempt, growing)


class _ReconnectingDatastore(PostgresDatastore):
    """The library's PostgreSQL datastore, minus the connections that died in the pool.

    A checkout skips connections the server has closed (``_closed_by_server``: a poll, no
    round trip); the pool discards each and opens a replacement in the background. When a
    statement fails on a broken connection all the same, the pool checks every idle connection
    at once (``pool.check()``: an empty query each, one round trip per live connection; a dead
    one fails at once), so that the ones dead by then are not drawn one failed attempt at a
    time: the pool hands connections out in turn, a pool of 40 can hold 40 dead ones, and the
    library gives up after 10 attempts. It runs only after a connection broke, in one thread
    at a time (another thread that meets a broken connection meanwhile does not wait for it).
    """

    _checking: threading.Lock

    @classmethod
    def adopt(cls, datastore: PostgresDatastore) -> _ReconnectingDatastore:
        # The library's factory builds its datastore inline; this subclass adds behaviour and
        # a lock, so the instance is given the subclass rather than built twice.
        datastore.__class__ = cls
        adopted = cast(_ReconnectingDatastore, datastore)
        adopted._checking = threading.Lock()
        # Likewise the pool, built inline and not yet open: it reconnects promptly.
        adopted.pool.__class__ = _PromptPool
        return adopted

    @contextmanager
    def get_connection(self) -> Iterator[Connection[DictRow]]:
        broken = False
        try:
            skips = self.pool.max_size  # then hand one out: a failure is retried
            while True:
                with super().get_connection() as conn:
                    if skips > 0 and _closed_by_server(conn):
                        skips -= 1
                        conn.close()
                        continue  # back to the pool, closed: discarded and replaced
                    try:
                        yield conn
                    finally:
                        broken = conn.broken
                    return
        finally:
            # The broken connection is back in the pool by now, which has discarded it.
            if broken:
                self.discard_dead_connections()

    def discard_dead_connections(self) -> None:
        if not self._checking.acquire(blocking=False):
            return
        try:
            self.pool.check()
        except Exception:  # the caller's own error matters more; the pool keeps reconnecting
            logger.warning("checking the pool's idle connections failed", exc_info=True)
        finally:
            self._checking.release()


class CaseTrailPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, with ``_ReconnectingDatastore`` as its datastore."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.datastore = _ReconnectingDatastore.adopt(self.datastore)


def is_postgres(datastore: object) -> bool:
    """Whether one of the library's datastores is PostgreSQL's (placeholders %s, native uuid)
    rather than SQLite's (placeholders ?, uuid as hex text)."""
    return isinstance(datastore, PostgresDatastore)


def _by_aggregate(stored_events: Sequence[StoredEvent]) -> dict[UUID, list[StoredEvent]]:
    groups: dict[UUID, list[StoredEvent]] = {}
    for event in stored_events:
        groups.setdefault(cast(UUID, event.originator_id), []).append(event)
    return groups


class _Chained:
    """Mixin: compute each new event's chain link from the aggregate's previous link.

    The last link this process committed for each aggregate is kept, so the next command on
    the case need not read it back (a round trip per command). It is remembered only after
    the transaction commits, and used only for the version right before the new events:
    a link another process wrote since is a different version, so it is read from the table.
    """

    chain_key: bytes = b""
    tail_limit = 100_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tail_links: dict[UUID, tuple[int, str]] = {}  # committed: aggregate -> last link
        self._tail_local = threading.local()  # this thread's transaction's links, uncommitted

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        pending = self._pending_tails()
        pending.clear()
        try:
            result = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        except BaseException:
            pending.clear()
            raise
        tails = self._tail_links
        if len(tails) + len(pending) > self.tail_limit:
            tails.clear()
        for originator_id, (version, chain_hash) in pending.items():
            known = tails.get(originator_id)
            if known is None or known[0] < version:
                tails[originator_id] = (version, chain_hash)
        pending.clear()
        return result

    def forget_tails(self) -> None:
        """Read every previous link from the table again (after a re-chaining)."""
        self._tail_links.clear()

    def _pending_tails(self) -> dict[UUID, tuple[int, str]]:
        pending: dict[UUID, tuple[int, str]] | None = getattr(self._tail_local, "pending", None)
        if pending is None:
            pending = self._tail_local.pending = {}
        return pending

    def _links(
        self, stored_events: Sequence[StoredEvent], previous: Callable[[UUID, int], str | None]
    ) -> list[tuple[UUID, int, str]]:
        if not self.chain_key:
            msg = "the recorder has no chain key (set by CaseTrail from settings)"
            raise RuntimeError(msg)
        rows = []
        tails, pending = self._tail_links, self._pending_tails()
        for originator_id, events in _by_aggregate(stored_events).items():
            first = events[0].originator_version
            known = tails.get(originator_id)
            if first == 1:
                last: str | None = GENESIS
            elif known is not None and known[0] == first - 1:
                last = known[1]
            else:
                last = previous(originator_id, first - 1)
            if last is None:
                msg = f"no chain link for {originator_id} version {first - 1}"
                raise RuntimeError(msg)
            for event in events:
                last = link(
                    self.chain_key,
                    last,
                    originator_id,
                    event.originator_version,
                    event.topic,
                    event.state,
                )
                rows.append((originator_id, event.originator_version, last))
            pending[originator_id] = (events[-1].originator_version, last)
        return rows


@dataclass(frozen=True, kw_only=True)
class IdempotencyRecord:
    """The first answer to a keyed command: replayed to every retry with the same key."""

    actor_id: str
    key: str
    request_hash: str
    aggregate_id: UUID
    version: int
    status: int = 201
    position: int | None = None

    def insert_params(self) -> tuple[Any, ...]:
        """Values for (actor_id, key, request_hash, aggregate_id, version, status)."""
        return (
            self.actor_id,
            self.key,
            self.request_hash,
            self.aggregate_id.hex,
            self.version,
            self.status,
        )

    @classmethod
    def from_row(cls, actor_id: str, key: str, row: Any) -> IdempotencyRecord:
        return cls(
            actor_id=actor_id,
            key=key,
            request_hash=row["request_hash"],
            aggregate_id=UUID(row["aggregate_id"]),
            version=row["version"],
            status=row["status"],
            position=row["position"],
        )


@dataclass(frozen=True, kw_only=True)
class ImportRecord:
    """A case brought in by ``casetrail import``: stored with its events, so a re-run skips it."""

    source_id: str
    case_id: UUID
    crn: str
    events: int


class SQLiteCaseRecorder(_Chained, SQLiteApplicationRecorder):
    """SQLite recorder that also stores chain links and the command's idempotency key."""

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)

        def previous(originator_id: UUID, version: int) -> str | None:
            c.execute(
                f"SELECT hash FROM {CHAIN_TABLE} WHERE originator_id = ? "
                "AND originator_version = ?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
            return None if row is None else str(row["hash"])

        links = self._links(stored_events, previous)
        c.executemany(
            f"INSERT INTO {CHAIN_TABLE} (originator_id, originator_version, hash) VALUES (?, ?, ?)",
            [(i.hex, v, h) for i, v, h in links],
        )
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                f"INSERT INTO {IDEMPOTENCY_TABLE} "
                "(actor_id, key, request_hash, aggregate_id, version, status) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                record.insert_params(),
            )
        imports: Sequence[ImportRecord] = kwargs.get("imports", ())
        if imports:
            c.executemany(
                f"INSERT INTO {IMPORTED_TABLE} (source_id, case_id, crn, events) "
                "VALUES (?, ?, ?, ?)",
                [(i.source_id, i.case_id.hex, i.crn, i.events) for i in imports],
            )
        return notification_ids

    def select_links(self, originator_ids: Sequence[UUID]) -> dict[tuple[UUID, int], str]:
        marks = ",".join("?" * len(originator_ids))
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, originator_version, hash FROM {CHAIN_TABLE} "
                f"WHERE originator_id IN ({marks})",
                [i.hex for i in originator_ids],
            )
            return {
                (UUID(r["originator_id"]), r["originator_version"]): r["hash"] for r in c.fetchall()
            }

    def select_last_links(self) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, MAX(originator_version) AS v FROM {CHAIN_TABLE} "
                "GROUP BY originator_id"
            )
            return {UUID(r["originator_id"]): r["v"] for r in c.fetchall()}

    def select_idempotency(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT k.request_hash, k.aggregate_id, k.version, k.status, "
                f"(SELECT e.rowid FROM {self.events_table_name} e "
                " WHERE e.originator_id = k.aggregate_id "
                " AND e.originator_version = k.version) AS position "
                f"FROM {IDEMPOTENCY_TABLE} k WHERE k.actor_id = ? AND k.key = ?",
                (actor_id, key),
            )
            row = c.fetchone()
        return None if row is None else IdempotencyRecord.from_row(actor_id, key, row)


class PostgresCaseRecorder(_Chained, PostgresApplicationRecorder):
    """PostgreSQL recorder that also stores chain links and the command's idempotency key.

    Both are written before the events table lock is taken, keeping the locked section as
    short as the library's own; two retries of one key serialise on the key alone.

    Connection errors. ``insert_events`` is the library's, retried by it (10 attempts, 0.2 s
    apart) on InterfaceError/OperationalError, and everything below runs inside it, the read
    of a previous chain link included. A connection found dead before COMMIT was sent leaves
    nothing behind, and the retry is clean. If the connection breaks after COMMIT was sent the
    outcome is unknown and the library retries all the same, with the same events: if the
    first attempt did commit, the retry fails on a primary key (the idempotency key first,
    else the chain link) and surfaces as IntegrityError, which ``CaseTrail`` handles as a lost
    race. With an Idempotency-Key that gives the first answer (the key committed with the
    event); without one the command is decided again on the case that now holds its event,
    as a client's own retry would be. Nothing here adds a retry of a write. The reads below are
    single statements on an autocommit connection (no BEGIN/ROLLBACK: psycopg also empties its
    prepared-statement cache on every ROLLBACK) and are retried like the library's reads.
    """

    def _insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        # The library runs this inside its pipeline, before its own prepared LOCK, NOTIFY and
        # INSERT. Our statements can fail (a lost race, a reused key): a nested pipeline block
        # syncs on exit, so such a failure surfaces here, before the library's statements are
        # queued — an error behind them would leave psycopg's prepared-statement cache out of
        # step with the connection. Nothing here is prepared (prepare=False: psycopg would
        # otherwise prepare a statement on its sixth execution on a connection, and such a
        # statement skipped behind a failed one is taken as prepared when it is not); the
        # executemany is prepared on its first execution, which psycopg does check.
        with curs.connection.pipeline():
            self._insert_links_and_key(
                curs, stored_events, kwargs.get("idempotency"), kwargs.get("imports", ())
            )

    def _insert_links_and_key(
        self,
        curs: Any,
        stored_events: Any,
        record: IdempotencyRecord | None,
        imports: Sequence[ImportRecord] = (),
    ) -> None:
        schema = Identifier(self.datastore.schema)
        chain = schema, Identifier(CHAIN_TABLE)

        def previous(originator_id: UUID, version: int) -> str | None:
            curs.execute(
                SQL(
                    "SELECT hash FROM {}.{} WHERE originator_id = %s AND originator_version = %s"
                ).format(*chain),
                (originator_id, version),
                prepare=False,
            )
            row = curs.fetchone()
            return None if row is None else str(row["hash"])

        if record is not None:  # first: a reused key fails before anything else is sent
            curs.execute(
                SQL(
                    "INSERT INTO {}.{} (actor_id, key, request_hash, aggregate_id, version, status)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(schema, Identifier(IDEMPOTENCY_TABLE)),
                record.insert_params(),
                prepare=False,
            )
        if imports:  # likewise: a source id imported meanwhile fails before the lock
            curs.executemany(
                SQL(
                    "INSERT INTO {}.{} (source_id, case_id, crn, events) VALUES (%s, %s, %s, %s)"
                ).format(schema, Identifier(IMPORTED_TABLE)),
                [(i.source_id, i.case_id, i.crn, i.events) for i in imports],
            )
        links = self._links(stored_events, previous)
        curs.executemany(
            SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, hash) VALUES (%s, %s, %s)"
            ).format(*chain),
            links,
        )

    @_retried
    def select_links(self, originator_ids: Sequence[UUID]) -> dict[tuple[UUID, int], str]:
        statement = SQL(
            "SELECT originator_id, originator_version, hash FROM {}.{} "
            "WHERE originator_id = ANY(%s)"
        ).format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return {
                (r["originator_id"], r["originator_version"]): r["hash"] for r in curs.fetchall()
            }

    @_retried
    def select_last_links(self) -> dict[UUID, int]:
        statement = SQL(
            "SELECT originator_id, MAX(originator_version) AS v FROM {}.{} GROUP BY originator_id"
        ).format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            return {r["originator_id"]: r["v"] for r in curs.fetchall()}

    @_retried
    def select_idempotency(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        statement = SQL(
            "SELECT k.request_hash, k.aggregate_id, k.version, k.status, "
            "(SELECT e.notification_id FROM {schema}.{events} e "
            " WHERE e.originator_id = k.aggregate_id::uuid "
            " AND e.originator_version = k.version) AS position "
            "FROM {schema}.{table} k WHERE k.actor_id = %s AND k.key = %s"
        ).format(
            schema=Identifier(self.datastore.schema),
            events=Identifier(self.events_table_name),
            table=Identifier(IDEMPOTENCY_TABLE),
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (actor_id, key))
            row = curs.fetchone()
        return None if row is None else IdempotencyRecord.from_row(actor_id, key, row)


def event_store_env(
    database_url: str, *, pool_size: int, cipher_key: bytes | None = None
) -> dict[str, str]:
    """The eventsourcing library's settings for a SQLAlchemy-style database URL (and the
    AES-GCM key that encrypts every stored payload, snapshots included)."""
    env = _store_env(database_url, pool_size=pool_size)
    if cipher_key is not None:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = base64.b64encode(cipher_key).decode()
    return env


def _store_env(database_url: str, *, pool_size: int) -> dict[str, str]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            msg = "SQLite needs a file path: sqlite:///var/casetrail.db"
            raise ValueError(msg)
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": url.database,
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteCaseRecorder),
        }
    if url.get_backend_name() == "postgresql":
        return {
            "PERSISTENCE_MODULE": get_topic(CaseTrailPostgresFactory),
            "POSTGRES_DBNAME": url.database or "casetrail",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "casetrail",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
            "POSTGRES_CONN_MAX_AGE": "600",
            # No ping per checkout: a dead connection is retried past (see the module's doc).
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": get_topic(PostgresCaseRecorder),
        }
    msg = f"unsupported database URL {url.render_as_string(hide_password=True)!r}"
    raise ValueError(msg)
