"""The Case aggregate: one period of supervision, decided and recorded as events."""

from __future__ import annotations

import functools
import re
import typing
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as BaseSnapshot

from domain.allocation import AllocationPolicy, Practitioner, check_allocation
from domain.characteristics import with_codes, with_defaults
from domain.coerce import coerce
from domain.errors import (
    CaseTerminatedError,
    DuplicateIdError,
    EnforcementWithoutFailureError,
    EnquiryAlreadyAnsweredError,
    InvalidValueError,
    OccurredBeforeOpeningError,
    OccurredInFutureError,
    OutcomeAlreadyRecordedError,
    ReferralClosedError,
    RegistrationStateError,
    ResponseBeforeRequestError,
    SentenceTypeError,
    UnknownAppointmentError,
    UnknownEnquiryError,
    UnknownReferralError,
    UnknownSignificantEventError,
    UnknownVersionError,
)
from domain.personal import ERASED, PERSONAL_FIELDS, PERSONAL_NAMES, is_shape
from domain.records import Record, apply_corrections
from domain.state import CaseState
from domain.vocabulary import (
    Agency,
    AppointmentType,
    EnforcementAction,
    EnquiryStage,
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
    SignificantEventKind,
    Source,
    TerminationReason,
)

CLOCK_SKEW = timedelta(minutes=5)
METADATA_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor_id",
        "command_id",
    }
)
# Identifiers that other events refer to: a mistake there is a new event, not a correction.
# `trigger` is derived from significant_event_version, which is itself such an identifier.
# `team` and `pdu` decide who may see a case: they change by a transfer (an SPO's), never by
# a correction.
CRN = re.compile(r"[A-Z][0-9]{6}")
UNCORRECTABLE_FIELDS = frozenset(
    {
        "team",
        "pdu",
        "appointment_id",
        "referral_id",
        "enquiry_id",
        "appointment_ids",
        "significant_event_version",
        "trigger",
        "missing_training",  # what the allocation guard found: facts of that moment
        "over_capacity",
    }
)


@dataclass(frozen=True, kw_only=True)
class Meta:
    """Who records an event, for which command, when it happened, and the clock now."""

    actor_id: str
    command_id: UUID
    occurred_at: datetime
    now: datetime


def check_not_in_future(occurred_at: datetime, now: datetime) -> None:
    if occurred_at.tzinfo is None:
        raise InvalidValueError("occurred_at must carry a UTC offset")
    if occurred_at > now + CLOCK_SKEW:
        raise OccurredInFutureError(
            f"occurred_at {occurred_at.isoformat()} is after now ({now.isoformat()})"
        )


def check_values(event_type: str, data: dict[str, Any]) -> None:
    """Value rules of an event's fields: the same for a command and for a correction of it."""
    if event_type == "MappaLevelSet" and (
        not 1 <= data["category"] <= 4 or not 1 <= data["level"] <= 3
    ):
        raise InvalidValueError("MAPPA category is 1-4 and level 1-3")
    if event_type == "UnpaidWorkSessionRecorded" and (
        not data["hours"].is_finite() or data["hours"] < 0
    ):
        raise InvalidValueError("hours must be a finite number, not negative")
    if event_type == "Opened":
        if data["expected_end_date"] < data["start_date"]:
            raise InvalidValueError("expected_end_date is before start_date")
        if "crn" in data and not CRN.fullmatch(data["crn"]):
            raise InvalidValueError("a CRN is one capital letter and six digits, e.g. X123456")
    if event_type == "AppointmentScheduled" and data["starts_at"].tzinfo is None:
        raise InvalidValueError("starts_at must carry a UTC offset")


class Case(Aggregate):
    """One period of supervision of a person on probation."""

    class Event(Aggregate.Event):
        occurred_at: datetime
        actor_id: str
        command_id: UUID

        def apply(self, case: Case) -> None:
            case.record(self)

    class Opened(Event, Aggregate.Created):
        class_version = 2

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

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 2 codes ethnic_group, sex and disability on the person."""
            state["person"] = with_defaults(state["person"])

    class CourtReportPrepared(Event):
        report_type: ReportType
        proposal: str
        enquiries: dict[str, bool]

    class Allocated(Event):
        class_version = 2

        practitioner_id: str
        training_considered: bool
        suitability_considered: bool
        override_reason: str | None
        missing_training: list[str]
        over_capacity: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 2 records what an SPO's override let through (nothing, before it)."""
            state.update(override_reason=None, missing_training=[], over_capacity=False)

    class EnquiryRequested(Event):
        enquiry_id: str
        agency: Agency
        stage: EnquiryStage

    class EnquiryResponded(Event):
        enquiry_id: str
        concerns: bool
        summary: str

    class InductionCompleted(Event):
        pass

    class RiskAssessed(Event):
        rosh: RoSH
        rosh_by_group: dict[str, RoSH]
        needs: list[Need] | None
        sources: list[Source]
        person_involved: bool

    class RegistrationAdded(Event):
        code: RegistrationCode

    class RegistrationRemoved(Event):
        code: RegistrationCode
        reason: str

    class MappaLevelSet(Event):
        category: int
        level: int

    class SentencePlanAgreed(Event):
        objectives: list[str]
        person_involved: bool
        contingency_plan: str | None

    class AppointmentScheduled(Event):
        appointment_id: str
        type: AppointmentType
        starts_at: datetime
        national_standard: bool

    class AppointmentOutcomeRecorded(Event):
        appointment_id: str
        outcome: Outcome
        notes: str

    class EnforcementActionTaken(Event):
        action: EnforcementAction
        appointment_ids: list[str]
        reason: str

    class RecallDecided(Event):
        decision: RecallDecision
        reasons: list[RecallReason]

    class ReferralMade(Event):
        referral_id: str
        service: Service
        need: str

    class ReferralOutcomeRecorded(Event):
        referral_id: str
        outcome: ReferralOutcome

    class UnpaidWorkSessionRecorded(Event):
        hours: Decimal
        attended: bool

    class SignificantEventReported(Event):
        kind: SignificantEventKind
        details: str

    class RiskReviewCompleted(Event):
        trigger: str
        significant_event_version: int | None
        informed_by_intelligence: bool
        plan_changed: bool
        rosh: RoSH | None

    class OversightRecorded(Event):
        kind: OversightKind
        note: str

    class SeriousFurtherOffenceNotified(Event):
        offence: str
        charged_on: date

    class Transferred(Event):
        team: str
        pdu: str

    class Terminated(Event):
        reason: TerminationReason

    class PersonalDataErased(Event):
        """The person's data key was destroyed: their personal fields now read [erased]."""

        reason: str

        def apply(self, case: Case) -> None:
            # A case held in memory since before the erasure (an aggregate cache, in this
            # process or another) keeps no personal data past this event either.
            case.record(self)
            case.history = [erase_record(r) for r in case.history]
            case.state = CaseState.fold(case.history)

    class Corrected(Event):
        corrects_version: int
        reason: str
        replacement: dict[str, Any]

        def apply(self, case: Case) -> None:
            case.record(self)
            case.state = CaseState.fold(case.history)

    class Snapshot(BaseSnapshot):
        """Snapshots keep the records; the derived state is folded again on load."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            snapshot.state.pop("state", None)
            if aggregate.state.erased_at is not None:
                # A process that still held the erased person's key (briefly cached) must not
                # write their data back into a snapshot: keep the shape, drop the contents.
                snapshot.state["history"] = [erase_record(r) for r in snapshot.state["history"]]
            return snapshot

        def mutate(self, _: None) -> Any:
            case: Any = super().mutate(_)
            case.state = CaseState.fold(case.history)
            return case

    def __init__(self) -> None:
        self.history: list[Record] = []
        self.state = CaseState()

    # -- recording -------------------------------------------------------------------------

    def record(self, event: Case.Event) -> None:
        """Append the event's record and fold it into the state (corrections refold)."""
        record = to_record(event)
        if self.state.erased_at is not None:
            # Erasure is final: new personal data of an erased case is not kept, in the store
            # (application/sealing.py) or here.
            record = erase_record(record)
        self.history.append(record)
        if record["type"] != "Corrected":
            self.state.apply(record)

    def _trigger(self, event_class: type[Case.Event], meta: Meta, **data: Any) -> None:
        self.trigger_event(
            event_class,
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            **data,
        )

    # -- rules -----------------------------------------------------------------------------

    def check_open(self, meta: Meta, *, court_work: bool = False) -> None:
        """Not terminated; occurred_at neither in the future nor before the case opened."""
        if self.state.is_terminated:
            raise CaseTerminatedError(f"case {self.id} is terminated; only corrections apply")
        self.check_time(meta.occurred_at, meta.now, court_work=court_work)

    def check_time(self, occurred_at: datetime, now: datetime, *, court_work: bool = False) -> None:
        check_not_in_future(occurred_at, now)
        opened_at = self.state.opened_at
        if not court_work and opened_at is not None and occurred_at < opened_at:
            raise OccurredBeforeOpeningError(
                f"occurred_at {occurred_at.isoformat()} is before the case opened "
                f"({opened_at.isoformat()})"
            )

    def check_licence(self, what: str) -> None:
        if self.state.sentence_type is None or self.state.sentence_type.is_order:
            raise SentenceTypeError(
                f"{what} applies only on licence or post-sentence supervision, "
                f"not on a {_code(self.state.sentence_type)}"
            )

    def check_order(self, what: str) -> None:
        if self.state.sentence_type is None or not self.state.sentence_type.is_order:
            raise SentenceTypeError(
                f"{what} applies only on community or suspended sentence orders, "
                f"not on {_code(self.state.sentence_type)}"
            )

    def _check_corrected_time(self, target: Record, occurred_at: datetime, now: datetime) -> None:
        if target["type"] == "Opened":  # the opening itself may move earlier (or later)
            check_not_in_future(occurred_at, now)
            return
        self.check_time(occurred_at, now, court_work=_is_court_work(self, target))

    # -- commands --------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        meta: Meta,
        crn: str,
        person: dict[str, Any],
        sentence_type: SentenceType,
        start_date: date,
        expected_end_date: date,
        pdu: str,
        team: str,
        requirements: dict[str, Any],
        licence_conditions: list[str],
        offence_flags: list[OffenceFlag],
        case_id: UUID | None = None,
    ) -> Case:
        check_not_in_future(meta.occurred_at, meta.now)
        check_values("Opened", {"start_date": start_date, "expected_end_date": expected_end_date})
        return cls._create(
            cls.Opened,
            id=case_id,
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            crn=crn,
            person=with_codes(person),
            sentence_type=sentence_type,
            start_date=start_date,
            expected_end_date=expected_end_date,
            pdu=pdu,
            team=team,
            requirements=requirements,
            licence_conditions=licence_conditions,
            offence_flags=offence_flags,
        )

    def prepare_court_report(
        self, meta: Meta, *, report_type: ReportType, proposal: str, enquiries: dict[str, bool]
    ) -> None:
        self.check_open(meta, court_work=True)
        self._trigger(
            self.CourtReportPrepared,
            meta,
            report_type=report_type,
            proposal=proposal,
            enquiries=dict(enquiries),
        )

    def allocate(
        self,
        meta: Meta,
        *,
        practitioner_id: str,
        training_considered: bool,
        suitability_considered: bool,
        override_reason: str | None = None,
        practitioner: Practitioner | None = None,
        policy: AllocationPolicy | None = None,
    ) -> None:
        """Allocate the case; with a ``policy`` the allocation guard decides first (the
        application always gives one; without, as in replayed tests, nothing is checked)."""
        self.check_open(meta)
        missing: list[str] = []
        over = False
        if policy is not None:
            if override_reason is not None and not override_reason.strip():
                raise InvalidValueError("override_reason must say why")
            overridden = check_allocation(
                practitioner_id=practitioner_id,
                practitioner=practitioner,
                case_codes=self.allocation_codes(),
                suitability_considered=suitability_considered,
                override=override_reason is not None,
                policy=policy,
            )
            missing, over = overridden.missing_training, overridden.over_capacity
        self._trigger(
            self.Allocated,
            meta,
            practitioner_id=practitioner_id,
            training_considered=training_considered,
            suitability_considered=suitability_considered,
            override_reason=override_reason,
            missing_training=missing,
            over_capacity=over,
        )

    def allocation_codes(self) -> set[str]:
        """The offence flags and current registrations that decide what an allocation needs."""
        flags = {_code(flag) for flag in self.state.offence_flags}
        return flags | set(self.state.registrations)

    def request_enquiry(
        self, meta: Meta, *, enquiry_id: str, agency: Agency, stage: EnquiryStage
    ) -> None:
        self.check_open(meta, court_work=stage is EnquiryStage.COURT)
        if enquiry_id in self.state.enquiries:
            raise DuplicateIdError(f"enquiry {enquiry_id!r} was already requested")
        self._trigger(
            self.EnquiryRequested, meta, enquiry_id=enquiry_id, agency=agency, stage=stage
        )

    def record_enquiry_response(
        self, meta: Meta, *, enquiry_id: str, concerns: bool, summary: str
    ) -> None:
        enquiry = self.state.enquiries.get(enquiry_id)
        if enquiry is None:
            raise UnknownEnquiryError(f"no enquiry {enquiry_id!r} was requested on this case")
        self.check_open(meta, court_work=enquiry["stage"] is EnquiryStage.COURT)
        if meta.occurred_at < enquiry["occurred_at"]:
            raise ResponseBeforeRequestError(
                f"the response ({meta.occurred_at.isoformat()}) predates the request "
                f"({enquiry['occurred_at'].isoformat()})"
            )
        if enquiry["response"] is not None:
            raise EnquiryAlreadyAnsweredError(f"enquiry {enquiry_id!r} already has a response")
        self._trigger(
            self.EnquiryResponded, meta, enquiry_id=enquiry_id, concerns=concerns, summary=summary
        )

    def complete_induction(self, meta: Meta) -> None:
        self.check_open(meta)
        self._trigger(self.InductionCompleted, meta)

    def assess_risk(
        self,
        meta: Meta,
        *,
        rosh: RoSH,
        rosh_by_group: dict[str, RoSH],
        needs: list[Need] | None,
        sources: list[Source],
        person_involved: bool,
    ) -> None:
        self.check_open(meta)
        self._trigger(
            self.RiskAssessed,
            meta,
            rosh=rosh,
            rosh_by_group=dict(rosh_by_group),
            needs=None if needs is None else list(needs),
            sources=list(sources),
            person_involved=person_involved,
        )

    def add_registration(self, meta: Meta, *, code: RegistrationCode) -> None:
        self.check_open(meta)
        if self.state.has_registration(code):
            raise RegistrationStateError(f"registration {code.value} is already active")
        self._trigger(self.RegistrationAdded, meta, code=code)

    def remove_registration(self, meta: Meta, *, code: RegistrationCode, reason: str) -> None:
        self.check_open(meta)
        if not self.state.has_registration(code):
            raise RegistrationStateError(f"registration {code.value} is not active")
        self._trigger(self.RegistrationRemoved, meta, code=code, reason=reason)

    def set_mappa_level(self, meta: Meta, *, category: int, level: int) -> None:
        self.check_open(meta)
        check_values("MappaLevelSet", {"category": category, "level": level})
        self._trigger(self.MappaLevelSet, meta, category=category, level=level)

    def agree_sentence_plan(
        self,
        meta: Meta,
        *,
        objectives: list[str],
        person_involved: bool,
        contingency_plan: str | None,
    ) -> None:
        self.check_open(meta)
        self._trigger(
            self.SentencePlanAgreed,
            meta,
            objectives=list(objectives),
            person_involved=person_involved,
            contingency_plan=contingency_plan,
        )

    def schedule_appointment(
        self,
        meta: Meta,
        *,
        appointment_id: str,
        type: AppointmentType,
        starts_at: datetime,
        national_standard: bool,
    ) -> None:
        self.check_open(meta)
        if appointment_id in self.state.appointments:
            raise DuplicateIdError(f"appointment {appointment_id!r} is already scheduled")
        check_values("AppointmentScheduled", {"starts_at": starts_at})
        self._trigger(
            self.AppointmentScheduled,
            meta,
            appointment_id=appointment_id,
            type=type,
            starts_at=starts_at,
            national_standard=national_standard,
        )

    def record_outcome(
        self, meta: Meta, *, appointment_id: str, outcome: Outcome, notes: str
    ) -> None:
        self.check_open(meta)
        appointment = self.state.appointments.get(appointment_id)
        if appointment is None:
            raise UnknownAppointmentError(
                f"no appointment {appointment_id!r} is scheduled on this case"
            )
        if appointment["outcome"] is not None:
            raise OutcomeAlreadyRecordedError(
                f"appointment {appointment_id!r} already has outcome {appointment['outcome'].value}"
            )
        self._trigger(
            self.AppointmentOutcomeRecorded,
            meta,
            appointment_id=appointment_id,
            outcome=outcome,
            notes=notes,
        )

    def take_enforcement_action(
        self, meta: Meta, *, action: EnforcementAction, appointment_ids: list[str], reason: str
    ) -> None:
        self.check_open(meta)
        if action is EnforcementAction.EA11:
            self.check_licence("a recall request (EA11)")
        if action is EnforcementAction.BRE:
            self.check_order("a breach request (BRE)")
        if not appointment_ids:
            raise EnforcementWithoutFailureError("cite at least one recorded failure")
        failures = self.state.failures
        not_failures = [a for a in appointment_ids if a not in failures]
        if not_failures:
            raise EnforcementWithoutFailureError(
                f"not recorded failures of this case: {', '.join(sorted(not_failures))}"
            )
        self._trigger(
            self.EnforcementActionTaken,
            meta,
            action=action,
            appointment_ids=list(dict.fromkeys(appointment_ids)),
            reason=reason,
        )

    def decide_recall(
        self, meta: Meta, *, decision: RecallDecision, reasons: list[RecallReason]
    ) -> None:
        self.check_open(meta)
        self.check_licence("a recall decision")
        self._trigger(self.RecallDecided, meta, decision=decision, reasons=list(reasons))

    def make_referral(self, meta: Meta, *, referral_id: str, service: Service, need: str) -> None:
        self.check_open(meta)
        if referral_id in self.state.referrals:
            raise DuplicateIdError(f"referral {referral_id!r} was already made")
        self._trigger(self.ReferralMade, meta, referral_id=referral_id, service=service, need=need)

    def record_referral_outcome(
        self, meta: Meta, *, referral_id: str, outcome: ReferralOutcome
    ) -> None:
        self.check_open(meta)
        referral = self.state.referrals.get(referral_id)
        if referral is None:
            raise UnknownReferralError(f"no referral {referral_id!r} was made on this case")
        if referral["outcome"] is not None and referral["outcome"].is_final:
            raise ReferralClosedError(
                f"referral {referral_id!r} already ended: {referral['outcome'].value}"
            )
        self._trigger(self.ReferralOutcomeRecorded, meta, referral_id=referral_id, outcome=outcome)

    def record_unpaid_work_session(self, meta: Meta, *, hours: Decimal, attended: bool) -> None:
        self.check_open(meta)
        check_values("UnpaidWorkSessionRecorded", {"hours": hours})
        self._trigger(self.UnpaidWorkSessionRecorded, meta, hours=hours, attended=attended)

    def report_significant_event(
        self, meta: Meta, *, kind: SignificantEventKind, details: str
    ) -> None:
        self.check_open(meta)
        self._trigger(self.SignificantEventReported, meta, kind=kind, details=details)

    def complete_risk_review(
        self,
        meta: Meta,
        *,
        significant_event_version: int | None,
        informed_by_intelligence: bool,
        plan_changed: bool,
        rosh: RoSH | None,
    ) -> None:
        self.check_open(meta)
        if (
            significant_event_version is not None
            and significant_event_version not in self.state.significant_events
        ):
            raise UnknownSignificantEventError(
                f"version {significant_event_version} is not a significant event of this case"
            )
        self._trigger(
            self.RiskReviewCompleted,
            meta,
            trigger="scheduled" if significant_event_version is None else "significant_event",
            significant_event_version=significant_event_version,
            informed_by_intelligence=informed_by_intelligence,
            plan_changed=plan_changed,
            rosh=rosh,
        )

    def record_oversight(self, meta: Meta, *, kind: OversightKind, note: str) -> None:
        self.check_open(meta)
        self._trigger(self.OversightRecorded, meta, kind=kind, note=note)

    def notify_serious_further_offence(self, meta: Meta, *, offence: str, charged_on: date) -> None:
        self.check_open(meta)
        self._trigger(
            self.SeriousFurtherOffenceNotified, meta, offence=offence, charged_on=charged_on
        )

    def transfer(self, meta: Meta, *, team: str, pdu: str) -> None:
        self.check_open(meta)
        self._trigger(self.Transferred, meta, team=team, pdu=pdu)

    def terminate(self, meta: Meta, *, reason: TerminationReason) -> None:
        self.check_open(meta)
        self._trigger(self.Terminated, meta, reason=reason)

    def record_erasure(self, meta: Meta, *, reason: str) -> None:
        """Record that the person's data was erased; accepted on a terminated case too."""
        check_not_in_future(meta.occurred_at, meta.now)
        self._trigger(self.PersonalDataErased, meta, reason=reason)

    def correct(
        self, meta: Meta, *, corrects_version: int, reason: str, replacement: dict[str, Any]
    ) -> None:
        """Correct an earlier event's fields; the only command a terminated case accepts."""
        check_not_in_future(meta.occurred_at, meta.now)
        if not 1 <= corrects_version <= len(self.history):
            raise UnknownVersionError(f"version {corrects_version} does not exist on this case")
        target = self.history[corrects_version - 1]
        if target["type"] == "Corrected":
            raise UnknownVersionError(
                "a correction cannot itself be corrected; correct the original"
            )
        if not replacement:
            raise InvalidValueError("replacement names no field to correct")
        event_class: type[Case.Event] = getattr(Case, target["type"])
        hints = typing.get_type_hints(event_class)
        correctable = {f.name for f in fields(event_class)} - METADATA_FIELDS - UNCORRECTABLE_FIELDS
        unknown = sorted(set(replacement) - correctable)
        if unknown:
            raise InvalidValueError(
                f"{target['type']} has no correctable field {', '.join(unknown)}; "
                f"correctable: {', '.join(sorted(correctable)) or 'none'}"
            )
        coerced = {name: coerce(value, hints[name], name) for name, value in replacement.items()}
        effective = {r["version"]: r for r in apply_corrections(self.history)[0]}
        if target["type"] == "Opened" and "person" in coerced:
            # A person is corrected field by field: fixing a code keeps the name, and back.
            person = with_defaults(effective[corrects_version]["data"]["person"])
            coerced["person"] = with_codes({**person, **coerced["person"]})
        fields_after = {k: v for k, v in coerced.items() if k != "occurred_at"}
        check_values(target["type"], {**effective[corrects_version]["data"], **fields_after})
        if "occurred_at" in coerced:
            self._check_corrected_time(target, coerced["occurred_at"], meta.now)
        self._trigger(
            self.Corrected,
            meta,
            corrects_version=corrects_version,
            reason=reason,
            replacement=coerced,
        )


def _is_court_work(case: Case, record: Record) -> bool:
    """Court work may predate the opening: court reports and court-stage enquiries."""
    if record["type"] == "CourtReportPrepared":
        return True
    if record["type"] == "EnquiryRequested":
        return bool(record["data"]["stage"] is EnquiryStage.COURT)
    if record["type"] == "EnquiryResponded":
        enquiry = case.state.enquiries.get(record["data"]["enquiry_id"])
        return enquiry is not None and enquiry["stage"] is EnquiryStage.COURT
    return False


def erase_record(record: Record) -> Record:
    """The record with its personal fields' contents replaced by [erased], shape kept."""
    names = PERSONAL_FIELDS.get(record["type"], frozenset())
    data = {k: (_erased(v) if k in names else v) for k, v in record["data"].items()}
    if record["type"] == "Corrected":
        data["replacement"] = {
            k: (_erased(v) if k in PERSONAL_NAMES and not is_shape(v) else v)
            for k, v in data["replacement"].items()
        }
    return {**record, "data": data}


def _erased(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _erased(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_erased(v) for v in value]
    return value if is_shape(value) else ERASED


@functools.cache
def _data_fields(event_class: type[Case.Event]) -> tuple[str, ...]:
    """An event class's own fields (``dataclasses.fields`` is slow enough to show in a bulk
    import's profile, and a class's fields never change)."""
    return tuple(
        f.name
        for f in fields(event_class)
        if f.name not in METADATA_FIELDS and f.name != "occurred_at"
    )


def to_record(event: Case.Event) -> Record:
    """The storage-neutral record of a case event."""
    data = {name: getattr(event, name) for name in _data_fields(type(event))}
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred_at": event.occurred_at,
        "recorded_at": event.timestamp,
        "data": data,
    }


def _code(value: Any) -> str:
    return str(getattr(value, "value", value))
