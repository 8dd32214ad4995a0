"""The SQLAlchemy engine for read models (same database as the event store)."""

import sqlalchemy as sa


def make_engine(database_url: str, *, pool_size: int) -> sa.Engine:
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # One writer at a time in SQLite: wait for the lock rather than fail (as the store does).
        return sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=600,
        # No JIT: a rate over a national store crosses jit_above_cost, and compiling it took
        # longer than it saved (71 ms instead of 82 at 250,000 cases, and no 250 ms outliers).
        connect_args={"options": "-c jit=off"},
    )
