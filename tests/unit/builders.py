"""Given-helpers for domain unit tests: cases built through their commands on a fixed clock.

Nothing here reads the real time: every command gets an explicit ``Meta`` whose ``now`` is a
test clock that moves forward one minute per command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from domain.case import Case, Meta
from domain.vocabulary import (
    Agency,
    AppointmentType,
    EnquiryStage,
    OffenceFlag,
    Outcome,
    SentenceType,
    Service,
    SignificantEventKind,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
ORDERS = (SentenceType.COMMUNITY_ORDER, SentenceType.SUSPENDED_SENTENCE_ORDER)
LICENCES = (SentenceType.LICENCE, SentenceType.POST_SENTENCE_SUPERVISION)


def meta(occurred_at: datetime, *, now: datetime | None = None, actor_id: str = "po-1") -> Meta:
    """A command's metadata: it happened at ``occurred_at``; the clock reads ``now``."""
    return Meta(
        actor_id=actor_id,
        command_id=uuid4(),
        occurred_at=occurred_at,
        now=occurred_at if now is None else now,
    )


@dataclass
class Story:
    """A case and the test clock it is told on."""

    case: Case
    now: datetime
    actor_id: str = "po-1"
    _ids: dict[str, int] = field(default_factory=dict)

    # -- the clock -------------------------------------------------------------------------

    def meta(self, *, occurred_at: datetime | None = None, actor_id: str | None = None) -> Meta:
        """The next command's metadata: the clock moves on a minute; occurred now by default."""
        self.now += timedelta(minutes=1)
        return meta(
            self.now if occurred_at is None else occurred_at,
            now=self.now,
            actor_id=actor_id or self.actor_id,
        )

    def new_id(self, prefix: str) -> str:
        self._ids[prefix] = self._ids.get(prefix, 0) + 1
        return f"{prefix}{self._ids[prefix]}"

    def new_events(self) -> list[Case.Event]:
        """The events recorded since the last call (the aggregate's pending events)."""
        return list(self.case.collect_events())  # type: ignore[arg-type]

    # -- givens ----------------------------------------------------------------------------

    def appointment(self, appointment_id: str, *, outcome: Outcome | None = None) -> None:
        self.case.schedule_appointment(
            self.meta(),
            appointment_id=appointment_id,
            type=AppointmentType.COAP,
            starts_at=self.now + timedelta(days=1),
            national_standard=True,
        )
        if outcome is not None:
            self.case.record_outcome(
                self.meta(), appointment_id=appointment_id, outcome=outcome, notes=""
            )

    def referral(self, referral_id: str, service: Service = Service.ACC) -> None:
        self.case.make_referral(self.meta(), referral_id=referral_id, service=service, need="ACC")

    def enquiry(
        self,
        enquiry_id: str,
        *,
        agency: Agency = Agency.POLICE_DOMESTIC_ABUSE,
        stage: EnquiryStage = EnquiryStage.ASSESSMENT,
    ) -> None:
        self.case.request_enquiry(self.meta(), enquiry_id=enquiry_id, agency=agency, stage=stage)

    def significant_event(self, kind: SignificantEventKind = SignificantEventKind.ARREST) -> int:
        """Report a significant event; its version (a risk review's trigger)."""
        self.case.report_significant_event(self.meta(), kind=kind, details="arrested")
        return self.case.version


def open_case(
    sentence_type: SentenceType = SentenceType.COMMUNITY_ORDER,
    *,
    opened_at: datetime = T0,
    team: str = "SHF-N1",
    pdu: str = "SHF",
    unpaid_work_hours: int = 0,
) -> Case:
    return Case.open(
        meta=meta(opened_at),
        crn="X123456",
        person={
            "name": "Sam Example",
            "date_of_birth": date(1990, 5, 17),
            "gender": "male",
            "ethnicity": "White British",
        },
        sentence_type=sentence_type,
        start_date=opened_at.date(),
        expected_end_date=opened_at.date() + timedelta(days=365),
        pdu=pdu,
        team=team,
        requirements={
            "unpaid_work_hours": unpaid_work_hours,
            "rar_days": 10,
            "accredited_programme": None,
        },
        licence_conditions=["reside at approved address"] if sentence_type in LICENCES else [],
        offence_flags=[OffenceFlag.DOMESTIC_ABUSE],
    )


def opened(sentence_type: SentenceType = SentenceType.COMMUNITY_ORDER, **kwargs: Any) -> Story:
    """Given a case just opened (its Opened event already collected)."""
    opened_at: datetime = kwargs.get("opened_at", T0)
    story = Story(open_case(sentence_type, **kwargs), now=opened_at)
    story.new_events()
    return story
