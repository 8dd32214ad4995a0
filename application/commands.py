"""Commands: frozen requests to change a case, each naming the aggregate method that decides.

A command's own fields are passed as keyword arguments to ``Case.<method>``; the
application adds the ``Meta`` (actor, command id, occurred_at, now).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from application.access import Rule
from domain.allocation import AllocationPolicy, Practitioner
from domain.vocabulary import (
    Agency,
    AppointmentType,
    EnforcementAction,
    EnquiryStage,
    EthnicGroup,
    Grade,
    Need,
    OffenceFlag,
    Outcome,
    OversightKind,
    RecallDecision,
    RecallReason,
    ReferralOutcome,
    RegistrationCode,
    ReportType,
    RoSH,
    SentenceType,
    Service,
    Sex,
    SignificantEventKind,
    Source,
    TerminationReason,
)


@dataclass(frozen=True, kw_only=True)
class Command:
    occurred_at: datetime | None = None

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments for the aggregate: the command's own fields."""
        skip = {"case_id", "occurred_at"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


@dataclass(frozen=True, kw_only=True)
class OpenCase(Command):
    crn: str
    person: dict[str, Any]
    sentence_type: SentenceType
    start_date: date
    expected_end_date: date
    pdu: str
    team: str
    requirements: dict[str, Any]
    licence_conditions: list[str]
    offence_flags: list[OffenceFlag]


@dataclass(frozen=True, kw_only=True)
class RegisterStaff(Command):
    staff_id: str
    name: str
    grade: Grade
    team: str
    pdu: str
    capacity: int
    training: list[str]
    ethnic_group: EthnicGroup = EthnicGroup.NOT_STATED
    sex: Sex = Sex.NOT_STATED


@dataclass(frozen=True, kw_only=True)
class StaffCommand(Command):
    """A command on a registered member of staff, named by their staff id."""

    staff_id: str

    def arguments(self) -> dict[str, Any]:
        return {k: v for k, v in super().arguments().items() if k != "staff_id"}


@dataclass(frozen=True, kw_only=True)
class CompleteTraining(StaffCommand):
    """Record a training module a member of staff completed."""

    module: str
    completed_on: date
    expires_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectStaff(StaffCommand):
    """Correct a member of staff's coded characteristics (None: unchanged)."""

    ethnic_group: EthnicGroup | None = None
    sex: Sex | None = None
    reason: str


@dataclass(frozen=True, kw_only=True)
class EraseStaff(StaffCommand):
    """Erase a member of staff's personal data (their codes): destroy their data key."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseCommand(Command):
    """A command on an existing case."""

    method: ClassVar[str]
    rule: ClassVar[Rule] = Rule.CASEWORK
    case_id: UUID


@dataclass(frozen=True, kw_only=True)
class PrepareCourtReport(CaseCommand):
    method = "prepare_court_report"
    report_type: ReportType
    proposal: str
    enquiries: dict[str, bool]


@dataclass(frozen=True, kw_only=True)
class AllocateCase(CaseCommand):
    method = "allocate"
    practitioner_id: str
    training_considered: bool
    suitability_considered: bool
    override_reason: str | None = None
    # Filled in by the application (never by a client): what the guard decides on.
    practitioner: Practitioner | None = None
    policy: AllocationPolicy | None = None


@dataclass(frozen=True, kw_only=True)
class RequestEnquiry(CaseCommand):
    method = "request_enquiry"
    enquiry_id: str
    agency: Agency
    stage: EnquiryStage


@dataclass(frozen=True, kw_only=True)
class RecordEnquiryResponse(CaseCommand):
    method = "record_enquiry_response"
    enquiry_id: str
    concerns: bool
    summary: str


@dataclass(frozen=True, kw_only=True)
class CompleteInduction(CaseCommand):
    method = "complete_induction"


@dataclass(frozen=True, kw_only=True)
class AssessRisk(CaseCommand):
    method = "assess_risk"
    rosh: RoSH
    rosh_by_group: dict[str, RoSH]
    needs: list[Need] | None
    sources: list[Source]
    person_involved: bool


@dataclass(frozen=True, kw_only=True)
class AddRegistration(CaseCommand):
    method = "add_registration"
    code: RegistrationCode


@dataclass(frozen=True, kw_only=True)
class RemoveRegistration(CaseCommand):
    method = "remove_registration"
    code: RegistrationCode
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetMappaLevel(CaseCommand):
    method = "set_mappa_level"
    category: int
    level: int


@dataclass(frozen=True, kw_only=True)
class AgreeSentencePlan(CaseCommand):
    method = "agree_sentence_plan"
    objectives: list[str]
    person_involved: bool
    contingency_plan: str | None


@dataclass(frozen=True, kw_only=True)
class ScheduleAppointment(CaseCommand):
    method = "schedule_appointment"
    appointment_id: str
    type: AppointmentType
    starts_at: datetime
    national_standard: bool


@dataclass(frozen=True, kw_only=True)
class RecordOutcome(CaseCommand):
    method = "record_outcome"
    appointment_id: str
    outcome: Outcome
    notes: str


@dataclass(frozen=True, kw_only=True)
class TakeEnforcementAction(CaseCommand):
    method = "take_enforcement_action"
    action: EnforcementAction
    appointment_ids: list[str]
    reason: str


@dataclass(frozen=True, kw_only=True)
class DecideRecall(CaseCommand):
    method = "decide_recall"
    rule = Rule.SPO_ONLY
    decision: RecallDecision
    reasons: list[RecallReason]


@dataclass(frozen=True, kw_only=True)
class MakeReferral(CaseCommand):
    method = "make_referral"
    referral_id: str
    service: Service
    need: str


@dataclass(frozen=True, kw_only=True)
class RecordReferralOutcome(CaseCommand):
    method = "record_referral_outcome"
    referral_id: str
    outcome: ReferralOutcome


@dataclass(frozen=True, kw_only=True)
class RecordUnpaidWorkSession(CaseCommand):
    method = "record_unpaid_work_session"
    hours: Decimal
    attended: bool


@dataclass(frozen=True, kw_only=True)
class ReportSignificantEvent(CaseCommand):
    method = "report_significant_event"
    kind: SignificantEventKind
    details: str


@dataclass(frozen=True, kw_only=True)
class CompleteRiskReview(CaseCommand):
    method = "complete_risk_review"
    significant_event_version: int | None
    informed_by_intelligence: bool
    plan_changed: bool
    rosh: RoSH | None


@dataclass(frozen=True, kw_only=True)
class RecordOversight(CaseCommand):
    method = "record_oversight"
    rule = Rule.SPO_ONLY
    kind: OversightKind
    note: str


@dataclass(frozen=True, kw_only=True)
class NotifySeriousFurtherOffence(CaseCommand):
    method = "notify_serious_further_offence"
    rule = Rule.SFO
    offence: str
    charged_on: date


@dataclass(frozen=True, kw_only=True)
class TransferCase(CaseCommand):
    method = "transfer"
    rule = Rule.SPO_ONLY
    team: str
    pdu: str


@dataclass(frozen=True, kw_only=True)
class TerminateCase(CaseCommand):
    method = "terminate"
    reason: TerminationReason


@dataclass(frozen=True, kw_only=True)
class CorrectEvent(CaseCommand):
    method = "correct"
    corrects_version: int
    reason: str
    replacement: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordErasure(CaseCommand):
    """Record on a case that its person's data was erased (their keys destroyed)."""

    method = "record_erasure"
    rule = Rule.ADMIN
    reason: str
