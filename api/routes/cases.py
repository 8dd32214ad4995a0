"""Case history reads: current state, the event stream, and historical states (replay)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, TypeAdapter

from api import schemas as s
from api.deps import ActorDep, ReadingDep, ServiceDep
from api.problems import ApiError
from api.routes.casework import PROBLEM_RESPONSES
from domain.case import Case

router = APIRouter(tags=["case history"])
CASE_VIEW = TypeAdapter(s.CaseView)
MAX_VERSION = 2**31 - 1  # versions are 32-bit in every store; larger is a 422, not an overflow
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    k: v for k, v in PROBLEM_RESPONSES.items() if k in (401, 403, 404, 422)
}


@router.get("/cases/{case_id}", response_model=s.CaseView, responses=READ_RESPONSES)
def get_case(case_id: UUID, service: ServiceDep, actor: ActorDep, reading: ReadingDep) -> Any:
    """The case's current state, replayed from its events; ETag is its version."""

    def render(case: Case) -> tuple[int, bytes]:
        # Serialised while the case is locked: it may be the cached case a command changes
        # next. Python values in: pydantic serialises enums, dates and ids itself.
        body = {"case_id": case.id, "version": case.version, **case.state.fields()}
        return case.version, CASE_VIEW.dump_json(CASE_VIEW.validate_python(body))

    version, body = service.read_case(case_id, actor, render, reading=reading)
    return Response(body, media_type="application/json", headers={"ETag": f'"{version}"'})


@router.get("/cases/{case_id}/events", response_model=s.EventPage, responses=READ_RESPONSES)
def get_case_events(
    case_id: UUID,
    request: Request,
    service: ServiceDep,
    actor: ActorDep,
    reading: ReadingDep,
    after_version: Annotated[int, Query(ge=0, le=MAX_VERSION)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> Any:
    """The case's full event stream in version order, a page at a time (auditor replay)."""
    max_page = request.app.state.container.settings.page_size_max
    page_size = min(limit or max_page, max_page)
    version, page = service.case_records(
        case_id, actor, after_version=after_version, limit=page_size, reading=reading
    )
    items: list[dict[str, Any]] = [
        {
            "version": record["version"],
            "type": record["type"],
            "occurred_at": record["occurred_at"],
            "recorded_at": record["recorded_at"],
            "actor_id": event.actor_id,
            "command_id": event.command_id,
            "data": record["data"],
        }
        for event, record in page
    ]
    last = page[-1][1]["version"] if page else after_version
    more = bool(items) and last < version and len(items) == page_size
    return {"items": items, "next": str(last) if more else None}


@router.get(
    "/cases/{case_id}/state",
    response_model=s.HistoricalStateView,
    responses={**READ_RESPONSES, 400: PROBLEM_RESPONSES[400]},
)
def get_case_state(
    case_id: UUID,
    service: ServiceDep,
    actor: ActorDep,
    reading: ReadingDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="the case at this version")
    ] = None,
    as_known_at: Annotated[
        AwareDatetime | None, Query(description="as known then: events recorded by this time")
    ] = None,
    as_of: Annotated[
        AwareDatetime | None,
        Query(description="as it had happened by then: events that occurred by this time"),
    ] = None,
) -> Any:
    """The case at a version, as the service knew it at a time, or as things stood at a time."""
    if sum(x is not None for x in (version, as_known_at, as_of)) > 1:
        raise ApiError(
            400, "one-view", "Choose one view", "give at most one of version, as_known_at, as_of"
        )
    historical = service.case_state(
        case_id, actor, version=version, as_known_at=as_known_at, as_of=as_of, reading=reading
    )
    return {"case_id": case_id, **historical.to_dict()}
