"""The event store: which eventsourcing module, and recorders that keep idempotency keys.

An idempotency key is inserted by the recorder in the same transaction as the command's
events, so an acknowledged command and its key commit together or not at all, and a
concurrent retry of the same key loses on the key's primary key (one event, one answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import make_url

IDEMPOTENCY_TABLE = "idempotency_keys"


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


class SQLiteCaseRecorder(SQLiteApplicationRecorder):
    """SQLite recorder that also stores the command's idempotency key."""

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                f"INSERT INTO {IDEMPOTENCY_TABLE} "
                "(actor_id, key, request_hash, aggregate_id, version, status) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.actor_id,
                    record.key,
                    record.request_hash,
                    record.aggregate_id.hex,
                    record.version,
                    record.status,
                ),
            )
        return notification_ids

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
        if row is None:
            return None
        return IdempotencyRecord(
            actor_id=actor_id,
            key=key,
            request_hash=row["request_hash"],
            aggregate_id=UUID(row["aggregate_id"]),
            version=row["version"],
            status=row["status"],
            position=row["position"],
        )


class PostgresCaseRecorder(PostgresApplicationRecorder):
    """PostgreSQL recorder that also stores the command's idempotency key.

    The key row is inserted before the table lock is taken, so two retries of one key
    serialise on the key alone and never hold the events table lock while they wait.
    """

    def _insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            curs.execute(
                SQL(
                    "INSERT INTO {schema}.{table} "
                    "(actor_id, key, request_hash, aggregate_id, version, status) "
                    "VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(
                    schema=Identifier(self.datastore.schema), table=Identifier(IDEMPOTENCY_TABLE)
                ),
                (
                    record.actor_id,
                    record.key,
                    record.request_hash,
                    record.aggregate_id.hex,
                    record.version,
                    record.status,
                ),
                prepare=True,
            )

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
        if row is None:
            return None
        return IdempotencyRecord(
            actor_id=actor_id,
            key=key,
            request_hash=row["request_hash"],
            aggregate_id=UUID(row["aggregate_id"]),
            version=row["version"],
            status=row["status"],
            position=row["position"],
        )


def event_store_env(database_url: str, *, pool_size: int) -> dict[str, str]:
    """The eventsourcing library's settings for a SQLAlchemy-style database URL."""
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
