"""Staff training as events, and the staff member's coded characteristics."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidValueError
from domain.staff import Staff
from domain.vocabulary import EthnicGroup, Grade, Sex
from tests.unit.builders import T0, meta

TODAY = T0.date()


def staff(**codes: object) -> Staff:
    return Staff.register(
        meta=meta(T0, actor_id="admin-1"),
        staff_id="po-1",
        name="Alex Officer",
        grade=Grade.PO,
        team="SHF-N1",
        pdu="SHF",
        capacity=40,
        training=["domestic_abuse"],
        **codes,
    )


def test_a_staff_members_codes_are_kept_as_plain_codes() -> None:
    member = staff(ethnic_group=EthnicGroup.BLACK, sex=Sex.FEMALE)

    (event,) = member.collect_events()
    assert isinstance(event, Staff.Registered)
    assert (event.ethnic_group, event.sex) == ("black", "female")


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="ethnic_group"):
        staff(ethnic_group="martian")


def test_completed_training_is_current_until_it_expires() -> None:
    member = staff()
    member.complete_training(
        meta=meta(T0),
        module="sexual_offending",
        completed_on=TODAY - timedelta(days=10),
        expires_on=TODAY + timedelta(days=5),
    )

    assert member.current_training(TODAY) == ["domestic_abuse", "sexual_offending"]
    assert member.current_training(TODAY + timedelta(days=6)) == ["domestic_abuse"]
    assert member.to_dict(on=TODAY)["training_records"] == [
        {
            "module": "sexual_offending",
            "completed_on": TODAY - timedelta(days=10),
            "expires_on": TODAY + timedelta(days=5),
            "current": True,
        }
    ]


def test_training_without_expiry_stays_current() -> None:
    member = staff()
    member.complete_training(
        meta=meta(T0), module="hate_crime", completed_on=date(2020, 1, 1), expires_on=None
    )

    assert "hate_crime" in member.current_training(date(2030, 1, 1))


def test_training_expiring_before_completion_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="before completed_on"):
        staff().complete_training(
            meta=meta(T0), module="x", completed_on=TODAY, expires_on=TODAY - timedelta(days=1)
        )


def test_training_completed_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="future"):
        staff().complete_training(
            meta=meta(T0), module="x", completed_on=TODAY + timedelta(days=1), expires_on=None
        )
