"""Audit and SFO review: the chronology, integrity, the access log, everything one user did."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AwareDatetime

from api import schemas as s
from api.deps import ActorDep, ContainerDep, ReadingDep, ServiceDep
from api.exports import timeline_csv, timeline_html
from api.problems import ApiError
from api.routes.casework import PROBLEM_RESPONSES
from api.routes.read_models import RESPONSES, Limit, MinPosition, read_your_writes
from application.access import check_auditor
from application.timeline import timeline
from projections.audit_events import query_audit_events
from projections.oversight_history import oversight_history
from projections.schema import case_list

router = APIRouter(tags=["audit and SFO review"])
READ: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 404, 422)}
Since = Annotated[AwareDatetime | None, Query(alias="from", description="from this time")]
Until = Annotated[AwareDatetime | None, Query(alias="to", description="before this time")]


@router.get(
    "/cases/{case_id}/timeline",
    response_model=s.TimelineView,
    responses={**READ, 200: {"content": {"text/csv": {}, "text/html": {}}}},
)
def get_case_timeline(
    case_id: UUID,
    request: Request,
    container: ContainerDep,
    service: ServiceDep,
    actor: ActorDep,
    reading: ReadingDep,
    since: Since = None,
    until: Until = None,
    types: Annotated[
        str | None, Query(max_length=2000, description="comma-separated types")
    ] = None,
    format: Annotated[str | None, Query(pattern="^(json|csv|html)$")] = None,
) -> Any:
    """The chronology: every event by when it happened, with recording lateness and corrections.

    `?format=csv` for a spreadsheet; `Accept: text/html` (or `?format=html`) for a printable
    annex to attach to a review.
    """
    wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
    current, entries = service.case_entries(case_id, actor, reading=reading)
    items = timeline(entries, since=since, until=until, types=wanted)
    chosen = format or ("html" if "text/html" in request.headers.get("accept", "") else "json")
    if chosen != "json":  # the exports carry the oversight history beside the chronology
        records = [record for record, _ in entries]
        episodes = oversight_history(records, container.settings.oversight, now=service.clock())
    if chosen == "csv":
        return Response(
            timeline_csv(items, episodes),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="chronology-{current.crn}.csv"'},
        )
    if chosen == "html":
        return HTMLResponse(
            timeline_html(
                items,
                crn=current.crn,
                case_id=str(case_id),
                generated_by=actor.sub,
                episodes=episodes,
            )
        )
    return {
        "case_id": case_id,
        "crn": current.crn,
        "version": current.version,
        "items": [item.as_dict() for item in items],
    }


@router.get("/cases/{case_id}/integrity", response_model=s.IntegrityView, responses=READ)
def get_case_integrity(
    case_id: UUID, container: ContainerDep, actor: ActorDep, reading: ReadingDep
) -> Any:
    """Check the case's stored events against their tamper-evident chain (auditor, SFO reviewer).

    An altered, deleted or reordered event is named by its version.
    """
    generation = container.projections.live("case_list")
    with container.engine.connect() as conn:
        known = conn.execute(
            sa.select(case_list.c.version).where(
                case_list.c.generation == generation, case_list.c.case_id == case_id
            )
        ).scalar()
    result = container.app.verify_case(case_id, actor, known_version=known, reading=reading)
    return result.as_dict()


@router.get("/audit/access/integrity", response_model=s.AccessLogIntegrityView, responses=READ)
def get_access_log_integrity(container: ContainerDep, actor: ActorDep) -> Any:
    """Check every access-log row against its chain; name each altered, deleted or added row."""
    check_auditor(actor)
    log = container.app.access_log
    if log is None:  # pragma: no cover - the composition root always sets it
        raise ApiError(503, "no-access-log", "The access log is not configured", "")
    result = log.verify()
    return {
        "ok": result.ok,
        "checked": result.checked,
        "breaks": [vars(b) for b in result.breaks],
        "more_breaks": result.more_breaks,
    }


@router.get("/audit/access", response_model=s.AccessLogPage, responses=READ)
def get_access_log(
    container: ContainerDep,
    actor: ActorDep,
    case_id: UUID | None = None,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> Any:
    """Who read which case, when, through which endpoint (auditors)."""
    check_auditor(actor)
    log = container.app.access_log
    if log is None:  # pragma: no cover - the composition root always sets it
        raise ApiError(503, "no-access-log", "The access log is not configured", "")
    items, after = log.query(
        case_id=case_id,
        actor_id=actor_id,
        since=since,
        until=until,
        limit=min(limit, container.settings.page_size_max),
        after_id=int(cursor) if cursor else None,
    )
    return {"items": items, "next": str(after) if after is not None else None}


@router.get("/audit/events", response_model=s.AuditEventPage, responses=RESPONSES)
def get_audit_events(
    container: ContainerDep,
    actor: ActorDep,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=60)] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
    min_position: MinPosition = None,
) -> Any:
    """Every event with its actor, across cases: all that one user recorded (auditors)."""
    check_auditor(actor)
    read_your_writes(container, "audit_events", min_position=min_position)
    generation = container.projections.live("audit_events")
    with container.engine.connect() as conn:
        items, after = query_audit_events(
            conn,
            generation,
            actor_id=actor_id,
            type_=type,
            since=since,
            until=until,
            limit=min(limit, container.settings.page_size_max),
            after=int(cursor) if cursor else None,
        )
    return {"items": items, "next": str(after) if after is not None else None}
