"""The start page by role, the SPO's team page and the Head of PDU's (or auditor's) PDU page."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import ContainerDep
from api.pages.charts import trend_chart, workload_chart
from api.pages.rendering import page, see_other
from api.pages.session import PageActor
from application.access import (
    AUDITOR,
    CASE_READERS,
    PDU_HEAD,
    SPO,
    Actor,
    check_spo_team,
    indicator_scope,
)
from application.errors import AccessDeniedError
from projections.business_days import local_date
from projections.compliance import IndicatorScope, query_compliance
from projections.equality import EqualityScope, query_equality
from projections.oversight import QueueFilter, query_queue
from projections.quality import query_quality
from projections.schema import case_list
from projections.staff_directory import query_workload
from projections.trends import Month, measures, months, query_trends

router = APIRouter(prefix="/ui", include_in_schema=False)
Name = Annotated[str, Path(max_length=50, pattern=r"^[A-Za-z0-9 _.-]+$")]
QUEUE_ROWS = 50  # the most overdue; the API pages through the rest


def navigation(actor: Actor) -> list[dict[str, str]]:
    """The service navigation a role sees: only the pages it may open."""
    items = [{"href": f"/ui/teams/{team}", "text": f"Team {team}"} for team in sorted(actor.teams)]
    if not actor.has(SPO):
        items = []
    items += [{"href": f"/ui/pdus/{pdu}", "text": f"PDU {pdu}"} for pdu in sorted(actor.pdus)]
    if actor.has(AUDITOR):
        items.append({"href": "/ui/pdus", "text": "PDUs"})
    if actor.has(*CASE_READERS):
        items.append({"href": "/ui/cases", "text": "Find a case"})
    if actor.has(AUDITOR):
        items.append({"href": "/ui/audit", "text": "Access log"})
    return items


def context(request: Request, actor: Actor, **values: Any) -> dict[str, Any]:
    path = request.url.path
    nav = [{**item, "active": item["href"] == path} for item in navigation(actor)]
    return {"actor": actor, "navigation": nav, **values}


@router.get("/")
async def start(actor: PageActor) -> RedirectResponse:
    """Each role's start page: SPO the team, Head of PDU the PDU, auditor the PDUs, others
    the case search."""
    if actor.has(SPO) and actor.teams:
        return see_other(f"/ui/teams/{sorted(actor.teams)[0]}")
    if actor.has(PDU_HEAD) and actor.pdus:
        return see_other(f"/ui/pdus/{sorted(actor.pdus)[0]}")
    if actor.has(AUDITOR):
        return see_other("/ui/pdus")
    if actor.has(*CASE_READERS):
        return see_other("/ui/cases")
    raise AccessDeniedError("these pages are for casework, oversight and review roles")


@router.get("/teams/{team}", response_class=HTMLResponse)
def team_page(request: Request, team: Name, container: ContainerDep, actor: PageActor) -> Any:
    """The SPO's team: the oversight queue, workload against capacity and compliance."""
    check_spo_team(actor, team)
    now = container.app.clock()
    live = container.projections.live
    with container.engine.connect() as conn:
        queue, more = query_queue(
            conn,
            live("oversight"),
            container.settings.oversight,
            QueueFilter(team=team),
            staff=live("staff_profiles"),
            now=now,
            limit=QUEUE_ROWS,
            cursor=None,
        )
        workload = query_workload(conn, live("staff_directory"), live("case_list"), team)
        scope = _scope(actor, team=team)
        rates = query_compliance(
            conn, live("oversight"), container.settings.oversight, scope, now=now
        )
    values = {
        "team": team,
        "as_of": now,
        "queue": queue,
        "queue_more": more is not None,
        "workload": workload,
        "workload_chart": workload_chart(workload) if workload else None,
        "rates": rates,
    }
    return page(request, "team.html", context(request, actor, **values))


@router.get("/pdus", response_class=HTMLResponse)
def pdu_index(request: Request, container: ContainerDep, actor: PageActor) -> Any:
    """The PDUs an auditor or Head of PDU may open."""
    reach = indicator_scope(actor, None)
    if not actor.has(AUDITOR, PDU_HEAD):
        raise AccessDeniedError("the PDU pages are for Heads of PDU and auditors")
    with container.engine.connect() as conn:
        known = conn.execute(
            sa.select(case_list.c.pdu)
            .where(case_list.c.generation == container.projections.live("case_list"))
            .distinct()
            .order_by(case_list.c.pdu)
        ).scalars()
        pdus = [p for p in known if reach.everything or p in (reach.pdus or ())]
    return page(request, "pdus.html", context(request, actor, pdus=pdus))


@router.get("/pdus/{pdu}", response_class=HTMLResponse)
def pdu_page(request: Request, pdu: Name, container: ContainerDep, actor: PageActor) -> Any:
    """A PDU: compliance rates and the HMIP quality standards against the 80/65/50 bands."""
    scope = _pdu_scope(actor, pdu)
    now = container.app.clock()
    generation = container.projections.live("oversight")
    thresholds = container.settings.oversight
    with container.engine.connect() as conn:
        rates = query_compliance(conn, generation, thresholds, scope, now=now)
        standards = query_quality(conn, generation, thresholds, scope, now=now)
    values = {"pdu": pdu, "as_of": now, "rates": rates, "standards": standards}
    return page(request, "pdu.html", context(request, actor, **values))


# The rates the inspection found wanting, followed month by month on the PDU's trends page.
TREND_MEASURES = (
    "induction_on_time",
    "enforcement_where_required",
    "oversight_of_high_risk",
    "safeguarding_enquiries_answered",
)
TREND_MONTHS = 12


@router.get("/pdus/{pdu}/trends", response_class=HTMLResponse)
def pdu_trends_page(request: Request, pdu: Name, container: ContainerDep, actor: PageActor) -> Any:
    """A PDU's headline rates over the last twelve months: a line chart and its numbers."""
    scope = _pdu_scope(actor, pdu)
    now = container.app.clock()
    this_month = Month(local_date(now).replace(day=1))
    span = months(this_month.back(TREND_MONTHS - 1), this_month)
    thresholds = container.settings.oversight
    known = measures(thresholds, now)
    with container.engine.connect() as conn:
        series = query_trends(
            conn,
            container.projections.live("oversight"),
            thresholds,
            scope,
            list(TREND_MEASURES),
            span,
            now=now,
        )
    values = {
        "pdu": pdu,
        "as_of": now,
        "months": [month.first.strftime("%b %Y") for month in span],
        "series": series,
        "definitions": {name: known[name][2] for name in TREND_MEASURES},
        "chart": trend_chart([month.first.strftime("%b %y") for month in span], series),
    }
    return page(request, "pdu_trends.html", context(request, actor, **values))


@router.get("/pdus/{pdu}/equality", response_class=HTMLResponse)
def pdu_equality_page(
    request: Request, pdu: Name, container: ContainerDep, actor: PageActor
) -> Any:
    """A PDU's caseload by characteristic and outcome rates by group, small groups hidden."""
    reach = indicator_scope(actor, None, pdu)
    _pdu_scope(actor, pdu)
    scope = EqualityScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=None)
    min_count = container.settings.equality_min_count
    with container.engine.connect() as conn:
        figures = query_equality(conn, container.projections.live("equality"), scope, min_count)
    values = {"pdu": pdu, "as_of": container.app.clock(), "min_count": min_count, **figures}
    return page(request, "pdu_equality.html", context(request, actor, **values))


def _pdu_scope(actor: Actor, pdu: str) -> IndicatorScope:
    if not actor.has(AUDITOR, PDU_HEAD):
        raise AccessDeniedError("the PDU pages are for Heads of PDU and auditors")
    return _scope(actor, pdu=pdu)


def _scope(actor: Actor, *, team: str | None = None, pdu: str | None = None) -> IndicatorScope:
    """The same scope check as GET /compliance and GET /quality."""
    reach = indicator_scope(actor, team, pdu)
    return IndicatorScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=team)
