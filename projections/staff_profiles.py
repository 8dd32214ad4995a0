"""Staff profiles: each member of staff's codes and training records, for the workforce
figures (`GET /equality/workforce`) and the mandatory-training rate of `/compliance`.

The codes are sealed in the store; the projections' mapper opens them (``READ_MODEL_LEAVES``).
An erased staff member's row keeps no codes (`not_stated`) and is marked `erased`: the
workforce figures leave them out. A rebuild after erasure reads their codes as `[erased]`
(the key is gone) and marks the row the same way, before the erasure event is even reached.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import sqlalchemy as sa

from domain.characteristics import NOT_STATED, STAFF_CODES
from domain.personal import ERASED
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
    handles = (
        Staff.Registered,
        Staff.TrainingCompleted,
        Staff.CharacteristicsCorrected,
        Staff.PersonalDataErased,
    )

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, self.handles) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        if isinstance(event, Staff.Registered):
            registered = {
                "staff_id": event.staff_id,
                "team": event.team,
                "pdu": event.pdu,
                "training": [[module, None, None] for module in event.training],
                "erased": False,
            }
            return _with_codes(registered, event.ethnic_group, event.sex)
        if row is None:
            return None
        if isinstance(event, Staff.CharacteristicsCorrected):
            return _with_codes(row, event.ethnic_group, event.sex)
        if isinstance(event, Staff.PersonalDataErased):
            return {**row, "erased": True, **dict.fromkeys(STAFF_CODES, NOT_STATED)}
        assert isinstance(event, Staff.TrainingCompleted)
        expires = event.expires_on.isoformat() if event.expires_on else None
        record = [event.module, event.completed_on.isoformat(), expires]
        return {**row, "training": [*row["training"], record]}


def _with_codes(row: dict[str, Any], ethnic_group: Any, sex: Any) -> dict[str, Any]:
    """The row with the codes an event gives (None: unchanged). A code that reads [erased]
    (its key destroyed) erases the row: its codes go, and the figures leave it out."""
    given = {"ethnic_group": ethnic_group, "sex": sex}
    if row.get("erased") or ERASED in given.values():
        return {**row, "erased": True, **dict.fromkeys(STAFF_CODES, NOT_STATED)}
    changed = {name: _code(name, value) for name, value in given.items() if value is not None}
    return {**row, **changed}


def _code(name: str, value: Any) -> str:
    """A code as the read model keeps it: an unreadable one ([sealed]) is not stated."""
    codes = {code.value for code in STAFF_CODES[name]}
    return value if value in codes else NOT_STATED


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
    """Staff by ethnic group and sex: declaration rate; withheld at 60% or less; suppressed.
    ``staff`` are the members counted: erased ones are left out before (``counted``)."""
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


def counted(staff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The staff the workforce figures count: not those whose personal data was erased."""
    return [s for s in staff if not s["erased"]]
