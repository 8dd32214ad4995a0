"""The access log: every read of a case's data, by whom, when, through which endpoint.

Written in the same database as the events. A read whose log row cannot be written fails:
there is no unlogged read. Every row is chained (application/access_chain.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from application.access import Actor
from application.access_chain import (
    LANES,
    AccessLogIntegrity,
    Entry,
    Head,
    Progress,
    access_log_key,
    append,
    chain_unlinked,
    verify_access_log,
)
from application.schema import access_log

ATTEMPTS = 20  # a lane taken by another writer meanwhile (SQLite): draw again


@dataclass(frozen=True)
class Reading:
    """What is being read: the endpoint (route template) and the request id."""

    endpoint: str
    request_id: str


class AccessLog:
    def __init__(self, engine: sa.Engine, chain_key: bytes) -> None:
        self.engine = engine
        self.key = access_log_key(chain_key)
        self._heads: dict[int, Head] = {}  # each lane's head as this process last wrote it

    def record(self, actor: Actor, case_id: UUID | None, reading: Reading) -> None:
        entry = Entry(
            at=datetime.now(UTC),
            actor_id=actor.sub,
            roles=",".join(sorted(actor.roles)),
            case_id=case_id,
            endpoint=reading.endpoint[:200],
            request_id=reading.request_id[:64],
        )
        for _ in range(ATTEMPTS):
            lane = random.randrange(LANES)
            with self.engine.begin() as conn:
                head = append(conn, self.key, entry, lane, self._heads.get(lane))
            if head is not None:
                # Only a committed head is remembered; a later one another thread kept stays.
                known = self._heads.get(lane)
                if known is None or known[0] < head[0]:
                    self._heads[lane] = head
                return
        msg = "the access log is too busy: no lane could be written"
        raise RuntimeError(msg)

    def chain_unlinked(self) -> int:
        """Chain rows written before the chain existed (once; see access_chain)."""
        return chain_unlinked(self.engine, self.key)

    def verify(self, progress: Progress | None = None) -> AccessLogIntegrity:
        """Check every row against the chain; each altered, deleted or added row is named."""
        with self.engine.connect() as conn:
            return verify_access_log(conn, self.key, progress=progress)

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
            for chained in ("lane", "seq", "link"):
                row.pop(chained, None)
            row["roles"] = [r for r in row["roles"].split(",") if r]
            if row["at"].tzinfo is None:
                row["at"] = row["at"].replace(tzinfo=UTC)
        return rows, (rows[-1]["id"] if more and rows else None)
