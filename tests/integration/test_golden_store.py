"""A store written by an earlier release (tests/fixtures/golden-0007.db) still reads: after
the migrations run on a copy, every case and staff member loads with the state it had."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.bootstrap import Container, build
from application.access import Actor
from application.commands import EraseStaff
from domain.case import Case
from domain.errors import StaffErasedError
from domain.personal import ERASED
from domain.staff import Staff
from tests.fixtures.make_golden import GOLDEN, NOW, settings

AUDITOR = Actor("auditor-1", frozenset({"auditor"}))


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    copy = tmp_path / "golden.db"
    shutil.copyfile(GOLDEN, copy)
    built = build(settings(f"sqlite:///{copy}", tmp_path), clock=lambda: NOW)  # migrates
    yield built
    built.close()


def cases_by_crn(container: Container) -> dict[str, Case]:
    app = container.app
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    ids = {n.originator_id for n in notifications if n.topic.endswith("Case.Opened")}
    cases = [app.get_case(case_id, AUDITOR) for case_id in ids]
    return {case.state.crn: case for case in cases}


def test_the_golden_store_holds_what_it_was_written_with(container: Container) -> None:
    topics = {n.topic for n in container.app.recorder.select_notifications(start=1, limit=1000)}

    assert {t.rsplit(".", 1)[1] for t in topics} >= {
        "Registered",
        "Opened",
        "Allocated",
        "RegistrationAdded",
        "Corrected",
        "PersonalDataErased",
    }


def test_a_corrected_case_loads_with_its_correction_applied(container: Container) -> None:
    case = cases_by_crn(container)["X100001"]

    state = case.state
    assert state.person["name"] == "Jo Bloggs-Smith"
    assert str(state.person["date_of_birth"]) == "1990-01-02"
    assert state.practitioner_id == "po-1"
    assert [f.value for f in state.offence_flags] == ["domestic_abuse"]
    assert set(state.registrations) == {"ADVP"}
    assert state.corrected_by == {1: 4}
    assert state.erased_at is None
    assert case.version == 4
    # written before the codes existed (Opened version 1): they read not stated
    assert (state.person["ethnic_group"], state.person["sex"], state.person["disability"]) == (
        "not_stated",
        "not_stated",
        "not_stated",
    )


def test_an_erased_case_loads_with_its_person_erased(container: Container) -> None:
    case = cases_by_crn(container)["X100002"]

    state = case.state
    assert state.person["name"] == ERASED
    assert state.erased_at is not None
    assert [a["practitioner_id"] for a in state.allocations] == ["po-1"]
    assert case.version == 3


def test_a_registered_staff_member_loads(container: Container) -> None:
    staff: Staff = container.app.get_staff("po-1")

    summary: dict[str, Any] = staff.to_dict()
    assert summary["name"] == "Sam Patel"
    assert summary["grade"] == "PQIP"
    assert summary["training"] == ["domestic_abuse"]
    assert summary["capacity"] == 30
    assert summary["version"] == 1
    assert (summary["ethnic_group"], summary["sex"]) == ("not_stated", "not_stated")


def test_a_staff_member_from_before_staff_keys_is_erased_all_the_same(
    container: Container,
) -> None:
    """po-1 was registered before staff had data keys: their codes are stored unsealed and
    there is no key to destroy. The erasure is recorded, and every read path then shows
    their codes as erased."""
    app = container.app
    assert app.keys.get(Staff.id_for("po-1")) is None
    admin = Actor("admin-1", frozenset({"admin"}))

    written = app.erase_staff(EraseStaff(staff_id="po-1", reason="left the service"), admin)

    assert written.version == 2
    staff = app.get_staff("po-1")
    assert (staff.ethnic_group, staff.sex, staff.erased_at) == (ERASED, ERASED, NOW)
    assert staff.name == "Sam Patel"
    with pytest.raises(StaffErasedError):
        app.erase_staff(EraseStaff(staff_id="po-1", reason="again"), admin)
