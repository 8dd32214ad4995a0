"""The case as the API shows it (GET /cases/{id}, /state): every part a typed model.

The state is folded from the events (domain/state.py): each item carries the version and
`occurred_at` of the event it comes from, then that event's fields. Declared fields are typed
for generated clients; a field a later event version adds still comes through (`extra`).
Personal fields read `[erased]` once a person is erased (`[sealed]` where they are withheld),
so a personal date is a date or one of those marks.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain import personal
from domain.vocabulary import (
    Agency,
    AppointmentType,
    Disability,
    EnforcementAction,
    EnquiryStage,
    EthnicGroup,
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


class Withheld(StrEnum):
    """What a personal value reads when its key is gone, or when it is not shown."""

    ERASED = personal.ERASED
    SEALED = personal.SEALED


class Part(BaseModel):
    """A part of the case state; fields added by later event versions pass through."""

    # Always sent, so required in the answer's schema even where a default exists.
    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)


class Recorded(Part):
    """A part that one event set: its version and when it happened."""

    version: int
    occurred_at: datetime


class PersonView(Part):
    """The person (empty, as `crn` is, in a state from before the case was opened)."""

    name: str = ""
    date_of_birth: date | Withheld | None = Field(
        default=None, description="null only before the case was opened"
    )
    gender: str = ""
    ethnicity: str = ""
    ethnic_group: EthnicGroup | Withheld | None = Field(
        default=None, description="ONS 2021 high-level group; null only before the case was opened"
    )
    sex: Sex | Withheld | None = None
    disability: Disability | Withheld | None = None


class RequirementsView(Part):
    unpaid_work_hours: int | None = None
    rar_days: int | None = None
    accredited_programme: str | None = None


class TerminationView(Recorded):
    reason: TerminationReason


class AllocationView(Recorded):
    practitioner_id: str
    training_considered: bool
    suitability_considered: bool


class CourtEnquiriesView(Part):
    police_domestic_abuse: bool
    childrens_services: bool


class CourtReportView(Recorded):
    report_type: ReportType
    proposal: str
    enquiries: CourtEnquiriesView


class EnquiryResponseView(Recorded):
    enquiry_id: str
    concerns: bool
    summary: str


class EnquiryView(Recorded):
    enquiry_id: str
    agency: Agency
    stage: EnquiryStage
    response: EnquiryResponseView | None = Field(description="null until the agency answers")


class RiskAssessmentView(Recorded):
    rosh: RoSH
    rosh_by_group: dict[RiskGroup, RoSH]
    needs: list[Need] | None = Field(description="null = not analysed")
    sources: list[Source]
    person_involved: bool


class RegistrationView(Recorded):
    code: RegistrationCode


class MappaView(Recorded):
    category: int
    level: int


class SentencePlanView(Recorded):
    objectives: list[str]
    person_involved: bool
    contingency_plan: str | None


class AppointmentView(Recorded):
    appointment_id: str
    type: AppointmentType
    starts_at: datetime
    national_standard: bool
    outcome: Outcome | None = Field(description="null until an outcome is recorded")
    outcome_version: int | None = None
    outcome_recorded_for: datetime | None = None
    notes: str | None = None


class EnforcementActionView(Recorded):
    action: EnforcementAction
    appointment_ids: list[str]
    reason: str


class RecallDecisionView(Recorded):
    decision: RecallDecision
    reasons: list[RecallReason]


class ReferralView(Recorded):
    referral_id: str
    service: Service
    need: str
    outcome: ReferralOutcome | None = Field(description="null until an outcome is recorded")


class UnpaidWorkView(Part):
    sessions: int
    attended: int
    hours: Decimal = Field(description="hours worked at attended sessions")


class SignificantEventView(Recorded):
    kind: SignificantEventKind
    details: str


class RiskReviewView(Recorded):
    trigger: str = Field(description="'scheduled', or the significant event's version")
    significant_event_version: int | None
    informed_by_intelligence: bool
    plan_changed: bool
    rosh: RoSH | None


class OversightRecordView(Recorded):
    kind: OversightKind
    note: str


class SfoNotificationView(Recorded):
    offence: str
    charged_on: date


class TransferView(Recorded):
    team: str
    pdu: str
    from_team: str
    from_pdu: str


class CaseStateView(BaseModel):
    """What is known about a case (derived from its events)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    crn: str
    person: PersonView
    sentence_type: SentenceType | None
    start_date: date | None
    expected_end_date: date | None
    pdu: str
    team: str
    requirements: RequirementsView
    licence_conditions: list[str]
    offence_flags: list[OffenceFlag]
    opened_at: datetime | None
    status: Literal["active", "terminated"]
    termination: TerminationView | None
    practitioner_id: str | None
    allocations: list[AllocationView]
    inducted_at: datetime | None
    court_reports: list[CourtReportView]
    enquiries: dict[str, EnquiryView] = Field(description="by enquiry id")
    risk_assessment: RiskAssessmentView | None
    rosh: RoSH | None
    registrations: dict[str, RegistrationView] = Field(description="current ones, by code")
    mappa: MappaView | None
    sentence_plan: SentencePlanView | None
    appointments: dict[str, AppointmentView] = Field(description="by appointment id")
    enforcement_actions: list[EnforcementActionView]
    recall_decisions: list[RecallDecisionView]
    referrals: dict[str, ReferralView] = Field(description="by referral id")
    unpaid_work: UnpaidWorkView
    significant_events: dict[str, SignificantEventView] = Field(description="by event version")
    risk_reviews: list[RiskReviewView]
    oversight: list[OversightRecordView]
    sfo_notifications: list[SfoNotificationView]
    transfers: list[TransferView]
    corrected_by: dict[str, int] = Field(description="corrected version -> correcting version")
    erased_at: datetime | None = Field(
        default=None, description="when the person's personal data was erased"
    )


class CaseView(CaseStateView):
    case_id: UUID
    version: int
