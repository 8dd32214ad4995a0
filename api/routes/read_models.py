"""Reads from projections: case list, staff directory, workload. Each honours min_position."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import schemas as s
from api.deps import ActorDep, ContainerDep
from api.problems import ApiError
from api.routes.casework import PROBLEM_RESPONSES
from application.access import case_list_scope, check_spo_team
from domain.vocabulary import RoSH
from projections.case_list import CaseFilter, query_cases
from projections.staff_directory import query_staff, query_workload

router = APIRouter(tags=["read models"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    **{k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 422)},
    503: {
        "description": "min_position not reached in time; retry after Retry-After seconds",
        "content": {"application/problem+json": {}},
    },
}
MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=2**63 - 1,
        description="wait until the read model has applied this position (a command's)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=10_000, description="page size (capped by the server)")]


def read_your_writes(container: ContainerDep, *names: str, min_position: int | None) -> None:
    if min_position is None:
        return
    for name in names:
        if not container.projections.wait_for(
            name, min_position, container.settings.read_wait_seconds
        ):
            raise ApiError(
                503,
                "not-yet-projected",
                "The read model has not caught up yet",
                f"{name} has not applied position {min_position}; retry shortly",
                headers={"Retry-After": "1"},
            )


@router.get("/cases", response_model=s.CasePage, responses=RESPONSES)
def list_cases(
    container: ContainerDep,
    actor: ActorDep,
    team: Annotated[str | None, Query(max_length=50)] = None,
    practitioner_id: Annotated[str | None, Query(max_length=100)] = None,
    rosh: RoSH | None = None,
    crn: Annotated[str | None, Query(pattern=r"^[A-Z][0-9]{6}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(active|terminated)$")] = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    min_position: MinPosition = None,
) -> Any:
    """Cases in your scope, filtered, a page at a time (practitioners: their teams only)."""
    scope = case_list_scope(actor)
    read_your_writes(container, "case_list", min_position=min_position)
    where = CaseFilter(
        teams=scope.teams,
        pdus=scope.pdus,
        team=team,
        practitioner_id=practitioner_id,
        rosh=rosh.value if rosh else None,
        crn=crn,
        status=status,
    )
    page = min(limit, container.settings.page_size_max)
    generation = container.projections.live("case_list")
    try:
        with container.engine.connect() as conn:
            items, next_cursor = query_cases(conn, generation, where, limit=page, cursor=cursor)
    except ValueError as exc:
        raise ApiError(400, "bad-cursor", "The cursor is not valid", str(exc)) from None
    return {"items": items, "next": next_cursor}


@router.get("/staff", response_model=s.StaffPage, responses=RESPONSES)
def list_staff(
    container: ContainerDep,
    actor: ActorDep,
    team: Annotated[str | None, Query(max_length=50)] = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    min_position: MinPosition = None,
) -> Any:
    """The staff directory; any signed-in user."""
    read_your_writes(container, "staff_directory", min_position=min_position)
    page = min(limit, container.settings.page_size_max)
    generation = container.projections.live("staff_directory")
    with container.engine.connect() as conn:
        items, next_cursor = query_staff(conn, generation, team=team, limit=page, after=cursor)
    return {"items": items, "next": next_cursor}


@router.get("/workload", response_model=s.Workload, responses=RESPONSES)
def get_workload(
    container: ContainerDep,
    actor: ActorDep,
    team: Annotated[str, Query(max_length=50, description="the SPO's team")],
    min_position: MinPosition = None,
) -> Any:
    """Per practitioner of a team: active cases against capacity (SPO of that team)."""
    check_spo_team(actor, team)
    read_your_writes(container, "case_list", "staff_directory", min_position=min_position)
    with container.engine.connect() as conn:
        items = query_workload(
            conn,
            container.projections.live("staff_directory"),
            container.projections.live("case_list"),
            team,
        )
    return {"team": team, "items": items}
