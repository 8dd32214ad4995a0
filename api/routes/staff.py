"""Staff: registration, corrections and erasure (admin), training records, and look-up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from api import schemas as s
from api.deps import ActorDep, CommanderDep, IdempotencyKeyHeader, ServiceDep, idempotency
from api.routes.casework import PROBLEM_RESPONSES
from application.commands import CompleteTraining, CorrectStaff, EraseStaff, RegisterStaff

router = APIRouter(tags=["staff"])
StaffIdPath = Annotated[str, Path(max_length=100)]
# Every problem a staff command may answer (no If-Match: a staff command is never 412).
STAFF_PROBLEMS: dict[int | str, dict[str, Any]] = {
    k: PROBLEM_RESPONSES[k] for k in (400, 401, 403, 404, 409, 413, 422, 429)
}


@router.post("/staff", status_code=201, response_model=s.StaffResult, responses=PROBLEM_RESPONSES)
def register_staff(
    body: s.StaffBody,
    request: Request,
    response: Response,
    service: ServiceDep,
    actor: CommanderDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Register a member of staff; admin only."""
    values = body.model_dump(exclude={"occurred_at"})
    written = service.register_staff(
        RegisterStaff(occurred_at=body.occurred_at, **values),
        actor,
        idempotency=idempotency(request, idempotency_key, body),
    )
    response.headers["Location"] = f"/staff/{body.staff_id}"
    response.headers["ETag"] = f'"{written.version}"'
    return {"staff_id": body.staff_id, "version": written.version, "position": written.position}


@router.get(
    "/staff/{staff_id}",
    response_model=s.StaffView,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 404, 422)},
)
def get_staff(staff_id: StaffIdPath, service: ServiceDep, actor: ActorDep) -> Any:
    """A member of staff; any signed-in user."""
    return service.get_staff(staff_id).to_dict(on=service.clock().date())


@router.post(
    "/staff/{staff_id}/training",
    status_code=201,
    response_model=s.StaffResult,
    responses=PROBLEM_RESPONSES,
)
def record_training(
    staff_id: StaffIdPath,
    body: s.TrainingBody,
    request: Request,
    response: Response,
    service: ServiceDep,
    actor: CommanderDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Record a training module completed (`TrainingCompleted`); admin or the team's SPO."""
    written = service.complete_training(
        CompleteTraining(staff_id=staff_id, **body.model_dump()),
        actor,
        idempotency=idempotency(request, idempotency_key, body),
    )
    response.headers["ETag"] = f'"{written.version}"'
    return {"staff_id": staff_id, "version": written.version, "position": written.position}


@router.post(
    "/staff/{staff_id}/corrections",
    status_code=201,
    response_model=s.StaffResult,
    responses=STAFF_PROBLEMS,
)
def correct_staff(
    staff_id: StaffIdPath,
    body: s.StaffCorrectionBody,
    request: Request,
    response: Response,
    service: ServiceDep,
    actor: CommanderDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Correct a member of staff's `ethnic_group` or `sex` (`CharacteristicsCorrected`);
    admin only. `409` once their personal data is erased."""
    written = service.correct_staff(
        CorrectStaff(staff_id=staff_id, **body.model_dump()),
        actor,
        idempotency=idempotency(request, idempotency_key, body),
    )
    response.headers["ETag"] = f'"{written.version}"'
    return {"staff_id": staff_id, "version": written.version, "position": written.position}


@router.post("/staff/{staff_id}/erasure", response_model=s.StaffResult, responses=STAFF_PROBLEMS)
def erase_staff(
    staff_id: StaffIdPath, body: s.ErasureBody, service: ServiceDep, actor: CommanderDep
) -> Any:
    """Erase a member of staff's personal data (admin): their data key is destroyed, so their
    `ethnic_group` and `sex` read `[erased]`, and `PersonalDataErased` is recorded on them;
    the workforce figures leave them out. A second erasure is `409`."""
    written = service.erase_staff(EraseStaff(staff_id=staff_id, reason=body.reason), actor)
    return {"staff_id": staff_id, "version": written.version, "position": written.position}
