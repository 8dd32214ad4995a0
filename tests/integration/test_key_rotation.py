"""Rotating the master key re-wraps keys and nothing else: the old master can go, every event
still reads, the chain still verifies, and it can run while commands are being decided.

Also: a store written before envelope encryption (migration 0007, a fixture) upgrades once
and reads as before."""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from api.bootstrap import Container, build
from application.access import Actor
from application.commands import OpenCase, RecordOutcome, RegisterStaff, ScheduleAppointment
from application.keys import KeyUnavailableError
from application.rotation import rotate, status
from application.verification import verify_store
from domain.personal import ERASED
from domain.vocabulary import AppointmentType, EthnicGroup, Grade, Outcome, SentenceType, Sex
from tests.support import make_settings

FIXTURE = Path(__file__).parent.parent / "fixtures" / "keys_0007" / "casetrail.db"
LEGACY_MASTER = base64.b64encode(bytes(range(1, 33))).decode()
LEGACY_CHAIN_KEY = "legacy-integrity-key-0007"
PO = Actor("po1", frozenset({"practitioner"}), frozenset({"T1"}))
ADMIN = Actor("admin1", frozenset({"admin"}))


def new_master() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def legacy_url(tmp_path: Path) -> str:
    shutil.copy(FIXTURE, tmp_path / "casetrail.db")
    return f"sqlite:///{tmp_path}/casetrail.db"


@pytest.fixture
def opened() -> Iterator[list[Container]]:
    """Containers a test builds, closed after it whatever happens."""
    containers: list[Container] = []
    yield containers
    for container in containers:
        container.close()


def open_with(
    opened: list[Container], url: str, tmp_path: Path, master: str, *previous: str
) -> Container:
    settings = make_settings(
        url,
        tmp_path,
        encryption_key=master,
        previous_encryption_keys=",".join(previous) or None,
        integrity_key=LEGACY_CHAIN_KEY,
    )
    container = build(settings)
    opened.append(container)
    return container


def case_ids(container: Container) -> dict[UUID, str]:
    """Every case id, with its CRN."""
    with container.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT aggregate_id, crn FROM data_keys")).all()
    return {r[0] if isinstance(r[0], UUID) else UUID(r[0]): r[1] for r in rows}


def names(container: Container) -> dict[UUID, str]:
    return {
        case_id: container.app.get_case(case_id, PO).state.person["name"]
        for case_id in case_ids(container)
    }


def raw_history(container: Container) -> list[Any]:
    """The stored events and their chain links, byte for byte."""
    with container.engine.connect() as conn:
        events = conn.execute(
            sa.text("SELECT originator_id, originator_version, topic, state FROM stored_events")
        ).all()
        links = conn.execute(sa.text("SELECT * FROM event_chain")).all()
    return sorted(map(tuple, events)) + sorted(map(tuple, links))


def test_a_store_from_before_the_envelope_upgrades_once_and_reads_as_before(
    legacy_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    container = open_with(opened, legacy_url, tmp_path, LEGACY_MASTER)
    history = raw_history(container)
    by_crn = case_ids(container)
    read = names(container)
    assert sorted(read.values()) == sorted(["Ada Legacy", "Ada Legacy", ERASED])
    assert {read[c] for c, crn in by_crn.items() if crn == "X100002"} == {ERASED}
    assert verify_store(container.app.recorder) == {}
    # the payload key and the two live case keys, named by the master that wraps them
    assert status(container.app.keys) == {"current": 3, "destroyed": 1}
    assert raw_history(container) == history  # upgrading wrote no event


def test_rotation_retires_the_old_master_and_rewrites_no_event(
    legacy_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    new = new_master()
    rotating = open_with(opened, legacy_url, tmp_path, new, LEGACY_MASTER)
    before = raw_history(rotating)
    assert status(rotating.app.keys) == {"previous 1": 3, "destroyed": 1}

    result = rotate(rotating.app.keys)

    assert result.ok
    assert result.rewrapped == 3
    assert status(rotating.app.keys) == {"current": 3, "destroyed": 1}
    assert rotate(rotating.app.keys).rewrapped == 0  # a second run has nothing left to do
    rotating.close()
    opened.remove(rotating)

    only_new = open_with(opened, legacy_url, tmp_path, new)
    assert sorted(names(only_new).values()) == sorted(["Ada Legacy", "Ada Legacy", ERASED])
    assert verify_store(only_new.app.recorder) == {}
    assert raw_history(only_new) == before

    with pytest.raises(KeyUnavailableError):  # the old master alone no longer opens the store
        open_with(opened, legacy_url, tmp_path, LEGACY_MASTER)


def test_without_the_master_the_store_was_written_with_it_does_not_start(
    legacy_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    with pytest.raises(KeyUnavailableError, match="CASETRAIL_PREVIOUS_ENCRYPTION_KEYS"):
        open_with(opened, legacy_url, tmp_path, new_master())


def _open(container: Container, crn: str) -> UUID:
    return container.app.open_case(
        OpenCase(
            crn=crn,
            person={"name": f"Person {crn}"},
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
    ).aggregate_id


def _write(container: Container, case_id: UUID, n: int) -> None:
    appointment = f"a{n}"
    container.app.execute(
        ScheduleAppointment(
            case_id=case_id,
            appointment_id=appointment,
            type=AppointmentType.COAP,
            starts_at=datetime(2026, 2, 1, 10, tzinfo=UTC),
            national_standard=True,
        ),
        PO,
    )
    container.app.execute(
        RecordOutcome(
            case_id=case_id, appointment_id=appointment, outcome=Outcome.ATTC, notes=f"note {n}"
        ),
        PO,
    )


def test_rotation_under_load_keeps_every_case_readable_and_the_chain_whole(
    database_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    old, new = new_master(), new_master()
    first = open_with(opened, database_url, tmp_path, old)
    cases = [_open(first, f"X{n:06d}") for n in range(30)]
    first.close()
    opened.remove(first)
    # Every process is given the new master (and the old one as previous), then rotated.
    serving = open_with(opened, database_url, tmp_path, new, old)
    rotating = open_with(opened, database_url, tmp_path, new, old)
    stop = threading.Event()
    errors: list[BaseException] = []
    writes = [0]

    def load(worker: int) -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                if n % 4 == 0:  # new cases get keys while the rotation runs
                    cases.append(_open(serving, f"Y{worker}{n:05d}"))
                else:
                    _write(serving, cases[(worker * 7 + n) % 30], worker * 10_000 + n)
                writes[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    batches: list[int] = []

    def between_batches(done: int) -> None:
        """Let commands be decided between two batches of the rotation."""
        batches.append(writes[0])
        if len(batches) == 2:
            serving.app.erase_person("X000003", "request", ADMIN)  # a key destroyed meanwhile
        target = writes[0] + 3
        while writes[0] < target and not errors:
            stop.wait(0.005)

    try:
        result = rotate(rotating.app.keys, batch=3, progress=between_batches)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert len(batches) >= 10  # 30 keys, 3 a batch, with commands decided between batches
    assert result.ok
    assert "previous 1" not in status(rotating.app.keys)
    for container in (serving, rotating):
        container.close()
        opened.remove(container)

    only_new = open_with(opened, database_url, tmp_path, new)
    read = names(only_new)
    assert len(read) == len(cases)
    assert read[cases[3]] == ERASED
    assert all(read[c] == f"Person {crn}" for c, crn in case_ids(only_new).items() if c != cases[3])
    assert verify_store(only_new.app.recorder) == {}


def test_the_first_start_finds_the_master_an_older_store_was_written_with(
    database_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    """Any older store: its payload key was derived from its master and its case keys carry
    no master's name. Started with a new master current and the old one previous, it adopts
    the old one's, whichever of them comes first."""
    old, new = new_master(), new_master()
    first = open_with(opened, database_url, tmp_path, old)
    case_id = _open(first, "X000001")
    with first.engine.begin() as conn:  # back to the layout before migration 0008's
        conn.execute(sa.text("DELETE FROM store_keys"))
        conn.execute(sa.text("UPDATE data_keys SET wrapped_by = NULL"))
    first.close()
    opened.remove(first)

    started = open_with(opened, database_url, tmp_path, new, old)

    assert names(started) == {case_id: "Person X000001"}
    assert status(started.app.keys) == {"previous 1": 2}
    assert rotate(started.app.keys).rewrapped == 2


def test_rotation_rewraps_a_staff_members_key_too(
    sqlite_url: str, tmp_path: Path, opened: list[Container]
) -> None:
    old, new = new_master(), new_master()
    first = open_with(opened, sqlite_url, tmp_path, old)
    first.app.register_staff(
        RegisterStaff(
            staff_id="po9",
            name="Pat Officer",
            grade=Grade.PO,
            team="T1",
            pdu="SHF",
            capacity=10,
            training=[],
            ethnic_group=EthnicGroup.BLACK,
            sex=Sex.MALE,
        ),
        ADMIN,
    )
    first.close()
    opened.remove(first)
    rotating = open_with(opened, sqlite_url, tmp_path, new, old)
    assert status(rotating.app.keys) == {"previous 1": 2}  # the payload key and po9's

    assert rotate(rotating.app.keys).rewrapped == 2
    rotating.close()
    opened.remove(rotating)

    staff = open_with(opened, sqlite_url, tmp_path, new).app.get_staff("po9")
    assert (staff.ethnic_group, staff.sex) == ("black", "male")
