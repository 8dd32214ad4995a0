"""The SFO chronology: every event by when it happened, with when it was recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.records import Record, plain

SECONDS_PER_DAY = Decimal(86400)


@dataclass(frozen=True)
class TimelineItem:
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    lateness_days: Decimal
    actor_id: str
    summary: str
    data: dict[str, Any]
    corrects_version: int | None = None
    corrected_by: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _codes(values: Iterable[Any] | None) -> str:
    return ", ".join(str(plain(v)) for v in values or []) or "none"


def _made(value: Any) -> str:
    return "made" if value else "NOT made"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(plain(value))


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "Opened": lambda d: (
        f"Case opened: {plain(d['sentence_type'])} for {d['crn']}, team {d['team']} ({d['pdu']})"
    ),
    "CourtReportPrepared": lambda d: (
        f"{plain(d['report_type']).capitalize()} court report; "
        f"police domestic-abuse enquiry {_made(d['enquiries'].get('police_domestic_abuse'))}, "
        f"children's services enquiry {_made(d['enquiries'].get('childrens_services'))}"
    ),
    "Allocated": lambda d: f"Allocated to {d['practitioner_id']}",
    "EnquiryRequested": lambda d: f"Enquiry {d['enquiry_id']} requested from {plain(d['agency'])}",
    "EnquiryResponded": lambda d: (
        f"Enquiry {d['enquiry_id']} answered"
        f"{': concerns raised' if d['concerns'] else ': no concerns'}"
    ),
    "InductionCompleted": lambda d: "Induction completed",
    "RiskAssessed": lambda d: (
        f"Risk assessed: RoSH {plain(d['rosh'])}; needs "
        f"{'not analysed' if d['needs'] is None else _codes(d['needs'])}; "
        f"sources {_codes(d['sources'])}"
    ),
    "RegistrationAdded": lambda d: f"Registration {plain(d['code'])} added",
    "RegistrationRemoved": lambda d: f"Registration {plain(d['code'])} removed",
    "MappaLevelSet": lambda d: f"MAPPA category {d['category']}, level {d['level']}",
    "SentencePlanAgreed": lambda d: (
        "Sentence plan agreed"
        f"{' with a contingency plan' if d['contingency_plan'] else ' WITHOUT a contingency plan'}"
    ),
    "AppointmentScheduled": lambda d: (
        f"Appointment {d['appointment_id']} ({plain(d['type'])}) "
        f"scheduled for {_when(d['starts_at'])}"
    ),
    "AppointmentOutcomeRecorded": lambda d: (
        f"Outcome {plain(d['outcome'])} for appointment {d['appointment_id']}"
    ),
    "EnforcementActionTaken": lambda d: (
        f"Enforcement {plain(d['action'])} on {_codes(d['appointment_ids'])}"
    ),
    "RecallDecided": lambda d: f"Recall decision: {plain(d['decision'])} ({_codes(d['reasons'])})",
    "ReferralMade": lambda d: f"Referral {d['referral_id']} to {plain(d['service'])}",
    "ReferralOutcomeRecorded": lambda d: f"Referral {d['referral_id']}: {plain(d['outcome'])}",
    "UnpaidWorkSessionRecorded": lambda d: (
        f"Unpaid work: {d['hours']} hours, {'attended' if d['attended'] else 'absent'}"
    ),
    "SignificantEventReported": lambda d: f"Significant event: {plain(d['kind'])}",
    "RiskReviewCompleted": lambda d: (
        f"Risk review ({d['trigger']}"
        f"{' v' + str(d['significant_event_version']) if d['significant_event_version'] else ''}); "
        f"intelligence {'used' if d['informed_by_intelligence'] else 'NOT used'}; plan "
        f"{'changed' if d['plan_changed'] else 'unchanged'}"
    ),
    "OversightRecorded": lambda d: f"SPO oversight ({plain(d['kind'])})",
    "SeriousFurtherOffenceNotified": lambda d: f"Serious further offence notified: {d['offence']}",
    "Transferred": lambda d: f"Transferred to team {d['team']} ({d['pdu']})",
    "Terminated": lambda d: f"Terminated: {plain(d['reason'])}",
    "Corrected": lambda d: (
        f"Correction of version {d['corrects_version']}: "
        f"{', '.join(sorted(d['replacement']))} ({d['reason']})"
    ),
    "PersonalDataErased": lambda d: f"Personal data erased ({d['reason']})",
}


def summary(record: Record) -> str:
    describe = SUMMARIES.get(record["type"])
    try:
        return describe(record["data"]) if describe else record["type"]
    except (KeyError, TypeError, AttributeError):  # an upcast or erased payload: say what it is
        return record["type"]


def lateness_days(record: Record) -> Decimal:
    seconds = Decimal(str((record["recorded_at"] - record["occurred_at"]).total_seconds()))
    return (seconds / SECONDS_PER_DAY).quantize(Decimal("0.001"))


def timeline(
    entries: list[tuple[Record, str]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: set[str] | None = None,
) -> list[TimelineItem]:
    """Events (record, actor) ordered by occurred_at, ties by version; corrections linked."""
    corrected_by: dict[int, int] = {}
    for record, _ in entries:
        if record["type"] == "Corrected":
            corrected_by[record["data"]["corrects_version"]] = record["version"]
    items = []
    for record, actor_id in sorted(entries, key=lambda e: (e[0]["occurred_at"], e[0]["version"])):
        if since is not None and record["occurred_at"] < since:
            continue
        if until is not None and record["occurred_at"] >= until:
            continue
        if types and record["type"] not in types:
            continue
        data = record["data"]
        items.append(
            TimelineItem(
                version=record["version"],
                type=record["type"],
                occurred_at=record["occurred_at"],
                recorded_at=record["recorded_at"],
                lateness_days=lateness_days(record),
                actor_id=actor_id,
                summary=summary(record),
                data=data,
                corrects_version=data.get("corrects_version")
                if record["type"] == "Corrected"
                else None,
                corrected_by=corrected_by.get(record["version"]),
            )
        )
    return items
