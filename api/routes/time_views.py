"""Time views: a case's oversight history (replayed) and indicator trends by month."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api import time_schemas as ts
from api.deps import ActorDep, ContainerDep, ReadingDep, ServiceDep
from api.routes.audit import READ
from projections.oversight_history import oversight_history

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
    current, entries = service.case_entries(case_id, actor, reading=reading)
    now = service.clock()
    records = [record for record, _ in entries]
    episodes = oversight_history(records, container.settings.oversight, now=now)
    return {
        "case_id": case_id,
        "crn": current.crn,
        "version": current.version,
        "as_of": now,
        "items": [episode.as_dict() for episode in episodes],
    }
