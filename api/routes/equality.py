"""Equality: the caseload's composition and outcome rates by group (issue 13)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ActorDep, ContainerDep
from api.routes.read_models import RESPONSES, MinPosition, read_your_writes
from application.access import indicator_scope
from projections.equality import EqualityScope, composition, load_rows, query_equality
from projections.staff_profiles import counted, load_staff, workforce

router = APIRouter(tags=["equality"])
PROJECTION = "equality"
Pdu = Annotated[str | None, Query(max_length=50, description="only this PDU's cases")]
Team = Annotated[str | None, Query(max_length=50, description="only this team's cases")]


class GroupShare(BaseModel):
    group: str
    cases: int | None = None
    share: float | None = None
    suppressed: bool = Field(default=False, description="fewer than min_count: no numbers")


class GroupRate(BaseModel):
    group: str
    numerator: int | None = None
    denominator: int | None = None
    rate: float | None = None
    ratio: float | None = Field(default=None, description="rate over the reference group's")
    ci95: list[float] | None = Field(default=None, description="Katz log interval of ratio")
    finding: Literal["higher", "lower", "no_evidence"] | None = None
    suppressed: bool = False


class OutcomeByGroup(BaseModel):
    measure: str
    characteristic: str
    reference_group: str | None
    groups: list[GroupRate]


class EqualityView(BaseModel):
    scope: dict[str, str | None]
    min_count: int
    cases: int = Field(description="cases counted (an erased person's are not)")
    characteristics: dict[str, list[GroupShare]]
    outcomes: list[OutcomeByGroup]


@router.get("/equality", response_model=EqualityView, responses=RESPONSES)
def get_equality(
    container: ContainerDep,
    actor: ActorDep,
    pdu: Pdu = None,
    team: Team = None,
    min_position: MinPosition = None,
) -> Any:
    """Caseload composition and outcome rates by group, small groups suppressed."""
    reach = indicator_scope(actor, team, pdu)
    scope = EqualityScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=team)
    read_your_writes(container, PROJECTION, min_position=min_position)
    min_count = container.settings.equality_min_count
    with container.engine.connect() as conn:
        figures = query_equality(conn, container.projections.live(PROJECTION), scope, min_count)
    return {"scope": {"pdu": pdu, "team": team}, "min_count": min_count, **figures}


class StaffGroup(BaseModel):
    group: str
    staff: int | None = None
    share: float | None = None
    suppressed: bool = False


class WorkforceBreakdown(BaseModel):
    declaration_rate: float | None = Field(description="share of staff not `not_stated`")
    withheld: Literal["low_declaration"] | None = Field(
        description="withheld where the declaration rate is 60% or less"
    )
    groups: list[StaffGroup]


class WorkforceView(BaseModel):
    scope: dict[str, str | None]
    min_count: int
    staff: int
    workforce: dict[str, WorkforceBreakdown]
    caseload: dict[str, list[GroupShare]]


@router.get("/equality/workforce", response_model=WorkforceView, responses=RESPONSES)
def get_workforce_equality(
    container: ContainerDep,
    actor: ActorDep,
    pdu: Pdu = None,
    team: Team = None,
    min_position: MinPosition = None,
) -> Any:
    """Staff by ethnic group and sex beside the caseload's composition, small groups hidden."""
    reach = indicator_scope(actor, team, pdu)
    scope = EqualityScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=team)
    read_your_writes(container, PROJECTION, "staff_profiles", min_position=min_position)
    min_count = container.settings.equality_min_count
    with container.engine.connect() as conn:
        staff = counted(
            load_staff(
                conn,
                container.projections.live("staff_profiles"),
                reach.teams,
                reach.pdus,
                pdu=pdu,
                team=team,
            )
        )
        rows = load_rows(conn, container.projections.live(PROJECTION), scope)
    caseload = composition(rows, min_count)
    return {
        "scope": {"pdu": pdu, "team": team},
        "min_count": min_count,
        "staff": len(staff),
        "workforce": workforce(staff, min_count),
        "caseload": {name: caseload[name] for name in ("ethnic_group", "sex")},
    }
