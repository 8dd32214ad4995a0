"""The event store: which eventsourcing module, and recorders that keep idempotency keys.

An idempotency key is inserted by the recorder in the same transaction as the command's
events, so an acknowledged command and its key commit together or not at all, and a
concurrent retry of the same key loses on the key's primary key (one event, one answer).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import make_url

from application.integrity import CHAIN_TABLE, GENESIS, link

IDEMPOTENCY_TABLE = "idempotency_keys"


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
    """

    def _insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        # The library runs this inside its pipeline, before its own prepared LOCK, NOTIFY and
        # INSERT. Our statements can fail (a lost race, a reused key): a nested pipeline block
        # syncs on exit, so such a failure surfaces here, before the library's statements are
        # queued — an error behind them would leave psycopg's prepared-statement cache out of
        # step with the connection. Nothing here is prepared, for the same reason.
        with curs.connection.pipeline():
            self._insert_links_and_key(curs, stored_events, kwargs.get("idempotency"))

    def _insert_links_and_key(
        self, curs: Any, stored_events: Any, record: IdempotencyRecord | None
    ) -> None:
        schema = Identifier(self.datastore.schema)
        chain = schema, Identifier(CHAIN_TABLE)

        def previous(originator_id: UUID, version: int) -> str | None:
            curs.execute(
                SQL(
                    "SELECT hash FROM {}.{} WHERE originator_id = %s AND originator_version = %s"
                ).format(*chain),
                (originator_id, version),
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
            )
        links = self._links(stored_events, previous)
        curs.executemany(
            SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, hash) VALUES (%s, %s, %s)"
            ).format(*chain),
            links,
        )

    def select_links(self, originator_ids: Sequence[UUID]) -> dict[tuple[UUID, int], str]:
        statement = SQL(
            "SELECT originator_id, originator_version, hash FROM {}.{} "
            "WHERE originator_id = ANY(%s)"
        ).format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (list(originator_ids),))
            return {
                (r["originator_id"], r["originator_version"]): r["hash"] for r in curs.fetchall()
            }

    def select_last_links(self) -> dict[UUID, int]:
        statement = SQL(
            "SELECT originator_id, MAX(originator_version) AS v FROM {}.{} GROUP BY originator_id"
        ).format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement)
            return {r["originator_id"]: r["v"] for r in curs.fetchall()}

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
        with self.datastore.transaction(commit=False) as curs:
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
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.database or "casetrail",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "casetrail",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
            "POSTGRES_CONN_MAX_AGE": "600",
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": get_topic(PostgresCaseRecorder),
        }
    msg = f"unsupported database URL {url.render_as_string(hide_password=True)!r}"
    raise ValueError(msg)
