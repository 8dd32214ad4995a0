"""Stored case events as HMPPS domain events: the one mapping of what may leave casetrail.

An envelope carries codes, ids, dates and versions only: each event type names the fields
that may go out, and ``_code`` refuses any value that is not a code (an enum), a number, a
flag, a date or a time. Personal data and free text (names, notes, reasons, team and PDU
codes, which the contract counts as free text) never leave; a consumer that needs them follows
``detailUrl`` into the API, whose read is authorised and written to the access log.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.vocabulary import RiskGroup

# casetrail event -> (HMPPS eventType, description, {field: name in additionalInformation})
MAPPING: dict[str, tuple[str, str, dict[str, str]]] = {
    "Opened": (
        "probation-case.supervision.created",
        "A period of supervision started",
        {
            "sentence_type": "sentenceType",
            "start_date": "startDate",
            "expected_end_date": "expectedEndDate",
            "offence_flags": "offenceFlags",
        },
    ),
    "CourtReportPrepared": (
        "probation-case.court-report.created",
        "A pre-sentence report was prepared",
        {"report_type": "reportType"},
    ),
    "Allocated": (
        "probation-case.allocation.created",
        "The case was allocated to a practitioner",
        {"practitioner_id": "practitionerId"},
    ),
    "EnquiryRequested": (
        "probation-case.enquiry.requested",
        "A safeguarding or intelligence enquiry was requested",
        {"enquiry_id": "enquiryId", "agency": "agency", "stage": "stage"},
    ),
    "EnquiryResponded": (
        "probation-case.enquiry.responded",
        "An enquiry was answered",
        {"enquiry_id": "enquiryId"},
    ),
    "InductionCompleted": (
        "probation-case.induction.completed",
        "The induction appointment took place",
        {},
    ),
    "RiskAssessed": (
        "probation-case.risk-assessment.completed",
        "A risk of serious harm assessment was completed",
        {"rosh": "rosh", "rosh_by_group": "roshByGroup", "needs": "needs"},
    ),
    "RiskReviewCompleted": (
        "probation-case.risk-review.completed",
        "A risk review was completed",
        {"trigger": "trigger", "significant_event_version": "significantEventVersion"},
    ),
    "RegistrationAdded": (
        "probation-case.registration.added",
        "A registration was added",
        {"code": "registerTypeCode"},
    ),
    "RegistrationRemoved": (
        "probation-case.registration.deregistered",
        "A registration was removed",
        {"code": "registerTypeCode"},
    ),
    "MappaLevelSet": (
        "probation-case.mappa-information.updated",
        "The MAPPA category or level was set",
        {"category": "category", "level": "level"},
    ),
    "SentencePlanAgreed": (
        "probation-case.sentence-plan.agreed",
        "A sentence plan was agreed",
        {},
    ),
    "AppointmentScheduled": (
        "probation-case.supervision-appointment.created",
        "A supervision appointment was scheduled",
        {"appointment_id": "appointmentId", "type": "appointmentType", "starts_at": "startsAt"},
    ),
    "AppointmentOutcomeRecorded": (
        "probation-case.supervision-appointment.outcome-recorded",
        "The outcome of a supervision appointment was recorded",
        {"appointment_id": "appointmentId", "outcome": "outcome"},
    ),
    "EnforcementActionTaken": (
        "probation-case.enforcement-action.created",
        "Enforcement action was taken",
        {"action": "action", "appointment_ids": "appointmentIds"},
    ),
    "RecallDecided": (
        "probation-case.recall.decided",
        "A recall decision was made",
        {"decision": "decision", "reasons": "reasons"},
    ),
    "ReferralMade": (
        "probation-case.referral.created",
        "A referral was made",
        {"referral_id": "referralId", "service": "service"},
    ),
    "ReferralOutcomeRecorded": (
        "probation-case.referral.outcome-recorded",
        "The outcome of a referral was recorded",
        {"referral_id": "referralId", "outcome": "outcome"},
    ),
    "UnpaidWorkSessionRecorded": (
        "probation-case.unpaid-work-session.recorded",
        "An unpaid work session was recorded",
        {},
    ),
    "SignificantEventReported": (
        "probation-case.significant-event.reported",
        "A significant event was reported",
        {"kind": "kind"},
    ),
    "OversightRecorded": (
        "probation-case.management-oversight.recorded",
        "Management oversight was recorded",
        {"kind": "kind"},
    ),
    "SeriousFurtherOffenceNotified": (
        "probation-case.serious-further-offence.notified",
        "A serious further offence was notified",
        {"charged_on": "chargedOn"},
    ),
    "Transferred": (
        "probation-case.supervision.transferred",
        "The case was transferred to another team or PDU",
        {},
    ),
    "Terminated": (
        "probation-case.supervision.terminated",
        "The period of supervision ended",
        {"reason": "terminationReason"},
    ),
    "Corrected": (
        "probation-case.record.corrected",
        "An earlier record of the case was corrected",
        {"corrects_version": "correctsVersion"},
    ),
    "PersonalDataErased": (
        "probation-case.deleted.gdpr",
        "The person's personal data was erased",
        {},
    ),
}
EVENT_TYPES = {event_type: name for name, (event_type, _, _) in MAPPING.items()}
# Identifiers a caller chooses (a staff id, an appointment's id): strings that are ids.
ID_FIELDS = frozenset(
    {"practitioner_id", "enquiry_id", "appointment_id", "referral_id", "appointment_ids"}
)


class NotPublishedError(ValueError):
    """A value that is not a code, id, date or version was about to leave."""


def published(event: Any) -> bool:
    """Case events are published; staff events are not."""
    return isinstance(event, Case.Event) and type(event).__name__ in MAPPING


def event_type_of(event: Any) -> str:
    return MAPPING[type(event).__name__][0]


def topics(event_types: list[str] | None = None) -> list[str]:
    """The store topics of these HMPPS event types (None or empty: every published one)."""
    from eventsourcing.utils import get_topic

    names = [EVENT_TYPES[t] for t in event_types] if event_types else list(MAPPING)
    return sorted(get_topic(getattr(Case, name)) for name in names)


def envelope(event: Any, *, position: int, crn: str | None, public_url: str) -> dict[str, Any]:
    """The HMPPS domain-event envelope of a stored case event."""
    name = type(event).__name__
    event_type, description, fields = MAPPING[name]
    case_id: UUID = event.originator_id
    version: int = event.originator_version
    info: dict[str, Any] = {
        "caseId": str(case_id),
        "caseVersion": version,
        "position": position,
        "recordedAt": _code("timestamp", event.timestamp),
    }
    for field, key in fields.items():
        value = getattr(event, field)
        info[key] = _id(field, value) if field in ID_FIELDS else _code(field, value)
    if name == "Corrected":
        # Which fields were corrected (their names, a fixed vocabulary), never their values.
        info["correctedFields"] = sorted(event.replacement)
    identifiers = [{"type": "CRN", "value": crn}] if crn else []
    return {
        "eventType": event_type,
        "version": 1,
        "occurredAt": _code("occurred_at", event.occurred_at),
        "description": description,
        "detailUrl": (
            f"{public_url.rstrip('/')}/cases/{case_id}/events?after_version={version - 1}&limit=1"
        ),
        "personReference": {"identifiers": identifiers},
        "additionalInformation": info,
    }


def _id(field: str, value: Any) -> Any:
    if isinstance(value, list):
        return [_id(field, v) for v in value]
    if not isinstance(value, str):
        raise NotPublishedError(f"{field} is not an id")
    return value


def _code(field: str, value: Any) -> Any:
    """A code, number, flag, date or time as JSON; anything else (text) is refused."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_code(field, v) for v in value]
    if isinstance(value, dict):
        return {_group(field, k): _code(field, v) for k, v in value.items()}
    if (
        isinstance(value, str)
        and field == "trigger"
        and value in ("scheduled", "significant_event")
    ):
        return value  # a code the aggregate sets, stored as a string
    raise NotPublishedError(f"{field}: {type(value).__name__} is not a code, id, date or version")


def _group(field: str, key: Any) -> str:
    """A key of a by-group map: a risk group's code."""
    try:
        return RiskGroup(key.value if isinstance(key, Enum) else key).value
    except ValueError:
        raise NotPublishedError(f"{field}: {key!r} is not a risk group") from None
