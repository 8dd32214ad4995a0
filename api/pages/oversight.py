"""The start page by role, the SPO's team page and the Head of PDU's (or auditor's) PDU page."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import ContainerDep
from api.pages.charts import workload_chart
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
from projections.compliance import IndicatorScope, query_compliance
from projections.oversight import QueueFilter, query_queue
from projections.quality import query_quality
from projections.schema import case_list
from projections.staff_directory import query_workload

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
    if not actor.has(AUDITOR, PDU_HEAD):
        raise AccessDeniedError("the PDU pages are for Heads of PDU and auditors")
    scope = _scope(actor, pdu=pdu)
    now = container.app.clock()
    generation = container.projections.live("oversight")
    thresholds = container.settings.oversight
    with container.engine.connect() as conn:
        rates = query_compliance(conn, generation, thresholds, scope, now=now)
        standards = query_quality(conn, generation, thresholds, scope, now=now)
    values = {"pdu": pdu, "as_of": now, "rates": rates, "standards": standards}
    return page(request, "pdu.html", context(request, actor, **values))


def _scope(actor: Actor, *, team: str | None = None, pdu: str | None = None) -> IndicatorScope:
    """The same scope check as GET /compliance and GET /quality."""
    reach = indicator_scope(actor, team, pdu)
    return IndicatorScope(teams=reach.teams, pdus=reach.pdus, pdu=pdu, team=team)
