"""Two processes on one store, each remembering what it wrote or read: the last chain link
per case (to save a read per command) and decoded cases (the aggregate cache). The chain
must stay whole and every case exactly as stored when the other process writes in between,
when a write loses its race, when a command is refused, and when a person is erased."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from api.bootstrap import Container, build
from application.access import Actor
from application.commands import (
    EraseStaff,
    OpenCase,
    RecordOutcome,
    RegisterStaff,
    ScheduleAppointment,
)
from application.integrity import CHAIN_TABLE
from application.verification import verify_aggregate
from domain.case import Case, Meta
from domain.errors import DomainError
from domain.personal import ERASED
from domain.vocabulary import AppointmentType, EthnicGroup, Grade, Outcome, SentenceType, Sex
from tests.support import make_settings

PO = Actor("po1", frozenset({"practitioner"}), frozenset({"T1"}))


@pytest.fixture
def two(database_url: str, tmp_path: Path) -> Iterator[tuple[Container, Container]]:
    """Two application instances on one store: two processes, as far as the cache knows."""
    first = build(make_settings(database_url, tmp_path))
    second = build(make_settings(database_url, tmp_path))
    yield first, second
    first.close()
    second.close()


def _open(container: Container) -> UUID:
    written = container.app.open_case(
        OpenCase(
            crn="X123456",
            person={"name": "A Person"},
            sentence_type=SentenceType.LICENCE,
            start_date=date(2026, 1, 5),
            expected_end_date=date(2027, 1, 5),
            pdu="SHF",
            team="T1",
            requirements={},
            licence_conditions=[],
            offence_flags=[],
            occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        ),
        PO,
    )
    return written.aggregate_id


def _appointment(container: Container, case_id: UUID, n: int) -> int:
    command = ScheduleAppointment(
        case_id=case_id,
        appointment_id=f"a{n}",
        type=AppointmentType.COAP,
        starts_at=datetime(2026, 2, 1, 10, tzinfo=UTC),
        national_standard=True,
    )
    return container.app.execute(command, PO).version


def _verified(container: Container, case_id: UUID) -> Any:
    return verify_aggregate(container.app.recorder, case_id)


def test_writers_in_two_processes_keep_one_whole_chain(two: tuple[Container, Container]) -> None:
    first, second = two
    case_id = _open(first)
    versions = [_appointment(first if n % 3 else second, case_id, n) for n in range(9)]
    assert versions == list(range(2, 11))
    result = _verified(first, case_id)
    assert result.ok, result
    assert result.checked == 10


def test_a_write_that_loses_its_race_is_not_remembered(two: tuple[Container, Container]) -> None:
    first, second = two
    case_id = _open(first)
    _appointment(first, case_id, 0)  # first remembers version 2
    stale = first.app.repository.get(case_id)
    _appointment(second, case_id, 1)  # version 3, written elsewhere
    now = datetime.now(UTC)
    stale.schedule_appointment(  # decided on version 2: loses on version 3's uniqueness
        Meta(actor_id="po1", command_id=uuid4(), occurred_at=now, now=now),
        appointment_id="lost",
        type=AppointmentType.COAP,
        starts_at=datetime(2026, 2, 1, 10, tzinfo=UTC),
        national_standard=True,
    )
    with pytest.raises(Exception, match=r"(?i)unique|integrity|duplicate"):
        first.app.save(stale)
    assert _appointment(first, case_id, 2) == 4  # links to second's version 3, read back
    result = _verified(first, case_id)
    assert result.ok, result
    assert result.checked == 4


def test_the_remembered_link_is_what_the_next_command_links_to(
    two: tuple[Container, Container],
) -> None:
    """Remove version 2's stored link behind the recorder's back: the next command still
    links to it (from memory, no read), and verification names the gap it left."""
    first, _ = two
    case_id = _open(first)
    _appointment(first, case_id, 0)
    with first.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"DELETE FROM {CHAIN_TABLE} WHERE originator_version = 2 AND originator_id = :i"
            ),
            {"i": case_id if first.engine.dialect.name == "postgresql" else case_id.hex},
        )
    assert _appointment(first, case_id, 1) == 3
    result = _verified(first, case_id)
    assert not result.ok


# -- the aggregate cache ----------------------------------------------------------------------


def _appointments(container: Container, case_id: UUID) -> set[str]:
    return set(container.app.get_case(case_id, PO).state.appointments)


def test_a_cached_case_is_brought_up_to_date_with_the_other_process_s_events(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    case_id = _open(first)
    assert _appointments(first, case_id) == set()  # cached by first
    _appointment(second, case_id, 1)
    assert _appointments(first, case_id) == {"a1"}
    assert _appointment(first, case_id, 2) == 3


def test_a_command_that_loses_its_race_is_decided_again_on_the_stored_case(
    two: tuple[Container, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process writes between this one's decision and its save: the case this
    process decided on (cached, with its unsaved event applied) must not be used again."""
    first, second = two
    case_id = _open(first)
    _appointment(first, case_id, 0)
    save = first.app._save
    raced: list[int] = []

    def racing_save(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(_appointment(second, case_id, 1))
        return save(*args, **kwargs)

    monkeypatch.setattr(first.app, "_save", racing_save)
    assert _appointment(first, case_id, 2) == 4
    assert raced == [3]
    fresh = {"a0", "a1", "a2"}
    assert _appointments(first, case_id) == fresh
    assert _appointments(second, case_id) == fresh
    assert first.app.get_case(case_id, PO).version == 4


def test_a_command_refused_after_it_decided_leaves_no_trace_in_the_cached_case(
    two: tuple[Container, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule that fails after an event was triggered (a command of several events) leaves
    that event applied to the in-memory case: the cached case must be dropped, not kept."""
    first, _ = two
    case_id = _open(first)
    _appointment(first, case_id, 0)
    decide = Case.schedule_appointment

    def refuse_after_deciding(case: Case, *args: Any, **kwargs: Any) -> None:
        decide(case, *args, **kwargs)
        raise DomainError("refused after deciding")

    monkeypatch.setattr(Case, "schedule_appointment", refuse_after_deciding)
    with pytest.raises(DomainError, match="after deciding"):
        _appointment(first, case_id, 1)
    monkeypatch.undo()
    case = first.app.get_case(case_id, PO)
    assert case.version == 2
    assert set(case.state.appointments) == {"a0"}


def test_erasure_in_one_process_empties_the_case_another_process_holds(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    case_id = _open(first)
    assert second.app.get_case(case_id, PO).state.person["name"] == "A Person"  # cached
    first.app.erase_person("X123456", "request", Actor("admin1", frozenset({"admin"})))
    held = second.app.get_case(case_id, PO)
    assert held.state.person["name"] == ERASED
    assert "A Person" not in repr(held.history)


def test_a_person_erased_elsewhere_is_not_served_from_memory_before_the_event_arrives(
    two: tuple[Container, Container],
) -> None:
    """The keys are destroyed first and the erasure events recorded after: a process holding
    the case and its key must not serve it from memory in between."""
    first, second = two
    case_id = _open(first)
    assert second.app.get_case(case_id, PO).state.person["name"] == "A Person"  # cached
    first.app.keys.destroy("X123456", "request")  # no PersonalDataErased yet
    if second.app.keys.postgres:  # the NOTIFY reaches the other process as it reached this one
        generation = first.app.keys.cache.generation
        assert generation is not None
        assert second.app.keys.cache.wait_for(generation, timeout=5)
    held = second.app.get_case(case_id, PO)
    assert held.state.erased_at is None
    assert held.state.person["name"] == ERASED


def test_a_staff_member_erased_elsewhere_is_not_served_from_memory(
    two: tuple[Container, Container],
) -> None:
    """As for a case: the staff member's key is destroyed first and the erasure recorded
    after; a process holding them must serve neither their codes in between nor after."""
    first, second = two
    admin = Actor("admin1", frozenset({"admin"}))
    first.app.register_staff(
        RegisterStaff(
            staff_id="po9",
            name="Pat Officer",
            grade=Grade.PO,
            team="T1",
            pdu="SHF",
            capacity=10,
            training=[],
            ethnic_group=EthnicGroup.MIXED,
            sex=Sex.FEMALE,
        ),
        admin,
    )
    assert second.app.get_staff("po9").ethnic_group == "mixed"  # cached
    first.app.keys.destroy_staff("po9", "request")  # no PersonalDataErased yet
    if second.app.keys.postgres:
        generation = first.app.keys.cache.generation
        assert generation is not None
        assert second.app.keys.cache.wait_for(generation, timeout=5)
    held = second.app.get_staff("po9")
    assert (held.ethnic_group, held.sex, held.erased_at) == (ERASED, ERASED, None)

    first.app.erase_staff(EraseStaff(staff_id="po9", reason="request"), admin)
    for container in (first, second):
        staff = container.app.get_staff("po9")
        assert (staff.ethnic_group, staff.sex) == (ERASED, ERASED)
        assert staff.erased_at is not None


def test_personal_data_recorded_after_erasure_is_not_kept_in_memory_either(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    case_id = _open(first)
    _appointment(first, case_id, 0)
    first.app.erase_person("X123456", "request", Actor("admin1", frozenset({"admin"})))
    first.app.execute(
        RecordOutcome(case_id=case_id, appointment_id="a0", outcome=Outcome.ATTC, notes="secret"),
        PO,
    )
    for container in (first, second):
        case = container.app.get_case(case_id, PO)
        assert case.state.appointments["a0"]["notes"] == ERASED
        assert "secret" not in repr(case.history)
