"""Request and response models: the HTTP contract (docs/api.md), as OpenAPI sees it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from api.case_view import CaseStateView, Withheld
from api.case_view import CaseView as CaseView  # re-exported: the routes name s.CaseView
from domain.vocabulary import (
    Agency,
    AppointmentType,
    Disability,
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
    RiskGroup,
    RoSH,
    SentenceType,
    Service,
    Sex,
    SignificantEventKind,
    Source,
    TerminationReason,
)

Code = Annotated[StrictStr, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]
ShortText = Annotated[StrictStr, Field(max_length=500)]
Text = Annotated[StrictStr, Field(max_length=4000)]
ItemId = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
Crn = Annotated[StrictStr, Field(pattern=r"^[A-Z][0-9]{6}$", examples=["X123456"])]
StaffId = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")]


class Body(BaseModel):
    """A command body: unknown fields are refused; occurred_at defaults to now."""

    model_config = ConfigDict(extra="forbid")
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened in the world (RFC 3339); default now"
    )


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    date_of_birth: date
    gender: ShortText = ""
    ethnicity: ShortText = ""
    ethnic_group: EthnicGroup = Field(
        default=EthnicGroup.NOT_STATED, description="ONS 2021 high-level ethnic group"
    )
    sex: Sex = Sex.NOT_STATED
    disability: Disability = Disability.NOT_STATED


class Requirements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unpaid_work_hours: Annotated[StrictInt, Field(ge=0, le=1000)] | None = None
    rar_days: Annotated[StrictInt, Field(ge=0, le=365)] | None = None
    accredited_programme: ShortText | None = None


class OpenCaseBody(Body):
    crn: Crn
    person: Person
    sentence_type: SentenceType
    start_date: date
    expected_end_date: date
    pdu: Code
    team: Code
    requirements: Requirements = Field(default_factory=Requirements)
    licence_conditions: Annotated[list[ShortText], Field(max_length=50)] = []
    offence_flags: Annotated[list[OffenceFlag], Field(max_length=10)] = []


class CourtEnquiries(BaseModel):
    model_config = ConfigDict(extra="forbid")
    police_domestic_abuse: StrictBool
    childrens_services: StrictBool


class CourtReportBody(Body):
    report_type: ReportType
    proposal: Text = ""
    enquiries: CourtEnquiries


class AllocationBody(Body):
    practitioner_id: StaffId
    training_considered: StrictBool
    suitability_considered: StrictBool
    override_reason: Annotated[StrictStr, Field(min_length=1, max_length=4000)] | None = Field(
        default=None, description="an SPO allocating despite the guard says why"
    )


class EnquiryBody(Body):
    enquiry_id: ItemId
    agency: Agency
    stage: EnquiryStage


class EnquiryResponseBody(Body):
    concerns: StrictBool
    summary: Text = ""


class InductionBody(Body):
    pass


class RiskAssessmentBody(Body):
    rosh: RoSH
    rosh_by_group: dict[RiskGroup, RoSH] = {}
    needs: Annotated[list[Need], Field(max_length=10)] | None = Field(
        default=None, description="needs identified; null = not analysed"
    )
    sources: Annotated[list[Source], Field(max_length=10)] = []
    person_involved: StrictBool


class RegistrationBody(Body):
    code: RegistrationCode


class RegistrationRemovalBody(Body):
    reason: ShortText = ""


class MappaBody(Body):
    category: Annotated[StrictInt, Field(ge=1, le=4)]
    level: Annotated[StrictInt, Field(ge=1, le=3)]


class SentencePlanBody(Body):
    objectives: Annotated[list[ShortText], Field(max_length=50)] = []
    person_involved: StrictBool
    contingency_plan: Text | None = None


class AppointmentBody(Body):
    appointment_id: ItemId
    type: AppointmentType
    starts_at: AwareDatetime
    national_standard: StrictBool


class OutcomeBody(Body):
    outcome: Outcome
    notes: Text = ""


class EnforcementBody(Body):
    action: EnforcementAction
    appointment_ids: Annotated[list[ItemId], Field(min_length=1, max_length=50)]
    reason: ShortText = ""


class RecallDecisionBody(Body):
    decision: RecallDecision
    reasons: Annotated[list[RecallReason], Field(max_length=10)] = []


class ReferralBody(Body):
    referral_id: ItemId
    service: Service
    need: ShortText = ""


class ReferralOutcomeBody(Body):
    outcome: ReferralOutcome


class UnpaidWorkBody(Body):
    hours: Annotated[Decimal, Field(ge=0, le=24, decimal_places=2)]
    attended: StrictBool


class SignificantEventBody(Body):
    kind: SignificantEventKind
    details: Text = ""


class RiskReviewBody(Body):
    trigger: Literal["scheduled"] | Annotated[StrictInt, Field(ge=1)] = Field(
        description="'scheduled', or the version of the significant event reviewed"
    )
    informed_by_intelligence: StrictBool
    plan_changed: StrictBool
    rosh: RoSH | None = None


class OversightBody(Body):
    kind: OversightKind
    note: Text = ""


class SfoNotificationBody(Body):
    offence: ShortText
    charged_on: date


class TransferBody(Body):
    team: Code
    pdu: Code


class TerminationBody(Body):
    reason: TerminationReason


class CorrectionBody(Body):
    corrects_version: Annotated[StrictInt, Field(ge=1)]
    reason: ShortText
    replacement: dict[str, Any] = Field(
        description="the corrected fields of the corrected event, by name", min_length=1
    )


class StaffBody(Body):
    staff_id: StaffId
    name: Name
    grade: Grade
    team: Code
    pdu: Code
    capacity: Annotated[StrictInt, Field(ge=1, le=1000)]
    training: Annotated[list[Code], Field(max_length=50)] = []
    ethnic_group: EthnicGroup = Field(
        default=EthnicGroup.NOT_STATED, description="ONS 2021 high-level ethnic group"
    )
    sex: Sex = Sex.NOT_STATED


class StaffCorrectionBody(Body):
    ethnic_group: EthnicGroup | None = Field(default=None, description="the corrected code")
    sex: Sex | None = Field(default=None, description="the corrected code")
    reason: Annotated[StrictStr, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _corrects_a_code(self) -> StaffCorrectionBody:
        if self.ethnic_group is None and self.sex is None:
            raise ValueError("a correction gives ethnic_group, sex or both")
        return self


class TrainingBody(Body):
    module: Code
    completed_on: date
    expires_on: date | None = None


class TrainingRecordView(BaseModel):
    module: str
    completed_on: date
    expires_on: date | None
    current: bool


# -- responses ---------------------------------------------------------------------------


class CommandResult(BaseModel):
    case_id: UUID
    version: int
    position: int = Field(description="the event store's notification id of the last event")


class StaffResult(BaseModel):
    staff_id: str
    version: int
    position: int


class StaffView(BaseModel):
    staff_id: str
    name: str
    grade: Grade
    team: str
    pdu: str
    capacity: int
    training: list[str] = Field(description="the modules current today")
    ethnic_group: EthnicGroup | Withheld = Field(description="`[erased]` after erasure")
    sex: Sex | Withheld = Field(description="`[erased]` after erasure")
    training_records: list[TrainingRecordView] = []
    erased_at: datetime | None = Field(
        default=None, description="when the staff member's personal data was erased"
    )
    version: int


class LeftOutView(BaseModel):
    version: int
    type: str
    reason: Literal["after_version", "recorded_after", "occurred_after"]


class HistoricalStateView(BaseModel):
    case_id: UUID
    version: int
    state: CaseStateView
    left_out: list[LeftOutView]


class EventView(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str
    command_id: UUID
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventView]
    next: str | None = Field(description="pass as after_version for the next page; null at end")


class Health(BaseModel):
    status: Literal["ok"]


class StoreStatus(BaseModel):
    model_config = ConfigDict(extra="allow")  # a field added to the status is not dropped
    ok: bool
    position: int | None = Field(default=None, description="the store's last notification id")
    error: str | None = Field(default=None, description="why the store did not answer")


class ProjectionStatus(BaseModel):
    model_config = ConfigDict(extra="allow")  # a field added to the status is not dropped
    projection: str
    generation: int
    position: int = Field(description="the last notification id applied")
    head: int = Field(description="the store's last notification id")
    status: str = Field(description="running, building or failed")
    error: str | None
    lag_events: int
    lag_seconds: float
    events_processed: int


class Ready(BaseModel):
    status: Literal["ready", "degraded"]
    store: StoreStatus
    projections: dict[str, ProjectionStatus] = Field(default={}, description="by name")


class CaseListItem(BaseModel):
    case_id: UUID
    crn: str
    sentence_type: SentenceType
    pdu: str
    team: str
    practitioner_id: str | None
    rosh: RoSH | None
    status: Literal["active", "terminated"]
    opened_at: datetime
    terminated_at: datetime | None
    version: int
    last_event_at: datetime


class CasePage(BaseModel):
    items: list[CaseListItem]
    next: str | None = Field(description="pass as cursor for the next page; null at the end")


class StaffListItem(BaseModel):
    staff_id: str
    name: str
    grade: Grade
    team: str
    pdu: str
    capacity: int
    training: list[str]


class StaffPage(BaseModel):
    items: list[StaffListItem]
    next: str | None


class WorkloadItem(BaseModel):
    practitioner_id: str
    name: str
    grade: Grade
    team: str
    capacity: int = Field(description="cases at 100% of capacity")
    active_cases: int
    percent_of_capacity: float


class Workload(BaseModel):
    team: str
    items: list[WorkloadItem]


class TimelineItemView(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    lateness_days: Decimal = Field(description="recorded minus occurred, in days")
    actor_id: str
    summary: str
    data: dict[str, Any]
    corrects_version: int | None = None
    corrected_by: int | None = None


class TimelineView(BaseModel):
    case_id: UUID
    crn: str
    version: int
    items: list[TimelineItemView]


class IntegrityView(BaseModel):
    ok: bool
    first_bad_version: int | None
    checked: int
    reason: str | None = None


class AccessLogItem(BaseModel):
    id: int
    at: datetime
    actor_id: str
    roles: list[str]
    case_id: UUID | None
    endpoint: str
    request_id: str


class AccessLogPage(BaseModel):
    items: list[AccessLogItem]
    next: str | None


class AccessLogBreakView(BaseModel):
    row_id: int | None = Field(description="the row's id; null when the row is gone")
    lane: int | None = Field(description="the chain lane; null for a row in none")
    seq: int | None = Field(description="the row's number in its lane")
    reason: str


class AccessLogIntegrityView(BaseModel):
    ok: bool
    checked: int = Field(description="rows checked")
    breaks: list[AccessLogBreakView] = Field(description="the first 100 breaks")
    more_breaks: int = Field(description="breaks beyond those listed")


class AuditEventItem(BaseModel):
    position: int
    aggregate_id: UUID
    aggregate_type: str
    version: int
    type: str
    actor_id: str
    occurred_at: datetime
    recorded_at: datetime


class AuditEventPage(BaseModel):
    items: list[AuditEventItem]
    next: str | None


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[StrictStr, Field(min_length=1, max_length=500)]


class ErasureResult(BaseModel):
    crn: str
    cases: list[CommandResult] = Field(description="the erasure event recorded on each case")


# -- oversight queue, compliance, quality (docs/oversight.md, compliance.md, quality.md) --------

OversightReason = Literal[
    "induction_overdue",
    "sentence_plan_overdue",
    "enforcement_decision_overdue",
    "oversight_required",
    "mappa_level1_review_due",
    "risk_review_overdue",
    "enquiry_response_overdue",
    "recall_decision_overdue",
    "home_visit_missing",
    "allocated_without_training",
]


class OversightItem(BaseModel):
    case_id: UUID
    crn: str
    practitioner_id: str | None
    reason: OversightReason
    since: datetime = Field(description="when the clock started (the event it follows)")
    due_at: datetime = Field(description="the deadline; a day's deadline ends at its midnight")
    overdue: bool


class OversightPage(BaseModel):
    as_of: datetime = Field(description="the server time the queue was worked out at")
    items: list[OversightItem]
    next: str | None


class IndicatorScopeView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    pdu: str | None
    team: str | None
    practitioner_id: str | None
    teams: list[str] | None = Field(
        description="the reader's reach: the teams counted (null, with pdus null: every case)"
    )
    pdus: list[str] | None = Field(
        default=None, description="a Head of PDU's reach: the PDUs counted"
    )
    from_: date | None = Field(alias="from", description="cases opened on or after")
    to: date | None = Field(description="cases opened on or before")


class Rate(BaseModel):
    numerator: int
    denominator: int
    percent: float | None = Field(description="null when the denominator is 0")
    definition: str


class ComplianceView(BaseModel):
    scope: IndicatorScopeView
    as_of: datetime
    rates: dict[str, Rate]


class KeyQuestion(BaseModel):
    id: str
    question: str
    yes: int
    total: int
    percent: float | None = Field(description="null when no case applies")
    definition: str


class StandardView(BaseModel):
    id: str
    name: str
    rated: bool = Field(description="false for 2.6 outcomes, reported for information")
    rating: Literal["Outstanding", "Good", "Requires improvement", "Inadequate"] | None = Field(
        description="from the lowest key question; null when not rated or no question applies"
    )
    key_questions: list[KeyQuestion]


class QualityView(BaseModel):
    scope: IndicatorScopeView
    as_of: datetime
    standards: list[StandardView]
