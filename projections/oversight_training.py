"""The queue's `allocated_without_training` items: open until the gap closes.

An SPO may override the allocation guard (domain/allocation.py); the `Allocated` event then
records the modules the practitioner lacked, and the case's facts keep them (``untrained``).
The gap closes in one of two ways:

- the case is allocated again, to someone who needs no override: a case event, so the
  projection's clock closes as every other clock does;
- the practitioner completes the training: a staff event, which no case row sees. So the
  queue checks it when it is read, against the staff profiles (projections/staff_profiles):
  an item whose practitioner now holds every missing module, current on the day asked about,
  is not shown. Training counts from its completion date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from projections.base import Generation
from projections.schema import oversight_facts, staff_profiles
from projections.staff_profiles import current_modules

RULE = "allocated_without_training"

Training = Mapping[str, list[list[Any]]]  # staff id -> [module, completed_on, expires_on]


def training_of(
    conn: sa.Connection,
    generation: Generation,
    staff_ids: Sequence[str | None] = (),
    *,
    team: str | None = None,
) -> dict[str, list[list[Any]]]:
    """The training records (by staff id) of these members of staff, and of the team's."""
    wanted = sorted({s for s in staff_ids if s is not None})
    t = staff_profiles
    chosen: list[sa.ColumnElement[bool]] = [t.c.staff_id.in_(wanted)] if wanted else []
    if team is not None:
        chosen.append(t.c.team == team)
    if not chosen:
        return {}
    query = sa.select(t.c.staff_id, t.c.training).where(
        t.c.generation == generation, sa.or_(*chosen)
    )
    return {str(row.staff_id): row.training for row in conn.execute(query)}


def gap_closed(
    training: Training, practitioner_id: str | None, modules: Sequence[str], on: date
) -> bool:
    """Whether the practitioner now holds every module the allocation lacked, current on ``on``."""
    if not modules or practitioner_id is None or practitioner_id not in training:
        return False  # nothing known to close it by
    return set(modules) <= current_modules(training[practitioner_id], on)


def drop_closed_gaps(
    conn: sa.Connection,
    oversight: Generation,
    staff: Generation,
    items: list[dict[str, Any]],
    on: date,
) -> list[dict[str, Any]]:
    """``items`` without the `allocated_without_training` ones whose gap training has closed."""
    gaps = [item for item in items if item["reason"] == RULE]
    if not gaps:
        return items
    f = oversight_facts
    case_ids: list[UUID] = [item["case_id"] for item in gaps]
    query = sa.select(f.c.case_id, f.c.facts).where(
        f.c.generation == oversight, f.c.case_id.in_(case_ids)
    )
    missing = {
        case_id: (facts.get("untrained") or {}).get("modules", [])
        for case_id, facts in conn.execute(query)
    }
    training = training_of(conn, staff, [item["practitioner_id"] for item in gaps])
    closed = {
        item["case_id"]
        for item in gaps
        if gap_closed(training, item["practitioner_id"], missing.get(item["case_id"], []), on)
    }
    return [i for i in items if not (i["reason"] == RULE and i["case_id"] in closed)]
