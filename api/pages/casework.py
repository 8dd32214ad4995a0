"""Case search by CRN, the case page (as known at a time), its exports, and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ContainerDep, ReadingDep, ServiceDep
from api.exports import timeline_csv, timeline_html
from api.pages.oversight import context
from api.pages.rendering import SECURITY_HEADERS, csp, page, see_other
from api.pages.session import PageActor
from application.access import AUDITOR, SFO_REVIEWER, case_list_scope, check_auditor
from application.timeline import timeline
from projections.case_list import CaseFilter, query_cases
from projections.oversight_history import oversight_history

router = APIRouter(prefix="/ui", include_in_schema=False)
CRN = r"^[A-Z][0-9]{6}$"
LOG_ROWS = 50
LONDON = ZoneInfo("Europe/London")


@router.get("/cases", response_class=HTMLResponse)
async def case_search(request: Request, actor: PageActor) -> Any:
    """Find a case by CRN (the CRN is posted, never put in a URL)."""
    case_list_scope(actor)
    return page(request, "case_search.html", context(request, actor, error=None, crn=""))


@router.post("/cases", response_class=HTMLResponse)
def find_case(
    request: Request,
    container: ContainerDep,
    actor: PageActor,
    crn: Annotated[str, Form(max_length=20)] = "",
) -> Any:
    """Open the case with this CRN, if it is in the reader's reach."""
    scope = case_list_scope(actor)
    crn = crn.strip().upper()
    error = None
    if not crn:
        error = "Enter a CRN"
    elif len(crn) != 7 or not crn[0].isalpha() or not crn[1:].isdigit():
        error = "Enter a CRN as a letter and 6 digits, like X123456"
    else:
        where = CaseFilter(teams=scope.teams, pdus=scope.pdus, crn=crn)
        with container.engine.connect() as conn:
            items, _ = query_cases(
                conn, container.projections.live("case_list"), where, limit=1, cursor=None
            )
        if items:
            return see_other(f"/ui/cases/{items[0]['case_id']}")
        error = "No case with this CRN in your reach"
    values = context(request, actor, error=error, crn=crn)
    return page(request, "case_search.html", values, status=400 if error else 200)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: UUID,
    container: ContainerDep,
    service: ServiceDep,
    actor: PageActor,
    reading: ReadingDep,
    as_known_at: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    """The case: its state, its chronology, its oversight history and integrity, as known now
    or at a time."""
    current, entries = service.case_entries(case_id, actor, reading=reading)
    known_at, error = _moment(as_known_at)
    state, version = current, current.version
    if known_at is not None:
        historical = service.case_state(case_id, actor, as_known_at=known_at, reading=reading)
        state, version = historical.state, historical.version
        entries = [(record, who) for record, who in entries if record["recorded_at"] <= known_at]
    items = timeline(entries)
    episodes = oversight_history(
        [record for record, _ in entries],
        container.settings.oversight,
        now=known_at or service.clock(),
    )
    integrity = None
    if actor.has(AUDITOR, SFO_REVIEWER):
        integrity = service.verify_case(case_id, actor, reading=reading)
    values = {
        "case_id": case_id,
        "crn": current.crn,
        "state": state.fields(),
        "version": version,
        "current_version": current.version,
        "items": items,
        "episodes": episodes,
        "integrity": integrity,
        "as_known_at": known_at,
        "as_known_at_text": as_known_at or "",
        "error": error,
    }
    return page(
        request, "case.html", context(request, actor, **values), status=400 if error else 200
    )


def _case_id(text: str | None) -> tuple[UUID | None, str | None]:
    if not text or not text.strip():
        return None, None
    try:
        return UUID(text.strip()), None
    except ValueError:
        return None, "Enter a case id as shown on the case page, or leave it empty"


def _moment(text: str | None) -> tuple[datetime | None, str | None]:
    """A date-time typed in the form: London time unless it names its offset."""
    if not text or not text.strip():
        return None, None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None, "Enter a date and time, like 2026-03-31T17:00"
    return (moment if moment.tzinfo else moment.replace(tzinfo=LONDON)), None


@router.get("/cases/{case_id}/chronology.csv")
def chronology_csv(
    case_id: UUID, service: ServiceDep, actor: PageActor, reading: ReadingDep
) -> Response:
    """The chronology as a spreadsheet (the API's ?format=csv), for a signed-in page user."""
    current, items = service.case_timeline(case_id, actor, reading=reading)
    return Response(
        timeline_csv(items),
        media_type="text/csv; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="chronology-{current.crn}.csv"',
        },
    )


@router.get("/cases/{case_id}/chronology.html", response_class=HTMLResponse)
def chronology_html(
    case_id: UUID, service: ServiceDep, actor: PageActor, reading: ReadingDep
) -> HTMLResponse:
    """The chronology as a printable annex (the API's ?format=html)."""
    current, items = service.case_timeline(case_id, actor, reading=reading)
    html = timeline_html(items, crn=current.crn, case_id=str(case_id), generated_by=actor.sub)
    return HTMLResponse(html, headers={**SECURITY_HEADERS, "Content-Security-Policy": csp()})


@router.get("/audit", response_class=HTMLResponse)
def access_log(
    request: Request,
    container: ContainerDep,
    actor: PageActor,
    case_id: Annotated[str | None, Query(max_length=40)] = None,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> Any:
    """Who read which case, when, through which endpoint (auditors)."""
    check_auditor(actor)
    (start, start_error), (end, end_error) = _moment(since), _moment(until)
    case, case_error = _case_id(case_id)
    error = case_error or start_error or end_error
    log = container.app.access_log
    rows: list[dict[str, Any]] = []
    after = None
    if log is not None and error is None:
        rows, after = log.query(
            case_id=case,
            actor_id=actor_id or None,
            since=start,
            until=end,
            limit=LOG_ROWS,
            after_id=int(cursor) if cursor else None,
        )
    values = {
        "log_rows": rows,
        "next": after,
        "error": error,
        "filters": {
            "case_id": case_id or "",
            "actor_id": actor_id or "",
            "from": since or "",
            "to": until or "",
        },
    }
    return page(request, "audit.html", context(request, actor, **values), 400 if error else 200)
