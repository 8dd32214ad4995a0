"""People: erasure of a person's personal data by destroying their data keys (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api import schemas as s
from api.deps import CommanderDep, ServiceDep
from api.routes.casework import PROBLEM_RESPONSES

router = APIRouter(tags=["people"])
Crn = Annotated[str, Path(pattern=r"^[A-Z][0-9]{6}$", examples=["X123456"])]


@router.post(
    "/people/{crn}/erasure",
    response_model=s.ErasureResult,
    responses={k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 404, 413, 422, 429)},
)
def erase_person(crn: Crn, body: s.ErasureBody, service: ServiceDep, actor: CommanderDep) -> Any:
    """Erase a person's personal data (admin): every case of theirs keeps its history, whose
    personal fields then read `[erased]`; the erasure is recorded on each case."""
    written = service.erase_person(crn, body.reason, actor)
    return {
        "crn": crn,
        "cases": [
            {"case_id": w.aggregate_id, "version": w.version, "position": w.position}
            for w in written
        ],
    }
