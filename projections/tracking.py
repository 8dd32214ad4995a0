"""Tracking positions and generations: where each projection stands, and which rows are live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from projections.schema import projection_active, projection_tracking

RUNNING, BUILDING, FAILED = "running", "building", "failed"


class FencedError(Exception):
    """Another runner moved this projection's position: this batch must not commit."""


@dataclass(frozen=True)
class Tracking:
    projection: str
    generation: int
    position: int
    status: str
    error: str | None
    events_processed: int
    caught_up_at: datetime | None
    updated_at: datetime


def now() -> datetime:
    return datetime.now(UTC)


def _lock(query: Any, conn: sa.Connection) -> Any:
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


def live(projection: str) -> Any:
    """The live generation as a scalar subquery: a read resolves it in its own statement, so a
    rebuild's swap can never leave it reading a generation that has just been deleted."""
    return (
        sa.select(projection_active.c.generation)
        .where(projection_active.c.projection == projection)
        .scalar_subquery()
    )


def active_generation(conn: sa.Connection, projection: str, *, lock: bool = False) -> int | None:
    query = sa.select(projection_active.c.generation).where(
        projection_active.c.projection == projection
    )
    value = conn.execute(_lock(query, conn) if lock else query).scalar()
    return int(value) if value is not None else None


def ensure_active(conn: sa.Connection, projection: str) -> int:
    """The live generation, creating generation 1 on first use."""
    generation = active_generation(conn, projection)
    if generation is not None:
        return generation
    conn.execute(sa.insert(projection_active).values(projection=projection, generation=1))
    start(conn, projection, 1, RUNNING)
    return 1


def start(conn: sa.Connection, projection: str, generation: int, status: str) -> None:
    conn.execute(
        sa.insert(projection_tracking).values(
            projection=projection,
            generation=generation,
            position=0,
            status=status,
            error=None,
            events_processed=0,
            caught_up_at=None,
            updated_at=now(),
        )
    )


def read(conn: sa.Connection, projection: str, generation: int, *, lock: bool = False) -> Tracking:
    t = projection_tracking
    query = sa.select(t).where(t.c.projection == projection, t.c.generation == generation)
    row = conn.execute(_lock(query, conn) if lock else query).mappings().one()
    return _tracking(row)


def advance(
    conn: sa.Connection, tracking: Tracking, position: int, processed: int, caught_up: bool
) -> None:
    """Move the position, fenced on the old one: two writers can never both commit a batch."""
    advance_all(conn, [(tracking, processed)], position, caught_up)


def open_live(conn: sa.Connection, projections: list[str]) -> dict[str, Tracking]:
    """The live generation's tracking of each of ``projections``, locked (one statement once
    they all exist): a batch of several read models opens them all at once."""
    query = _live_query().where(projection_active.c.projection.in_(projections))
    found = {r.projection: r for r in map(_tracking, conn.execute(_lock(query, conn)).mappings())}
    for name in projections:
        if name not in found:
            found[name] = read(conn, name, ensure_active(conn, name), lock=True)
    return found


def advance_all(
    conn: sa.Connection, moves: list[tuple[Tracking, int]], position: int, caught_up: bool
) -> None:
    """``advance`` for several read models to one position in one statement, each fenced on
    its old position: if any of them moved meanwhile, nothing is written."""
    if not moves:
        return
    t = projection_tracking
    processed = sa.case(
        {current.projection: count for current, count in moves}, value=t.c.projection
    )
    values: dict[str, Any] = {
        "position": position,
        "events_processed": t.c.events_processed + processed,
        "updated_at": now(),
        "error": None,
        "status": sa.case((t.c.status == FAILED, RUNNING), else_=t.c.status),
    }
    if caught_up:
        values["caught_up_at"] = now()
    keys = [(c.projection, c.generation, c.position) for c, _ in moves]
    result = conn.execute(
        sa.update(t)
        .where(sa.tuple_(t.c.projection, t.c.generation, t.c.position).in_(keys))
        .values(**values)
    )
    if result.rowcount != len(moves):
        names = ", ".join(c.projection for c, _ in moves)
        raise FencedError(f"{names}: a position moved under this runner")


def _tracking(row: Any) -> Tracking:
    return Tracking(**dict(row))


def _live_query() -> Any:
    """The tracking rows of the live generations."""
    t, a = projection_tracking, projection_active
    return sa.select(t).join(
        a, sa.and_(a.c.projection == t.c.projection, a.c.generation == t.c.generation)
    )


def mark_caught_up(conn: sa.Connection, tracking: Tracking) -> None:
    """Caught up (again): a failure that a retry has overcome is cleared too."""
    t = projection_tracking
    values: dict[str, Any] = {"caught_up_at": now(), "updated_at": now()}
    if tracking.status == FAILED:
        values.update(status=RUNNING, error=None)
    conn.execute(
        sa.update(t)
        .where(t.c.projection == tracking.projection, t.c.generation == tracking.generation)
        .values(**values)
    )


def mark_failed(conn: sa.Connection, projection: str, generation: int, error: str) -> None:
    t = projection_tracking
    conn.execute(
        sa.update(t)
        .where(t.c.projection == projection, t.c.generation == generation)
        .values(status=FAILED, error=error[:4000], updated_at=now())
    )


def all_live(conn: sa.Connection) -> list[Tracking]:
    """The live generation's tracking of every projection."""
    query = _live_query().order_by(projection_tracking.c.projection)
    return [_tracking(r) for r in conn.execute(query).mappings()]
