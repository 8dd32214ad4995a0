"""Case commands (docs/api.md): each validates its body, builds one command, and runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response

from api import schemas as s
from api.deps import (
    CommanderDep,
    IdempotencyKeyHeader,
    IfMatch,
    ServiceDep,
    expected_version,
    idempotency,
)
from application import commands as c
from application.access import Actor
from application.service import CaseTrail, Written
from domain.vocabulary import RegistrationCode

router = APIRouter(tags=["case commands"])
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {}}}
    for status, text in {
        400: "malformed JSON or header",
        401: "no valid token",
        403: "role not allowed",
        404: "no such case in your teams",
        409: "a domain rule refused the command",
        412: "If-Match does not match the case's version",
        413: "body over the size limit",
        422: "invalid body, unknown code, or Idempotency-Key reused with another body",
        429: "too many commands (CASETRAIL_RATE_LIMIT); retry after Retry-After seconds",
    }.items()
}
POST: dict[str, Any] = {
    "status_code": 201,
    "response_model": s.CommandResult,
    "responses": PROBLEM_RESPONSES,
}


@dataclass
class CommandContext:
    """What every command endpoint needs besides its body."""

    request: Request
    response: Response
    service: CaseTrail
    actor: Actor
    if_match: str | None
    idempotency_key: str | None

    def run(
        self,
        command_class: type[c.CaseCommand],
        case_id: UUID,
        body: s.Body,
        drop: frozenset[str] = frozenset(),
        **extra: Any,
    ) -> s.CommandResult:
        values = body.model_dump(exclude={"occurred_at", *drop})
        values.update(extra)
        command = command_class(case_id=case_id, occurred_at=body.occurred_at, **values)
        written = self.service.execute(
            command,
            self.actor,
            expected_version=expected_version(self.if_match),
            idempotency=idempotency(self.request, self.idempotency_key, body),
        )
        return self.answer(written)

    def answer(self, written: Written) -> s.CommandResult:
        self.response.headers["ETag"] = f'"{written.version}"'
        return s.CommandResult(
            case_id=written.aggregate_id, version=written.version, position=written.position
        )


async def command_context(
    request: Request,
    response: Response,
    service: ServiceDep,
    actor: CommanderDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CommandContext:
    return CommandContext(request, response, service, actor, if_match, idempotency_key)


Ctx = Annotated[CommandContext, Depends(command_context)]


@router.post("/cases", **POST)
def open_case(body: s.OpenCaseBody, ctx: Ctx) -> s.CommandResult:
    """Open a case: a new period of supervision (event `Opened`)."""
    values = body.model_dump(exclude={"occurred_at"})
    written = ctx.service.open_case(
        c.OpenCase(occurred_at=body.occurred_at, **values),
        ctx.actor,
        idempotency=idempotency(ctx.request, ctx.idempotency_key, body),
    )
    ctx.response.headers["Location"] = f"/cases/{written.aggregate_id}"
    return ctx.answer(written)


@router.post("/cases/{case_id}/court-reports", **POST)
def prepare_court_report(case_id: UUID, body: s.CourtReportBody, ctx: Ctx) -> s.CommandResult:
    """Record a pre-sentence report and the enquiries behind it (`CourtReportPrepared`)."""
    return ctx.run(c.PrepareCourtReport, case_id, body)


@router.post("/cases/{case_id}/allocations", **POST)
def allocate_practitioner(case_id: UUID, body: s.AllocationBody, ctx: Ctx) -> s.CommandResult:
    """Allocate the case to a practitioner (`Allocated`)."""
    return ctx.run(c.AllocateCase, case_id, body)


@router.post("/cases/{case_id}/enquiries", **POST)
def request_enquiry(case_id: UUID, body: s.EnquiryBody, ctx: Ctx) -> s.CommandResult:
    """Request a safeguarding or intelligence enquiry (`EnquiryRequested`)."""
    return ctx.run(c.RequestEnquiry, case_id, body)


@router.post("/cases/{case_id}/enquiries/{enquiry_id}/responses", **POST)
def record_enquiry_response(
    case_id: UUID,
    enquiry_id: Annotated[str, Path(max_length=100)],
    body: s.EnquiryResponseBody,
    ctx: Ctx,
) -> s.CommandResult:
    """Record the response to an enquiry (`EnquiryResponded`)."""
    return ctx.run(c.RecordEnquiryResponse, case_id, body, enquiry_id=enquiry_id)


@router.post("/cases/{case_id}/inductions", **POST)
def complete_induction(case_id: UUID, body: s.InductionBody, ctx: Ctx) -> s.CommandResult:
    """Record the induction: the first appointment (`InductionCompleted`)."""
    return ctx.run(c.CompleteInduction, case_id, body)


@router.post("/cases/{case_id}/risk-assessments", **POST)
def assess_risk(case_id: UUID, body: s.RiskAssessmentBody, ctx: Ctx) -> s.CommandResult:
    """Record a risk assessment: RoSH, needs, sources (`RiskAssessed`)."""
    by_group = {group.value: rosh for group, rosh in body.rosh_by_group.items()}
    return ctx.run(c.AssessRisk, case_id, body, rosh_by_group=by_group)


@router.post("/cases/{case_id}/registrations", **POST)
def add_registration(case_id: UUID, body: s.RegistrationBody, ctx: Ctx) -> s.CommandResult:
    """Add a registration flag (`RegistrationAdded`)."""
    return ctx.run(c.AddRegistration, case_id, body)


@router.post("/cases/{case_id}/registrations/{code}/removal", **POST)
def remove_registration(
    case_id: UUID, code: RegistrationCode, body: s.RegistrationRemovalBody, ctx: Ctx
) -> s.CommandResult:
    """Remove an active registration flag (`RegistrationRemoved`)."""
    return ctx.run(c.RemoveRegistration, case_id, body, code=code)


@router.post("/cases/{case_id}/mappa", **POST)
def set_mappa_level(case_id: UUID, body: s.MappaBody, ctx: Ctx) -> s.CommandResult:
    """Set the MAPPA category and level (`MappaLevelSet`)."""
    return ctx.run(c.SetMappaLevel, case_id, body)


@router.post("/cases/{case_id}/sentence-plans", **POST)
def agree_sentence_plan(case_id: UUID, body: s.SentencePlanBody, ctx: Ctx) -> s.CommandResult:
    """Record the agreed sentence plan (`SentencePlanAgreed`)."""
    return ctx.run(c.AgreeSentencePlan, case_id, body)


@router.post("/cases/{case_id}/appointments", **POST)
def schedule_appointment(case_id: UUID, body: s.AppointmentBody, ctx: Ctx) -> s.CommandResult:
    """Schedule an appointment (`AppointmentScheduled`)."""
    return ctx.run(c.ScheduleAppointment, case_id, body)


@router.post("/cases/{case_id}/appointments/{appointment_id}/outcome", **POST)
def record_appointment_outcome(
    case_id: UUID,
    appointment_id: Annotated[str, Path(max_length=100)],
    body: s.OutcomeBody,
    ctx: Ctx,
) -> s.CommandResult:
    """Record an appointment's outcome, once (`AppointmentOutcomeRecorded`)."""
    return ctx.run(c.RecordOutcome, case_id, body, appointment_id=appointment_id)


@router.post("/cases/{case_id}/enforcement-actions", **POST)
def take_enforcement_action(case_id: UUID, body: s.EnforcementBody, ctx: Ctx) -> s.CommandResult:
    """Take enforcement action on recorded failures (`EnforcementActionTaken`)."""
    return ctx.run(c.TakeEnforcementAction, case_id, body)


@router.post("/cases/{case_id}/recall-decisions", **POST)
def decide_recall(case_id: UUID, body: s.RecallDecisionBody, ctx: Ctx) -> s.CommandResult:
    """Decide on recall; SPO only, licence and PSS only (`RecallDecided`)."""
    return ctx.run(c.DecideRecall, case_id, body)


@router.post("/cases/{case_id}/referrals", **POST)
def make_referral(case_id: UUID, body: s.ReferralBody, ctx: Ctx) -> s.CommandResult:
    """Refer to a commissioned service or programme (`ReferralMade`)."""
    return ctx.run(c.MakeReferral, case_id, body)


@router.post("/cases/{case_id}/referrals/{referral_id}/outcome", **POST)
def record_referral_outcome(
    case_id: UUID,
    referral_id: Annotated[str, Path(max_length=100)],
    body: s.ReferralOutcomeBody,
    ctx: Ctx,
) -> s.CommandResult:
    """Record a referral's outcome (`ReferralOutcomeRecorded`)."""
    return ctx.run(c.RecordReferralOutcome, case_id, body, referral_id=referral_id)


@router.post("/cases/{case_id}/unpaid-work-sessions", **POST)
def record_unpaid_work_session(case_id: UUID, body: s.UnpaidWorkBody, ctx: Ctx) -> s.CommandResult:
    """Record an unpaid work session (`UnpaidWorkSessionRecorded`)."""
    return ctx.run(c.RecordUnpaidWorkSession, case_id, body)


@router.post("/cases/{case_id}/significant-events", **POST)
def report_significant_event(
    case_id: UUID, body: s.SignificantEventBody, ctx: Ctx
) -> s.CommandResult:
    """Report a significant event, which calls for a risk review (`SignificantEventReported`)."""
    return ctx.run(c.ReportSignificantEvent, case_id, body)


@router.post("/cases/{case_id}/risk-reviews", **POST)
def complete_risk_review(case_id: UUID, body: s.RiskReviewBody, ctx: Ctx) -> s.CommandResult:
    """Record a completed risk review (`RiskReviewCompleted`)."""
    version = None if body.trigger == "scheduled" else int(body.trigger)
    return ctx.run(
        c.CompleteRiskReview,
        case_id,
        body,
        drop=frozenset({"trigger"}),
        significant_event_version=version,
    )


@router.post("/cases/{case_id}/oversight", **POST)
def record_oversight(case_id: UUID, body: s.OversightBody, ctx: Ctx) -> s.CommandResult:
    """Record SPO management oversight; SPO only (`OversightRecorded`)."""
    return ctx.run(c.RecordOversight, case_id, body)


@router.post("/cases/{case_id}/sfo-notifications", **POST)
def notify_serious_further_offence(
    case_id: UUID, body: s.SfoNotificationBody, ctx: Ctx
) -> s.CommandResult:
    """Notify a Serious Further Offence (`SeriousFurtherOffenceNotified`)."""
    return ctx.run(c.NotifySeriousFurtherOffence, case_id, body)


@router.post("/cases/{case_id}/transfers", **POST)
def transfer_case(case_id: UUID, body: s.TransferBody, ctx: Ctx) -> s.CommandResult:
    """Transfer the case to another team or PDU; SPO only (`Transferred`)."""
    return ctx.run(c.TransferCase, case_id, body)


@router.post("/cases/{case_id}/termination", **POST)
def terminate_case(case_id: UUID, body: s.TerminationBody, ctx: Ctx) -> s.CommandResult:
    """Terminate the case; afterwards only corrections apply (`Terminated`)."""
    return ctx.run(c.TerminateCase, case_id, body)


@router.post("/cases/{case_id}/corrections", **POST)
def correct_event(case_id: UUID, body: s.CorrectionBody, ctx: Ctx) -> s.CommandResult:
    """Correct fields of an earlier event; nothing is edited in place (`Corrected`)."""
    return ctx.run(c.CorrectEvent, case_id, body)
