"""The access log: every read of a case's data, by whom, when, through which endpoint.

Written in the same database as the events. A read whose log row cannot be written fails:
there is no unlogged read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from application.access import Actor
from application.schema import access_log


@dataclass(frozen=True)
class Reading:
    """What is being read: the endpoint (route template) and the request id."""

    endpoint: str
    request_id: str


class AccessLog:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(self, actor: Actor, case_id: UUID | None, reading: Reading) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(access_log).values(
                    at=datetime.now(UTC),
                    actor_id=actor.sub,
                    roles=",".join(sorted(actor.roles)),
                    case_id=case_id,
                    endpoint=reading.endpoint[:200],
                    request_id=reading.request_id[:64],
                )
            )

    def query(
        self,
        *,
        case_id: UUID | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        after_id: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        t = access_log
        query = sa.select(t).order_by(t.c.id).limit(limit + 1)
        # Only the filters given: a comparison with None is an error, not a no-op.
        if case_id is not None:
            query = query.where(t.c.case_id == case_id)
        if actor_id is not None:
            query = query.where(t.c.actor_id == actor_id)
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        if after_id is not None:
            query = query.where(t.c.id > after_id)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            row["roles"] = [r for r in row["roles"].split(",") if r]
            if row["at"].tzinfo is None:
                row["at"] = row["at"].replace(tzinfo=UTC)
        return rows, (rows[-1]["id"] if more and rows else None)
