"""Coded characteristics of a person on probation or a member of staff.

They are personal data: on a case they live inside ``Opened.person`` as plain strings, so
the store seals them under the case's data key like the name (an ``Enum`` would be kept
readable as the history's shape). Absent codes read ``not_stated``.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from domain.errors import InvalidValueError
from domain.personal import ERASED
from domain.vocabulary import Disability, EthnicGroup, Sex

PERSON_CODES: dict[str, type[Enum]] = {
    "ethnic_group": EthnicGroup,
    "sex": Sex,
    "disability": Disability,
}
STAFF_CODES: dict[str, type[Enum]] = {"ethnic_group": EthnicGroup, "sex": Sex}
NOT_STATED = "not_stated"
AGE_BANDS = ("18-24", "25-29", "30-39", "40-49", "50+")


def code_of(vocabulary: type[Enum], value: Any, field: str) -> str:
    """The code of ``value`` in ``vocabulary`` as a plain string, or InvalidValueError."""
    raw = value.value if isinstance(value, Enum) else value
    try:
        return str(vocabulary(raw).value)
    except ValueError:
        raise InvalidValueError(f"{field}: unknown code {raw!r}") from None


def with_codes(person: dict[str, Any]) -> dict[str, Any]:
    """The person with every coded characteristic checked and stored as a plain string."""
    coded = dict(person)
    for name, vocabulary in PERSON_CODES.items():
        value = person.get(name, NOT_STATED)
        if value != ERASED:  # an erased person's codes stay erased
            coded[name] = code_of(vocabulary, value, f"person.{name}")
    return coded


def with_defaults(person: dict[str, Any]) -> dict[str, Any]:
    """A person recorded before the codes existed: each reads ``not_stated``."""
    return {**dict.fromkeys(PERSON_CODES, NOT_STATED), **person}


def age_band(date_of_birth: date, on: date) -> str:
    """The age band of someone born on ``date_of_birth``, on ``on`` (under 18 counts 18-24)."""
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    if age < 25:
        return "18-24"
    if age < 30:
        return "25-29"
    if age < 40:
        return "30-39"
    if age < 50:
        return "40-49"
    return "50+"
