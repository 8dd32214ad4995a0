"""Hand-built cases for the oversight read model tests, written through the application layer.

Every command is backdated (`occurred_at`) into 2025, well before the real clock; the queries
are then asked at explicit instants (`now`), so nothing here sleeps or reads the time of day.
Each test works in a team of its own, so tests can share one container per back end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.bootstrap import build
from application import commands as c
from application.access import PRACTITIONER, SPO, Actor
from application.settings import OversightSettings
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
from projections.compliance import IndicatorScope, query_compliance
from projections.oversight import QueueFilter, query_queue
from projections.quality import query_quality
from tests.support import ensure_staff, make_settings

DEFAULTS = OversightSettings()


def on(day: int, month: int = 3, hour: int = 9, minute: int = 0) -> datetime:
    """An instant in 2025 (UTC; London is on GMT until 30 March)."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def container_for(database_url: str, tmp: Path) -> Iterator[Any]:
    container = build(make_settings(database_url, tmp))
    try:
        yield container
    finally:
        container.close()


@contextmanager
def backend_container(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Any]:
    """A container on a fresh database of the back end ``request.param`` names."""
    if request.param == "sqlite":
        with container_for(f"sqlite:///{tmp}/casetrail.db", tmp) as container:
            yield container
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        with container_for(url, tmp) as container:
            yield container
    finally:
        server.drop_database(url.rsplit("/", 1)[1])


def new_team() -> str:
    """A team of the test's own, so tests sharing a database never see each other's cases."""
    return f"T-{uuid4().hex[:10]}"


@dataclass
class CaseStory:
    """One case, told command by command; each call says when it happened."""

    container: Any
    team: str
    case_id: UUID = field(default_factory=uuid4)
    actor: Actor = field(init=False)

    def __post_init__(self) -> None:
        self.actor = Actor(
            f"spo-{self.team}", frozenset({PRACTITIONER, SPO}), frozenset({self.team})
        )

    # -- writing ------------------------------------------------------------------------------

    def open(
        self,
        at: datetime,
        *,
        crn: str = "X000001",
        sentence_type: SentenceType = SentenceType.COMMUNITY_ORDER,
        offence_flags: tuple[OffenceFlag, ...] = (),
        unpaid_work_hours: int | None = None,
        start_date: date | None = None,
        pdu: str = "SHF",
    ) -> CaseStory:
        written = self.container.app.open_case(
            c.OpenCase(
                occurred_at=at,
                crn=crn,
                person={"name": "Sam Doe", "date_of_birth": "1990-01-02"},
                sentence_type=sentence_type,
                start_date=start_date or at.date(),
                expected_end_date=date(2026, 12, 31),
                pdu=pdu,
                team=self.team,
                requirements={"unpaid_work_hours": unpaid_work_hours},
                licence_conditions=[],
                offence_flags=list(offence_flags),
            ),
            self.actor,
        )
        self.case_id = written.aggregate_id
        return self

    def do(self, command: type[c.CaseCommand], at: datetime, **fields: Any) -> int:
        """Run a command on this case; the version it wrote."""
        written = self.container.app.execute(
            command(case_id=self.case_id, occurred_at=at, **fields), self.actor
        )
        return int(written.version)

    def allocate(self, at: datetime, practitioner_id: str = "po-1") -> int:
        ensure_staff(self.container.app, practitioner_id, self.team)
        return self.do(
            c.AllocateCase,
            at,
            practitioner_id=practitioner_id,
            training_considered=True,
            suitability_considered=True,
        )

    def induct(self, at: datetime) -> int:
        return self.do(c.CompleteInduction, at)

    def assess(
        self,
        at: datetime,
        rosh: RoSH = RoSH.MEDIUM,
        *,
        needs: list[Need] | None = None,
        sources: tuple[Source, ...] = (Source.POLICE,),
        person_involved: bool = True,
    ) -> int:
        return self.do(
            c.AssessRisk,
            at,
            rosh=rosh,
            rosh_by_group={},
            needs=needs,
            sources=list(sources),
            person_involved=person_involved,
        )

    def plan(
        self,
        at: datetime,
        *,
        contingency: str | None = "call the police if she is at risk",
        person_involved: bool = True,
        objectives: tuple[str, ...] = ("find work",),
    ) -> int:
        return self.do(
            c.AgreeSentencePlan,
            at,
            objectives=list(objectives),
            person_involved=person_involved,
            contingency_plan=contingency,
        )

    def appointment(
        self,
        appointment_id: str,
        starts_at: datetime,
        outcome: Outcome | None = None,
        *,
        type: AppointmentType = AppointmentType.COAP,
        national_standard: bool = True,
    ) -> int:
        """Schedule an appointment (and record its outcome); the last version written."""
        version = self.do(
            c.ScheduleAppointment,
            starts_at,
            appointment_id=appointment_id,
            type=type,
            starts_at=starts_at,
            national_standard=national_standard,
        )
        if outcome is not None:
            version = self.do(
                c.RecordOutcome, starts_at, appointment_id=appointment_id, outcome=outcome, notes=""
            )
        return version

    def enforce(self, at: datetime, action: EnforcementAction, *appointment_ids: str) -> int:
        return self.do(
            c.TakeEnforcementAction,
            at,
            action=action,
            appointment_ids=list(appointment_ids),
            reason="failed to attend",
        )

    def decide_recall(
        self, at: datetime, decision: RecallDecision = RecallDecision.STANDARD
    ) -> int:
        return self.do(
            c.DecideRecall, at, decision=decision, reasons=[RecallReason.CONTACT_STOPPED]
        )

    def refer(self, at: datetime, referral_id: str, service: Service) -> int:
        return self.do(c.MakeReferral, at, referral_id=referral_id, service=service, need="need")

    def referral_outcome(self, at: datetime, referral_id: str, outcome: ReferralOutcome) -> int:
        return self.do(c.RecordReferralOutcome, at, referral_id=referral_id, outcome=outcome)

    def unpaid_work(self, at: datetime, hours: str, *, attended: bool = True) -> int:
        return self.do(c.RecordUnpaidWorkSession, at, hours=Decimal(hours), attended=attended)

    def significant_event(self, at: datetime) -> int:
        return self.do(
            c.ReportSignificantEvent, at, kind=SignificantEventKind.ARREST, details="arrested"
        )

    def review(
        self,
        at: datetime,
        *,
        informed: bool = True,
        plan_changed: bool = False,
        rosh: RoSH | None = None,
        event_version: int | None = None,
    ) -> int:
        return self.do(
            c.CompleteRiskReview,
            at,
            significant_event_version=event_version,
            informed_by_intelligence=informed,
            plan_changed=plan_changed,
            rosh=rosh,
        )

    def oversee(self, at: datetime, kind: OversightKind = OversightKind.RISK) -> int:
        return self.do(c.RecordOversight, at, kind=kind, note="reviewed")

    def enquire(
        self,
        at: datetime,
        enquiry_id: str,
        agency: Agency = Agency.POLICE_DOMESTIC_ABUSE,
        stage: EnquiryStage = EnquiryStage.ASSESSMENT,
    ) -> int:
        return self.do(c.RequestEnquiry, at, enquiry_id=enquiry_id, agency=agency, stage=stage)

    def answer(self, at: datetime, enquiry_id: str) -> int:
        return self.do(
            c.RecordEnquiryResponse, at, enquiry_id=enquiry_id, concerns=False, summary="none"
        )

    def register(self, at: datetime, code: RegistrationCode) -> int:
        return self.do(c.AddRegistration, at, code=code)

    def deregister(self, at: datetime, code: RegistrationCode) -> int:
        return self.do(c.RemoveRegistration, at, code=code, reason="ended")

    def mappa(self, at: datetime, level: int, category: int = 2) -> int:
        return self.do(c.SetMappaLevel, at, category=category, level=level)

    def court_report(self, at: datetime, *, police: bool, childrens: bool) -> int:
        return self.do(
            c.PrepareCourtReport,
            at,
            report_type=ReportType.STANDARD,
            proposal="community order",
            enquiries={"police_domestic_abuse": police, "childrens_services": childrens},
        )

    def sfo(self, at: datetime) -> int:
        return self.do(c.NotifySeriousFurtherOffence, at, offence="wounding", charged_on=at.date())

    def transfer(self, at: datetime, team: str, pdu: str = "SHF") -> int:
        return self.do(c.TransferCase, at, team=team, pdu=pdu)

    def terminate(
        self, at: datetime, reason: TerminationReason = TerminationReason.COMPLETED
    ) -> int:
        return self.do(c.TerminateCase, at, reason=reason)

    def correct(self, at: datetime, version: int, **replacement: Any) -> int:
        return self.do(
            c.CorrectEvent,
            at,
            corrects_version=version,
            reason="recorded wrongly",
            replacement=replacement,
        )


# -- reading ----------------------------------------------------------------------------------


def live(container: Any) -> Any:
    container.projections.catch_up()
    return container.projections.live("oversight")


def item(
    container: Any, team: str, now: datetime, reason: str, case_id: UUID | None = None, **kw: Any
) -> Any:
    """The team's (or one case's) queue item for ``reason`` at ``now`` (None if not listed)."""
    found = [
        i
        for i in queue(container, team, now, **kw)
        if i["reason"] == reason and case_id in (None, i["case_id"])
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


def queue(
    container: Any,
    team: str,
    now: datetime,
    *,
    thresholds: Any = DEFAULTS,
    limit: int = 100,
    **where: Any,
) -> list[dict[str, Any]]:
    generation = live(container)
    with container.engine.connect() as conn:
        items, _ = query_queue(
            conn,
            generation,
            thresholds,
            QueueFilter(team=team, **where),
            staff=container.projections.live("staff_profiles"),
            now=now,
            limit=limit,
        )
    return items


def reasons(container: Any, team: str, now: datetime, **kwargs: Any) -> list[tuple[str, bool]]:
    """(reason, overdue) of each item of the team's queue at ``now``, in queue order."""
    return [(item["reason"], item["overdue"]) for item in queue(container, team, now, **kwargs)]


def rates(
    container: Any, now: datetime, *, thresholds: Any = DEFAULTS, **scope: Any
) -> dict[str, tuple[int, int]]:
    generation = live(container)
    with container.engine.connect() as conn:
        found = query_compliance(conn, generation, thresholds, IndicatorScope(**scope), now=now)
    return {name: (r["numerator"], r["denominator"]) for name, r in found.items()}


def questions(
    container: Any, now: datetime, *, thresholds: Any = DEFAULTS, **scope: Any
) -> dict[str, tuple[int, int]]:
    generation = live(container)
    with container.engine.connect() as conn:
        found = query_quality(conn, generation, thresholds, IndicatorScope(**scope), now=now)
    return {q["id"]: (q["yes"], q["total"]) for s in found for q in s["key_questions"]}


def standards(container: Any, now: datetime, **scope: Any) -> list[dict[str, Any]]:
    generation = live(container)
    with container.engine.connect() as conn:
        return query_quality(conn, generation, DEFAULTS, IndicatorScope(**scope), now=now)
