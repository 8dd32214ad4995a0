"""Staff profiles: each member of staff's codes and training records, for the workforce
figures (`GET /equality/workforce`) and the mandatory-training rate of `/compliance`."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import sqlalchemy as sa

from domain.characteristics import NOT_STATED, STAFF_CODES
from domain.staff import Staff
from projections.base import Event, Generation, RowProjection, in_reach
from projections.equality_figures import suppressed_groups
from projections.schema import staff_profiles

DECLARATION_THRESHOLD = 0.6  # HMPPS workforce statistics withhold a breakdown at or below


class StaffProfileProjection(RowProjection):
    name = "staff_profiles"
    tables = (staff_profiles,)
    table = staff_profiles
    key_column = "aggregate_id"
    handles = (Staff.Registered, Staff.TrainingCompleted)

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, self.handles) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        if isinstance(event, Staff.Registered):
            return {
                "staff_id": event.staff_id,
                "team": event.team,
                "pdu": event.pdu,
                "ethnic_group": event.ethnic_group,
                "sex": event.sex,
                "training": [[module, None, None] for module in event.training],
            }
        if row is None or not isinstance(event, Staff.TrainingCompleted):
            return row
        expires = event.expires_on.isoformat() if event.expires_on else None
        record = [event.module, event.completed_on.isoformat(), expires]
        return {**row, "training": [*row["training"], record]}


def current_modules(training: list[list[Any]], on: date) -> set[str]:
    """Modules current on ``on``: [module, completed_on, expires_on] with ISO dates or None."""
    today = on.isoformat()
    return {
        module
        for module, completed, expires in training
        if (completed is None or completed <= today) and (expires is None or today <= expires)
    }


def load_staff(
    conn: sa.Connection,
    generation: Generation,
    teams: frozenset[str] | None,
    pdus: frozenset[str] | None,
    *,
    pdu: str | None = None,
    team: str | None = None,
) -> list[dict[str, Any]]:
    t = staff_profiles
    query = sa.select(t).where(t.c.generation == generation)
    if (reach := in_reach(t, teams, pdus)) is not None:
        query = query.where(reach)
    if pdu is not None:
        query = query.where(t.c.pdu == pdu)
    if team is not None:
        query = query.where(t.c.team == team)
    return [dict(r) for r in conn.execute(query).mappings()]


def mandatory_training_rate(
    staff: list[dict[str, Any]], mandatory: list[str], on: date
) -> dict[str, Any]:
    """Staff with every mandatory module current, over staff in scope."""
    trained = sum(set(mandatory) <= current_modules(s["training"], on) for s in staff)
    return {
        "numerator": trained,
        "denominator": len(staff),
        "percent": round(100 * trained / len(staff), 1) if staff else None,
        "definition": "staff with every mandatory training module current: " + ", ".join(mandatory),
    }


def workforce(staff: list[dict[str, Any]], min_count: int) -> dict[str, Any]:
    """Staff by ethnic group and sex: declaration rate; withheld at 60% or less; suppressed."""
    found: dict[str, Any] = {}
    for name, vocabulary in STAFF_CODES.items():
        counts = Counter({code.value: 0 for code in vocabulary})
        counts.update(s[name] for s in staff)
        declared = len(staff) - counts[NOT_STATED]
        rate = round(declared / len(staff), 4) if staff else None
        entry: dict[str, Any] = {"declaration_rate": rate}
        if rate is None or rate <= DECLARATION_THRESHOLD:
            entry["withheld"] = "low_declaration"
            entry["groups"] = []
        else:
            hidden = suppressed_groups(counts, min_count)
            entry["withheld"] = None
            entry["groups"] = [
                {"group": g, "suppressed": True}
                if g in hidden
                else {"group": g, "staff": n, "share": round(n / len(staff), 4)}
                for g, n in counts.items()
            ]
        found[name] = entry
    return found
