"""SPO oversight queue, compliance rates and HMIP-style quality (the oversight read model)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from api import schemas as s
from api.deps import ActorDep, ContainerDep
from api.problems import ApiError
from api.routes.read_models import RESPONSES, Limit, MinPosition, read_your_writes
from application.access import Actor, check_spo_team, indicator_scope
from projections.compliance import IndicatorScope, query_compliance
from projections.oversight import (
    QueueFilter,
    decode_cursor,
    due_date,
    encode_cursor,
    query_queue,
    queue_order,
)
from projections.oversight_history import queue_as_known_at, team_candidates
from projections.oversight_training import training_of
from projections.quality import query_quality
from projections.staff_profiles import load_staff, mandatory_training_rate

router = APIRouter(tags=["oversight"])
PROJECTION = "oversight"
Team = Annotated[str | None, Query(max_length=50)]
Pdu = Annotated[str | None, Query(max_length=50)]
PractitionerId = Annotated[str | None, Query(max_length=100)]
From = Annotated[date | None, Query(alias="from", description="cases opened on or after")]
To = Annotated[date | None, Query(alias="to", description="cases opened on or before")]


def _check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ApiError(400, "bad-range", "The date range is empty", "`to` is before `from`")


@router.get("/oversight", response_model=s.OversightPage, responses=RESPONSES)
def get_oversight_queue(
    container: ContainerDep,
    actor: ActorDep,
    team: Annotated[str, Query(max_length=50, description="the SPO's team")],
    practitioner_id: PractitionerId = None,
    due_from: Annotated[
        date | None, Query(alias="from", description="items due on or after this date")
    ] = None,
    due_to: Annotated[
        date | None, Query(alias="to", description="items due on or before this date")
    ] = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    min_position: MinPosition = None,
    as_known_at: Annotated[
        AwareDatetime | None,
        Query(description="the queue as it stood then, from what had been recorded by then"),
    ] = None,
) -> Any:
    """The SPO's queue: cases needing action, due soon or overdue, most overdue first."""
    check_spo_team(actor, team)
    _check_range(due_from, due_to)
    read_your_writes(container, PROJECTION, "audit_events", min_position=min_position)
    now = container.app.clock()
    where = QueueFilter(
        team=team, practitioner_id=practitioner_id, due_from=due_from, due_to=due_to
    )
    page = min(limit, container.settings.page_size_max)
    if as_known_at is not None:
        return past_queue(container, where, as_known_at, limit=page, cursor=cursor)
    try:
        with container.engine.connect() as conn:
            items, next_cursor = query_queue(
                conn,
                container.projections.live(PROJECTION),
                container.settings.oversight,
                where,
                staff=container.projections.live("staff_profiles"),
                now=now,
                limit=page,
                cursor=cursor,
            )
    except ValueError as exc:
        raise ApiError(400, "bad-cursor", "The cursor is not valid", str(exc)) from None
    return {"as_of": now, "items": items, "next": next_cursor}


def past_queue(
    container: ContainerDep,
    where: QueueFilter,
    moment: datetime,
    *,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """The queue as it stood at ``moment``: the team's cases replayed from the events recorded
    by then, with the thresholds in force now."""
    try:
        after = None if cursor is None else decode_cursor(cursor)
    except ValueError as exc:
        raise ApiError(400, "bad-cursor", "The cursor is not valid", str(exc)) from None
    live = container.projections.live
    with container.engine.connect() as conn:
        candidates = team_candidates(conn, live(PROJECTION), live("audit_events"), where.team)
        training = training_of(conn, live("staff_profiles"), team=where.team)
    cases = container.app.records_of(candidates)
    items = [
        item
        for item in queue_as_known_at(
            cases,
            container.settings.oversight,
            team=where.team,
            moment=moment,
            practitioner_id=where.practitioner_id,
            training=training,
        )
        if (where.due_from is None or due_date(item["due_at"]) >= where.due_from)
        and (where.due_to is None or due_date(item["due_at"]) <= where.due_to)
        and (after is None or queue_order(item) > after)
    ]
    page, more = items[:limit], len(items) > limit
    next_cursor = encode_cursor(queue_order(page[-1])) if more and page else None
    return {"as_of": moment, "items": page, "next": next_cursor}


def _scope(
    actor: Actor,
    pdu: str | None,
    team: str | None,
    practitioner_id: str | None,
    opened_from: date | None,
    opened_to: date | None,
) -> IndicatorScope:
    _check_range(opened_from, opened_to)
    reach = indicator_scope(actor, team, pdu)
    return IndicatorScope(
        teams=reach.teams,
        pdus=reach.pdus,
        pdu=pdu,
        team=team,
        practitioner_id=practitioner_id,
        opened_from=opened_from,
        opened_to=opened_to,
    )


async def scope_of_request(
    actor: ActorDep,
    pdu: Pdu = None,
    team: Team = None,
    practitioner_id: PractitionerId = None,
    opened_from: From = None,
    opened_to: To = None,
) -> IndicatorScope:
    """The scope of an indicator request, checked against the caller's teams."""
    return _scope(actor, pdu, team, practitioner_id, opened_from, opened_to)


ScopeDep = Annotated[IndicatorScope, Depends(scope_of_request)]


def _indicators(
    container: ContainerDep, scope: IndicatorScope, min_position: int | None, query: Any
) -> tuple[Any, datetime]:
    """Run one indicator query on the live read model, at the service's clock."""
    read_your_writes(container, PROJECTION, min_position=min_position)
    now = container.app.clock()
    with container.engine.connect() as conn:
        result = query(
            conn,
            container.projections.live(PROJECTION),
            container.settings.oversight,
            scope,
            now=now,
        )
    return result, now


@router.get("/compliance", response_model=s.ComplianceView, responses=RESPONSES)
def get_compliance(
    container: ContainerDep, scope: ScopeDep, min_position: MinPosition = None
) -> Any:
    """Compliance rates, each with numerator, denominator and definition (SPO: own teams)."""
    rates, now = _indicators(container, scope, min_position, query_compliance)
    with container.engine.connect() as conn:
        staff = load_staff(
            conn,
            container.projections.live("staff_profiles"),
            scope.teams,
            scope.pdus,
            pdu=scope.pdu,
            team=scope.team,
        )
    mandatory = container.settings.mandatory_training
    rates["mandatory_training"] = mandatory_training_rate(staff, mandatory, now.date())
    return {"scope": scope.as_dict(), "as_of": now, "rates": rates}


@router.get("/quality", response_model=s.QualityView, responses=RESPONSES)
def get_quality(container: ContainerDep, scope: ScopeDep, min_position: MinPosition = None) -> Any:
    """HMIP-style standards 2.1-2.6: key questions with yes, total, percent, and ratings."""
    standards, now = _indicators(container, scope, min_position, query_quality)
    return {"scope": scope.as_dict(), "as_of": now, "standards": standards}
