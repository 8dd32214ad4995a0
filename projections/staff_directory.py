"""Staff directory: one row per member of staff; and the workload read over it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.staff import Staff
from projections.base import Event, Generation, RowProjection
from projections.schema import case_list, staff_directory


class StaffDirectoryProjection(RowProjection):
    name = "staff_directory"
    tables = (staff_directory,)
    table = staff_directory
    key_column = "staff_id"
    handles = (Staff.Registered,)

    def key(self, event: Event) -> Any:
        return event.staff_id if isinstance(event, Staff.Registered) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        assert isinstance(event, Staff.Registered)
        return {
            "name": event.name,
            "grade": event.grade.value,
            "team": event.team,
            "pdu": event.pdu,
            "capacity": event.capacity,
            "training": list(event.training),
        }


def query_staff(
    conn: sa.Connection, generation: Generation, *, team: str | None, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    t = staff_directory
    query = sa.select(t).where(t.c.generation == generation)
    if team is not None:
        query = query.where(t.c.team == team)
    if after is not None:
        query = query.where(t.c.staff_id > after)
    rows = [dict(r) for r in conn.execute(query.order_by(t.c.staff_id).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row.pop("generation", None)
    return rows, (rows[-1]["staff_id"] if more and rows else None)


def query_workload(
    conn: sa.Connection, staff_generation: Generation, cases_generation: Generation, team: str
) -> list[dict[str, Any]]:
    """Per practitioner of ``team``: active cases, capacity and percent of capacity."""
    s, c = staff_directory, case_list
    active = (
        sa.select(c.c.practitioner_id, sa.func.count().label("active_cases"))
        .where(c.c.generation == cases_generation, c.c.status == "active")
        .group_by(c.c.practitioner_id)
        .subquery()
    )
    query = (
        sa.select(
            s.c.staff_id,
            s.c.name,
            s.c.grade,
            s.c.team,
            s.c.capacity,
            sa.func.coalesce(active.c.active_cases, 0).label("active_cases"),
        )
        .select_from(s.outerjoin(active, active.c.practitioner_id == s.c.staff_id))
        .where(s.c.generation == staff_generation, s.c.team == team)
        .order_by(s.c.staff_id)
    )
    rows = []
    for row in conn.execute(query).mappings():
        item = {**row, "practitioner_id": row["staff_id"]}
        item["percent_of_capacity"] = round(100.0 * row["active_cases"] / row["capacity"], 1)
        rows.append(item)
    return rows
