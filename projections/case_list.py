"""Case list: one row per case, for `GET /cases` (filters by team, practitioner, RoSH, CRN)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.case import Case
from domain.state import CaseState
from projections.base import Event, Generation, RowProjection, in_reach
from projections.history import CaseHistory
from projections.schema import case_list


class CaseListProjection(RowProjection):
    name = "case_list"
    tables = (case_list,)
    table = case_list
    key_column = "case_id"
    handles = ()  # every case event moves `version` and `last_event_at`

    def __init__(self, history: CaseHistory) -> None:
        super().__init__()
        self.history = history

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, Case.Event) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        assert isinstance(event, Case.Event)
        if isinstance(event, Case.Opened):
            row = {
                "crn": event.crn,
                "sentence_type": event.sentence_type.value,
                "pdu": event.pdu,
                "team": event.team,
                "practitioner_id": None,
                "rosh": None,
                "status": "active",
                "opened_at": event.occurred_at,
                "terminated_at": None,
            }
        elif row is None:
            return None
        elif isinstance(event, Case.Corrected):
            row = row_from_state(self.history.state(event.originator_id, event.originator_version))
        else:
            row = {**row, **_changes(event)}
        row["version"] = event.originator_version
        row["last_event_at"] = event.timestamp
        return row


def _changes(event: Case.Event) -> dict[str, Any]:
    if isinstance(event, Case.Allocated):
        return {"practitioner_id": event.practitioner_id}
    if isinstance(event, Case.RiskAssessed):
        return {"rosh": event.rosh.value}
    if isinstance(event, Case.RiskReviewCompleted) and event.rosh is not None:
        return {"rosh": event.rosh.value}
    if isinstance(event, Case.Transferred):
        return {"team": event.team, "pdu": event.pdu}
    if isinstance(event, Case.Terminated):
        return {"status": "terminated", "terminated_at": event.occurred_at}
    return {}


def row_from_state(state: CaseState) -> dict[str, Any]:
    """The case-list row of a folded state (used after corrections, and by tests)."""
    termination = state.termination
    return {
        "crn": state.crn,
        "sentence_type": state.sentence_type.value if state.sentence_type else "",
        "pdu": state.pdu,
        "team": state.team,
        "practitioner_id": state.practitioner_id,
        "rosh": state.rosh.value if state.rosh else None,
        "status": state.status,
        "opened_at": state.opened_at,
        "terminated_at": termination["occurred_at"] if termination else None,
    }


@dataclass(frozen=True)
class CaseFilter:
    teams: frozenset[str] | None = None  # the reader's reach: teams or PDUs (None and None:
    pdus: frozenset[str] | None = None  # every case, for auditors and reviewers)
    team: str | None = None
    practitioner_id: str | None = None
    rosh: str | None = None
    crn: str | None = None
    status: str | None = None


def query_cases(
    conn: sa.Connection,
    generation: Generation,
    where: CaseFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of cases ordered by CRN then case id; the cursor is opaque to clients."""
    t = case_list
    query = sa.select(t).where(t.c.generation == generation)
    if (within := in_reach(t, where.teams, where.pdus)) is not None:
        query = query.where(within)
    for column, value in (
        (t.c.team, where.team),
        (t.c.practitioner_id, where.practitioner_id),
        (t.c.rosh, where.rosh),
        (t.c.crn, where.crn),
        (t.c.status, where.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if cursor is not None:
        crn, case_id = decode_cursor(cursor)
        query = query.where(
            sa.tuple_(t.c.crn, t.c.case_id)
            > sa.tuple_(sa.literal(crn), sa.literal(case_id, sa.Uuid))
        )
    rows = [
        dict(r)
        for r in conn.execute(query.order_by(t.c.crn, t.c.case_id).limit(limit + 1)).mappings()
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["crn"], rows[-1]["case_id"]) if more and rows else None
    for row in rows:
        row.pop("generation", None)
    return rows, next_cursor


def encode_cursor(crn: str, case_id: UUID) -> str:
    return base64.urlsafe_b64encode(json.dumps([crn, str(case_id)]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, UUID]:
    """Raises ValueError for a cursor this API did not issue."""
    try:
        crn, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(crn), UUID(str(case_id))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this API") from exc


def count_caseload(
    conn: sa.Connection, generation: Generation, practitioner_id: str, leaving_out: UUID
) -> int:
    """Active cases allocated to ``practitioner_id``, ``leaving_out`` one (being allocated)."""
    t = case_list
    query = (
        sa.select(sa.func.count())
        .select_from(t)
        .where(
            t.c.generation == generation,
            t.c.practitioner_id == practitioner_id,
            t.c.status == "active",
            t.c.case_id != leaving_out,
        )
    )
    return int(conn.execute(query).scalar_one())
