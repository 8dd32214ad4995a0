"""The application's contract, run against every event store (the library's ApplicationTestCase
pattern): the same class, parametrised over SQLite and PostgreSQL by ``database_url``.

The application is called directly, with commands and an Actor, through the composition root
(``api.bootstrap.build``); a "restart" is a new container on the same database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

from api.bootstrap import Container, build
from application import commands as c
from application.access import Actor
from application.errors import (
    AlreadyExistsError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PreconditionFailedError,
)
from application.service import CaseTrail, IdempotencyKey, Written
from application.settings import Settings
from domain.case import Case, to_record
from domain.errors import OutcomeAlreadyRecordedError
from domain.staff import Staff
from domain.state import CaseState
from domain.vocabulary import (
    AppointmentType,
    Grade,
    Need,
    Outcome,
    ReferralOutcome,
    RegistrationCode,
    RoSH,
    SentenceType,
    Service,
    SignificantEventKind,
    Source,
)
from tests.support import ensure_staff, make_settings

TEAM = "T1"
PO = Actor("po1", frozenset({"practitioner"}), frozenset({TEAM}))
ADMIN = Actor("admin1", frozenset({"admin"}))
SNAPSHOT_INTERVAL = 5

Build = Callable[[], Container]


def open_command(crn: str = "A123456") -> c.OpenCase:
    return c.OpenCase(
        crn=crn,
        person={"name": "Pat Contract", "date_of_birth": date(1991, 5, 6)},
        sentence_type=SentenceType.COMMUNITY_ORDER,
        start_date=date(2026, 1, 5),
        expected_end_date=date(2027, 1, 5),
        pdu="SHF",
        team=TEAM,
        requirements={"unpaid_work_hours": 100},
        licence_conditions=[],
        offence_flags=[],
    )


def schedule(case_id: UUID, appointment_id: str) -> c.ScheduleAppointment:
    return c.ScheduleAppointment(
        case_id=case_id,
        appointment_id=appointment_id,
        type=AppointmentType.COAP,
        starts_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        national_standard=True,
    )


def eleven_commands(case_id: UUID) -> list[c.CaseCommand]:
    """Versions 2..12 of a case: a mix of events, ending with a correction of version 4."""
    return [
        schedule(case_id, "A1"),  # 2
        c.RecordOutcome(case_id=case_id, appointment_id="A1", outcome=Outcome.UAAB, notes=""),
        c.AssessRisk(  # 4
            case_id=case_id,
            rosh=RoSH.MEDIUM,
            rosh_by_group={"public": RoSH.MEDIUM},
            needs=[Need.ACC],
            sources=[Source.POLICE],
            person_involved=True,
        ),
        c.AddRegistration(case_id=case_id, code=RegistrationCode.ADVP),  # 5
        c.AllocateCase(  # 6
            case_id=case_id,
            practitioner_id="po1",
            training_considered=True,
            suitability_considered=True,
        ),
        c.RecordUnpaidWorkSession(case_id=case_id, hours=Decimal("2.5"), attended=True),  # 7
        c.MakeReferral(case_id=case_id, referral_id="R1", service=Service.ACC, need="housing"),
        c.RecordReferralOutcome(  # 9
            case_id=case_id, referral_id="R1", outcome=ReferralOutcome.STARTED
        ),
        c.ReportSignificantEvent(  # 10
            case_id=case_id, kind=SignificantEventKind.ARREST, details="arrested"
        ),
        c.CompleteRiskReview(  # 11
            case_id=case_id,
            significant_event_version=10,
            informed_by_intelligence=True,
            plan_changed=False,
            rosh=RoSH.HIGH,
        ),
        c.CorrectEvent(  # 12
            case_id=case_id, corrects_version=4, reason="misread", replacement={"rosh": "high"}
        ),
    ]


def register(staff_id: str = "po9") -> c.RegisterStaff:
    return c.RegisterStaff(
        staff_id=staff_id,
        name="Alex Staff",
        grade=Grade.PO,
        team=TEAM,
        pdu="SHF",
        capacity=30,
        training=["domestic_abuse"],
    )


def fold_from_events(app: CaseTrail, case_id: UUID) -> CaseState:
    return CaseState.fold(to_record(cast(Case.Event, e)) for e in app.events.get(case_id))


class TestCaseTrailContract:
    """What every event store must give the application, checked the same way on each."""

    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return make_settings(database_url, tmp_path, snapshot_interval=SNAPSHOT_INTERVAL)

    @pytest.fixture
    def new_container(self, settings: Settings) -> Iterator[Build]:
        """Builds containers on the test's database; each one is closed at the end."""
        built: list[Container] = []

        def new() -> Container:
            built.append(build(settings))
            ensure_staff(built[-1].app, "po1", TEAM)  # the practitioner eleven_commands names
            return built[-1]

        yield new
        for container in built:
            container.close()

    def test_a_new_container_on_the_same_database_sees_the_same_case(
        self, new_container: Build
    ) -> None:
        first = new_container()
        opened = first.app.open_case(open_command(), PO)
        for command in eleven_commands(opened.aggregate_id):
            first.app.execute(command, PO)
        before = first.app.get_case(opened.aggregate_id, PO)
        first.close()

        after = new_container().app.get_case(opened.aggregate_id, PO)

        assert after.version == before.version == 12
        assert after.history == before.history
        assert after.state.to_dict() == before.state.to_dict()
        assert after.state.rosh is RoSH.HIGH  # the correction and the review both applied
        assert after.state.unpaid_work["hours"] == Decimal("2.5")

    def test_snapshots_every_n_events_and_the_snapshotted_case_equals_the_fold(
        self, new_container: Build
    ) -> None:
        app = new_container().app
        opened = app.open_case(open_command(), PO)
        for command in eleven_commands(opened.aggregate_id):
            app.execute(command, PO)

        assert app.snapshots is not None
        snapshots = list(app.snapshots.get(opened.aggregate_id))
        assert [s.originator_version for s in snapshots] == [5, 10]
        latest = next(iter(app.snapshots.get(opened.aggregate_id, desc=True, limit=1)))
        assert latest.originator_version == 10

        folded = fold_from_events(app, opened.aggregate_id)
        for container in (app, new_container().app):  # this container, and after a restart
            case: Case = container.repository.get(opened.aggregate_id)
            assert case.version == 12
            assert case.state.to_dict() == folded.to_dict()
            assert case.history == [
                to_record(cast(Case.Event, e)) for e in app.events.get(opened.aggregate_id)
            ]
        at_snapshot: Case = app.repository.get(opened.aggregate_id, version=10)
        assert at_snapshot.version == 10
        assert (
            at_snapshot.state.to_dict()
            == app.case_state(opened.aggregate_id, PO, version=10).state.to_dict()
        )

    def test_positions_strictly_increase_and_are_the_notification_ids(
        self, new_container: Build
    ) -> None:
        app = new_container().app
        writes = [app.register_staff(register(), ADMIN), app.open_case(open_command(), PO)]
        case_id = writes[-1].aggregate_id
        writes += [app.execute(command, PO) for command in eleven_commands(case_id)]
        writes.append(app.open_case(open_command("B123456"), PO))

        positions = [w.position for w in writes]
        assert positions == sorted(set(positions))
        notifications = app.recorder.select_notifications(start=1, limit=100)
        ids = {(n.originator_id, n.originator_version): n.id for n in notifications}
        assert [ids[(w.aggregate_id, w.version)] for w in writes] == positions
        assert app.ping() == positions[-1]

    def test_case_state_at_version_n_is_the_state_right_after_event_n(
        self, new_container: Build
    ) -> None:
        app = new_container().app
        case_id = app.open_case(open_command(), PO).aggregate_id
        after: dict[int, dict[str, Any]] = {1: app.get_case(case_id, PO).state.to_dict()}
        for command in eleven_commands(case_id):
            written = app.execute(command, PO)
            after[written.version] = app.get_case(case_id, PO).state.to_dict()

        for version, expected in after.items():
            historical = app.case_state(case_id, PO, version=version)
            assert historical.version == version
            assert historical.state.to_dict() == expected, f"at version {version}"
            assert [x.version for x in historical.left_out] == list(range(version + 1, 13))
        assert after[11]["rosh"] == "high"  # the review
        assert after[3]["appointments"]["A1"]["outcome"] == "UAAB"
        assert after[12]["risk_assessment"]["rosh"] == "high"  # the correction
        assert after[11]["risk_assessment"]["rosh"] == "medium"  # ...not known before it

    def test_an_idempotent_replay_survives_a_restart(self, new_container: Build) -> None:
        first = new_container()
        open_key = IdempotencyKey(key="open-1", request_hash="a" * 64)
        opened = first.app.open_case(open_command(), PO, idempotency=open_key)
        case_id = opened.aggregate_id
        key = IdempotencyKey(key="schedule-1", request_hash="b" * 64)
        scheduled = first.app.execute(schedule(case_id, "A1"), PO, idempotency=key)
        assert not scheduled.replayed
        last_position = first.app.ping()
        first.close()

        app = new_container().app
        again = app.execute(schedule(case_id, "A1"), PO, idempotency=key)
        reopened = app.open_case(open_command(), PO, idempotency=open_key)

        assert again == Written(case_id, 2, scheduled.position, replayed=True)
        assert reopened == Written(case_id, 1, opened.position, replayed=True)
        assert app.get_case(case_id, PO).version == 2
        assert app.ping() == last_position
        with pytest.raises(IdempotencyKeyReusedError):
            app.execute(
                schedule(case_id, "A2"),
                PO,
                idempotency=IdempotencyKey(key="schedule-1", request_hash="c" * 64),
            )
        other_actor = Actor("po2", frozenset({"practitioner"}), frozenset({TEAM}))
        theirs = app.execute(schedule(case_id, "A2"), other_actor, idempotency=key)
        assert not theirs.replayed  # keys belong to the actor who sent them
        assert theirs.version == 3

    def test_if_match_mismatch_raises_and_writes_nothing(self, new_container: Build) -> None:
        app = new_container().app
        case_id = app.open_case(open_command(), PO).aggregate_id
        app.execute(schedule(case_id, "A1"), PO, expected_version=1)
        position = app.ping()

        with pytest.raises(PreconditionFailedError):
            app.execute(schedule(case_id, "A2"), PO, expected_version=1)
        with pytest.raises(PreconditionFailedError):
            app.execute(schedule(case_id, "A2"), PO, expected_version=3)

        assert app.get_case(case_id, PO).version == 2
        assert "A2" not in app.get_case(case_id, PO).state.appointments
        assert app.ping() == position

    def test_registering_the_same_staff_id_twice_is_already_exists(
        self, new_container: Build
    ) -> None:
        app = new_container().app
        first = app.register_staff(register("po9"), ADMIN)
        position = app.ping()

        with pytest.raises(AlreadyExistsError):
            app.register_staff(register("po9"), ADMIN)

        assert first.aggregate_id == Staff.id_for("po9")
        assert app.get_staff("po9").version == 1
        assert app.ping() == position

    def test_a_staff_aggregate_id_is_not_a_case(self, new_container: Build) -> None:
        app = new_container().app
        staff_id = app.register_staff(register("po9"), ADMIN).aggregate_id

        with pytest.raises(NotFoundError):
            app.get_case(staff_id, PO)
        with pytest.raises(NotFoundError):
            app.execute(schedule(staff_id, "A1"), PO)
        with pytest.raises(NotFoundError):
            app.case_state(staff_id, PO, version=1)
        assert app.get_staff("po9").version == 1

    def test_a_rule_is_decided_on_the_state_the_event_is_appended_to(
        self, new_container: Build, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app = new_container().app
        case_id = app.open_case(open_command(), PO).aggregate_id
        app.execute(schedule(case_id, "A1"), PO)
        stale: Case = app.repository.get(case_id)  # what a slower writer loaded
        app.execute(
            c.RecordOutcome(case_id=case_id, appointment_id="A1", outcome=Outcome.ATTC, notes=""),
            PO,
        )
        load = app._load_case
        loads: list[UUID] = []

        def stale_first(aggregate_id: UUID) -> Case:
            loads.append(aggregate_id)
            return stale if len(loads) == 1 else load(aggregate_id)

        monkeypatch.setattr(app, "_load_case", stale_first)

        with pytest.raises(OutcomeAlreadyRecordedError):
            app.execute(
                c.RecordOutcome(
                    case_id=case_id, appointment_id="A1", outcome=Outcome.UAAB, notes=""
                ),
                PO,
            )
        assert len(loads) == 2, "lost the race once, then decided again on the fresh case"
        assert app.get_case(case_id, PO).version == 3

    def test_a_retry_racing_the_first_attempt_gets_the_first_answer(
        self, new_container: Build, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app = new_container().app
        case_id = app.open_case(open_command(), PO).aggregate_id
        key = IdempotencyKey(key="schedule-A1", request_hash="d" * 64)
        first: list[Written] = []
        load = app._load_case

        def first_attempt_commits_meanwhile(aggregate_id: UUID) -> Case:
            # The retry has looked the key up (nothing yet); now the first attempt commits.
            if not first:
                monkeypatch.setattr(app, "_load_case", load)
                first.append(app.execute(schedule(case_id, "A1"), PO, idempotency=key))
            return load(aggregate_id)

        monkeypatch.setattr(app, "_load_case", first_attempt_commits_meanwhile)

        retry = app.execute(schedule(case_id, "A1"), PO, idempotency=key)

        assert retry == Written(case_id, 2, first[0].position, replayed=True)
        assert app.get_case(case_id, PO).version == 2
