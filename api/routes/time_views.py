"""Time views: a case's oversight history (replayed) and indicator trends by month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import time_schemas as ts
from api.deps import ActorDep, ContainerDep, ReadingDep, ServiceDep
from api.exports import trend_csv
from api.problems import ApiError
from api.routes.audit import READ
from api.routes.read_models import RESPONSES, MinPosition, read_your_writes
from application.access import indicator_scope
from projections.business_days import local_date
from projections.compliance import IndicatorScope
from projections.oversight_history import episodes_of, overdue_at
from projections.trends import MAX_MONTHS, Month, measures, months, query_trend

router = APIRouter(tags=["time"])


@router.get(
    "/cases/{case_id}/oversight-history", response_model=ts.OversightHistoryView, responses=READ
)
def get_oversight_history(
    case_id: UUID,
    container: ContainerDep,
    service: ServiceDep,
    actor: ActorDep,
    reading: ReadingDep,
) -> Any:
    """Every oversight item the case ever had: when it opened, when and by what it closed."""
    crn, version = service.read_case(
        case_id, actor, lambda case: (case.state.crn, case.version), reading=reading
    )
    now, thresholds = service.clock(), container.settings.oversight
    key = (case_id, version, repr(thresholds))
    episodes = container.histories.get(key)
    if episodes is None:  # the case's records up to the version just read, checked
        records = service.records_of([case_id]).get(case_id, [])
        episodes = episodes_of([r for r in records if r["version"] <= version], thresholds)
        container.histories.put(key, episodes)
    return {
        "case_id": case_id,
        "crn": crn,
        "version": version,
        "as_of": now,
        "items": [episode.as_dict() for episode in overdue_at(episodes, now)],
    }


MonthParam = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="a month, YYYY-MM")
]


@router.get(
    "/trends",
    response_model=ts.TrendView,
    responses={**RESPONSES, 200: {"content": {"text/csv": {}}}},
)
def get_trends(
    container: ContainerDep,
    actor: ActorDep,
    measure: Annotated[
        str, Query(max_length=60, description="a /compliance rate or /quality question")
    ],
    pdu: Annotated[str | None, Query(max_length=50)] = None,
    team: Annotated[str | None, Query(max_length=50)] = None,
    first: Annotated[MonthParam, Query(alias="from")] = None,
    last: Annotated[MonthParam, Query(alias="to")] = None,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
    min_position: MinPosition = None,
) -> Any:
    """A rate or key question by month, each as at the month's end from what had happened then."""
    reach = indicator_scope(actor, team, pdu)
    scope = IndicatorScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=team)
    now = container.app.clock()
    span = _span(first, last, now)
    known = measures(container.settings.oversight, now)
    if measure not in known:
        raise ApiError(
            400,
            "unknown-measure",
            "The measure is not known",
            f"{measure!r} is none of: {', '.join(known)}",
        )
    read_your_writes(container, "oversight", min_position=min_position)
    with container.engine.connect() as conn:
        items = query_trend(
            conn,
            container.projections.live("oversight"),
            container.settings.oversight,
            scope,
            measure,
            span,
            now=now,
        )
    if format == "csv":
        return Response(
            trend_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="trend-{measure}.csv"'},
        )
    return {"measure": measure, "definition": known[measure][2], "items": items}


def _span(first: str | None, last: str | None, now: datetime) -> list[Month]:
    """The months asked for, none after this one: by default the twelve to this one."""
    this_month = Month(local_date(now).replace(day=1))
    try:
        end = Month.parse(last) if last else this_month
        start = Month.parse(first) if first else end.back(11)
    except ValueError as exc:
        raise ApiError(400, "bad-range", "The month is not valid", str(exc)) from None
    if end.first > this_month.first:
        raise ApiError(400, "bad-range", "The months have not come yet", "`to` is after now")
    count = _index(end.first) - _index(start.first) + 1
    if count < 1:
        raise ApiError(400, "bad-range", "The month range is empty", "`to` is before `from`")
    if count > MAX_MONTHS:
        raise ApiError(
            400, "bad-range", "The month range is too long", f"at most {MAX_MONTHS} months"
        )
    return months(start, end)


def _index(first: date) -> int:
    return first.year * 12 + first.month - 1
