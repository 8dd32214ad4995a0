"""Staff: registered once per identity-provider staff id, with a capacity of at least one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.case import Meta
from domain.errors import InvalidValueError, OccurredInFutureError, StaffErasedError
from domain.personal import ERASED
from domain.staff import Staff
from domain.vocabulary import Grade
from tests.unit.builders import T0, meta


def register(staff_id: str = "po-1", capacity: int = 40, when: Meta | None = None) -> Staff:
    return Staff.register(
        meta=when or meta(T0, actor_id="admin-1"),
        staff_id=staff_id,
        name="Alex Officer",
        grade=Grade.PO,
        team="SHF-N1",
        pdu="SHF",
        capacity=capacity,
        training=["domestic_abuse"],
    )


def test_registering_staff_records_who_they_are() -> None:
    when = meta(T0, actor_id="admin-1")

    staff = register(when=when)

    (event,) = staff.collect_events()
    assert isinstance(event, Staff.Registered)
    assert (event.staff_id, event.grade, event.capacity, event.training) == (
        "po-1",
        Grade.PO,
        40,
        ["domestic_abuse"],
    )
    assert (event.actor_id, event.command_id, event.occurred_at) == (
        "admin-1",
        when.command_id,
        T0,
    )
    assert staff.to_dict() == {
        "staff_id": "po-1",
        "name": "Alex Officer",
        "grade": "PO",
        "team": "SHF-N1",
        "pdu": "SHF",
        "capacity": 40,
        "training": ["domestic_abuse"],
        "ethnic_group": "not_stated",
        "sex": "not_stated",
        "erased_at": None,
        "version": 1,
    }


def test_a_staff_members_id_derives_from_their_staff_id() -> None:
    first = register("po-1")
    again = register("po-1")
    other = register("po-2")

    assert first.id == again.id == Staff.id_for("po-1")
    assert other.id != first.id
    assert Staff.id_for("po-1") == Staff.id_for("po-1")


def test_a_capacity_of_one_case_is_accepted() -> None:
    assert register(capacity=1).capacity == 1


@pytest.mark.parametrize("capacity", [0, -5])
def test_a_capacity_below_one_is_refused(capacity: int) -> None:
    with pytest.raises(InvalidValueError) as raised:
        register(capacity=capacity)

    assert raised.value.code == "invalid-value"


def test_staff_registered_in_the_future_is_refused() -> None:
    with pytest.raises(OccurredInFutureError):
        register(when=meta(T0 + timedelta(minutes=6), now=T0))


# -- corrections and erasure of the coded characteristics ----------------------------------------


def later(minutes: int) -> Meta:
    return meta(T0 + timedelta(minutes=minutes), actor_id="admin-1")


def test_a_correction_replaces_the_codes_it_gives_and_keeps_the_others() -> None:
    staff = register()

    staff.correct_characteristics(meta=later(1), ethnic_group="black", reason="typo")
    staff.correct_characteristics(meta=later(2), sex="female", reason="typo")

    assert (staff.ethnic_group, staff.sex) == ("black", "female")
    first, second = staff.collect_events()[1:]
    assert isinstance(first, Staff.CharacteristicsCorrected)
    assert (first.ethnic_group, first.sex, first.reason) == ("black", None, "typo")
    assert (second.ethnic_group, second.sex) == (None, "female")


@pytest.mark.parametrize(
    "codes", [{}, {"ethnic_group": "purple"}, {"sex": "unknown"}], ids=["none", "bad", "bad sex"]
)
def test_a_correction_needs_a_known_code(codes: dict[str, str]) -> None:
    staff = register()

    with pytest.raises(InvalidValueError):
        staff.correct_characteristics(meta=later(1), reason="typo", **codes)

    assert staff.version == 1


def test_erasure_erases_the_codes_and_is_final() -> None:
    staff = register()
    staff.correct_characteristics(meta=later(1), ethnic_group="asian", reason="typo")

    staff.record_erasure(meta=later(2), reason="left the service")

    assert (staff.ethnic_group, staff.sex) == (ERASED, ERASED)
    assert staff.erased_at == T0 + timedelta(minutes=2)
    assert staff.to_dict()["erased_at"] == staff.erased_at
    assert staff.name == "Alex Officer"  # the professional identity stays
    with pytest.raises(StaffErasedError) as again:
        staff.record_erasure(meta=later(3), reason="again")
    assert again.value.status == 409
    with pytest.raises(StaffErasedError):
        staff.correct_characteristics(meta=later(3), sex="male", reason="after erasure")
    assert staff.version == 3
