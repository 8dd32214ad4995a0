"""A person's coded characteristics: checked, kept as plain (sealable) codes, corrected one
field at a time, erased with the rest of the person, and read from older events."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.case import Case, erase_record
from domain.characteristics import age_band, with_codes
from domain.errors import InvalidValueError
from domain.personal import ERASED
from domain.state import CaseState
from domain.vocabulary import EthnicGroup
from tests.unit.builders import opened


def test_an_opened_person_has_every_code_not_stated_by_default() -> None:
    person = opened().case.state.person

    assert (person["ethnic_group"], person["sex"], person["disability"]) == (
        "not_stated",
        "not_stated",
        "not_stated",
    )


def test_codes_are_stored_as_plain_strings_so_the_store_seals_them() -> None:
    person = with_codes({"name": "A", "ethnic_group": EthnicGroup.ASIAN, "sex": "female"})

    assert person["ethnic_group"] == "asian"
    assert type(person["ethnic_group"]) is str
    assert person["disability"] == "not_stated"


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"person\.sex"):
        with_codes({"name": "A", "sex": "unknown"})


def test_a_correction_fixes_one_code_and_keeps_the_rest_of_the_person() -> None:
    story = opened()

    story.case.correct(
        story.meta(),
        corrects_version=1,
        reason="recorded wrongly",
        replacement={"person": {"ethnic_group": "black"}},
    )

    person = story.case.state.person
    assert person["ethnic_group"] == "black"
    assert person["name"] == "Sam Example"
    assert person["sex"] == "not_stated"


def test_a_correction_with_an_unknown_code_is_refused() -> None:
    story = opened()

    with pytest.raises(InvalidValueError, match="ethnic_group"):
        story.case.correct(
            story.meta(),
            corrects_version=1,
            reason="x",
            replacement={"person": {"ethnic_group": "purple"}},
        )


def test_erasure_reaches_the_codes() -> None:
    story = opened()

    record = erase_record(story.case.history[0])

    assert record["data"]["person"]["ethnic_group"] == ERASED
    assert record["data"]["person"]["sex"] == ERASED


def test_an_opened_event_of_version_1_reads_every_code_not_stated() -> None:
    state: dict[str, Any] = {"person": {"name": "Old", "date_of_birth": date(1980, 1, 1)}}

    Case.Opened.upcast_v1_v2(state)

    assert state["person"]["ethnic_group"] == "not_stated"
    assert state["person"]["name"] == "Old"


def test_a_state_folded_from_an_old_record_reads_not_stated() -> None:
    story = opened()
    old = story.case.history[0]
    old_person = {k: v for k, v in old["data"]["person"].items() if k == "name"}
    record = {**old, "data": {**old["data"], "person": old_person}}

    assert CaseState.fold([record]).person["disability"] == "not_stated"


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2008, 1, 2), "18-24"),  # 18 on the day
        (date(2001, 1, 3), "18-24"),  # 24, a day short of 25
        (date(2001, 1, 2), "25-29"),
        (date(1996, 1, 2), "30-39"),
        (date(1986, 1, 3), "30-39"),
        (date(1986, 1, 2), "40-49"),
        (date(1976, 1, 2), "50+"),
    ],
)
def test_age_band_at_the_start_of_the_case(born: date, band: str) -> None:
    assert age_band(born, date(2026, 1, 2)) == band
