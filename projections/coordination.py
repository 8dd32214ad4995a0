"""One active runner per projection, and waking runners when events arrive.

PostgreSQL: a session advisory lock per projection (standbys wait for it) and LISTEN on the
event store's NOTIFY channel. SQLite: an exclusive file lock beside the database, and a
short poll (SQLite has no notifications).
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from pathlib import Path
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa
from psycopg.sql import SQL, Identifier


def is_disconnect(exc: BaseException | None) -> bool:
    """Whether ``exc`` says PostgreSQL is out of reach (stopped, restarting, the connection
    lost), through SQLAlchemy, the event store or psycopg and its pool, rather than that a
    statement was wrong. SQLite has no connection to lose: its errors are never this."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False


class RunnerLock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock, held on a dedicated connection."""

    def __init__(self, engine: sa.Engine, name: str) -> None:
        self.engine = engine
        self.key = zlib.crc32(f"casetrail:{name}".encode())
        self.conn: sa.Connection | None = None

    def acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.engine.connect()
        got = bool(
            self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        )
        self.conn.commit()
        if not got:
            self.conn.close()
            self.conn = None
        return got

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
            except sa.exc.DBAPIError:
                pass  # the session is gone (the server stopped), and the lock with it
            finally:
                self.conn.close()
                self.conn = None


class FileLock:
    """An exclusive flock on a file beside the SQLite database (one runner per machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def runner_lock(engine: sa.Engine, name: str) -> RunnerLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name)
    database = engine.url.database or "casetrail.db"
    return FileLock(Path(f"{database}.{name}.lock"))


def notify_channel(recorder: object) -> str:
    """The channel the store NOTIFYs on: its events table's name (e.g. casetrail_events)."""
    return str(getattr(recorder, "channel_name", "stored_events"))


class Waker:
    """Waits for new events: in-process saves always wake it; PostgreSQL NOTIFY too."""

    def __init__(self, engine: sa.Engine, channel: str, poll: float = 0.05):
        self.local = threading.Event()
        self.poll = poll
        self.dsn: str | None = None
        self.channel = channel
        self.conn: psycopg.Connection[Any] | None = None
        if engine.dialect.name == "postgresql":
            url = engine.url
            self.dsn = psycopg.conninfo.make_conninfo(
                dbname=url.database or "",
                host=url.host or "",
                port=url.port or 5432,
                user=url.username or "",
                password=url.password or "",
            )

    def wake(self) -> None:
        self.local.set()

    def wait(self, timeout: float) -> None:
        """Return when an event may have arrived, or after ``timeout`` seconds."""
        if self.local.is_set():
            self.local.clear()
            return
        if self.dsn is None:
            self.local.wait(min(timeout, self.poll))
            self.local.clear()
            return
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.dsn, autocommit=True)
                self.conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
            step = min(timeout, 0.25)  # re-check the local event between waits
            waited = 0.0
            while waited < timeout and not self.local.is_set():
                for _ in self.conn.notifies(timeout=step, stop_after=1):
                    return
                waited += step
            self.local.clear()
        except psycopg.Error:
            self.close()
            self.local.wait(min(timeout, 1.0))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
