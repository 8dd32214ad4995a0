"""Cross-case audit: one row per event with its actor, so an auditor sees all one user did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from projections.base import Batch, Generation, Projection, insert
from projections.schema import audit_events


class AuditEventsProjection(Projection):
    name = "audit_events"
    tables = (audit_events,)

    def process(self, conn: sa.Connection, generation: Generation, batch: Batch) -> None:
        rows = [
            {
                "generation": generation,
                "position": position,
                "aggregate_id": event.originator_id,
                "aggregate_type": type(event).__qualname__.split(".")[0],
                "version": event.originator_version,
                "type": type(event).__name__,
                "actor_id": getattr(event, "actor_id", "") or "",
                "occurred_at": getattr(event, "occurred_at", None) or _recorded(event),
                "recorded_at": _recorded(event),
            }
            for position, event in batch
        ]
        insert(conn, audit_events, rows)


def _recorded(event: Any) -> datetime:
    recorded: datetime = event.timestamp
    return recorded


def query_audit_events(
    conn: sa.Connection,
    generation: Generation,
    *,
    actor_id: str | None,
    type_: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: int | None,
) -> tuple[list[dict[str, Any]], int | None]:
    t = audit_events
    query = sa.select(t).where(t.c.generation == generation)
    # Only the filters given: a comparison with None is an error, not a no-op.
    if actor_id is not None:
        query = query.where(t.c.actor_id == actor_id)
    if type_ is not None:
        query = query.where(t.c.type == type_)
    if since is not None:
        query = query.where(t.c.recorded_at >= since)
    if until is not None:
        query = query.where(t.c.recorded_at < until)
    if after is not None:
        query = query.where(t.c.position > after)
    rows = [dict(r) for r in conn.execute(query.order_by(t.c.position).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row.pop("generation", None)
    return rows, (rows[-1]["position"] if more and rows else None)
