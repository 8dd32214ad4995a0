"""The SQLAlchemy engines for read models (same database as the event store)."""

from typing import Any

import sqlalchemy as sa


def make_engine(database_url: str, *, pool_size: int, upkeep: bool = False) -> sa.Engine:
    """An engine for reading read models and writing the access log, or (``upkeep``) for
    the projection runners that keep read models up to date.

    Upkeep commits without waiting for the disk: PostgreSQL's ``synchronous_commit=off``,
    SQLite's ``synchronous=NORMAL`` (in WAL mode). A read model is derived data whose rows
    commit atomically with their tracked position, so a crash can only take the last moment
    of upkeep back, consistently, and the runner applies those events again from the store.
    The event store's own commits (and the access log's) still wait for the disk.
    """
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # One writer at a time in SQLite: wait for the lock rather than fail (as the store does).
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        if upkeep:
            sa.event.listen(engine, "connect", _sqlite_normal_sync)
        return engine
    # No JIT: a rate over a national store crosses jit_above_cost, and compiling it took
    # longer than it saved (71 ms instead of 82 at 250,000 cases, and no 250 ms outliers).
    options = "-c jit=off" + (" -c synchronous_commit=off" if upkeep else "")
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        # Reads ping a connection before use (a round trip each). Upkeep does not: a batch on
        # a dead connection fails, the pool is invalidated, and the batch is retried.
        pool_pre_ping=not upkeep,
        pool_recycle=600,
        connect_args={"options": options},
    )


def _sqlite_normal_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
