"""The domain-event envelope: codes, ids, dates and versions leave; personal data and free
text never do, whatever an event of any type holds."""

from __future__ import annotations

import json
import typing
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from domain.case import METADATA_FIELDS, Case
from domain.personal import PERSONAL_FIELDS
from domain.staff import Staff
from projections.envelope import (
    EVENT_TYPES,
    ID_FIELDS,
    MAPPING,
    NotPublishedError,
    envelope,
    published,
    topics,
)

MARK = "SECRET"
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def case_event_classes() -> list[type[Case.Event]]:
    return [
        value
        for value in vars(Case).values()
        if isinstance(value, type)
        and issubclass(value, Case.Event)
        and value is not Case.Event
        and value.__qualname__ == f"Case.{value.__name__}"
        and value.__name__ != "Created"  # the library's generic creation event, never stored
    ]


def sample(name: str, hint: Any) -> Any:
    """A value of the field's type; every piece of text is marked, ids are plain ids."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return sample(name, next(a for a in args if a is not type(None)))
    if origin is list:
        return [sample(name, args[0])]
    if origin is dict:
        if args[1] is bool:
            return {"police_domestic_abuse": True}
        if isinstance(args[1], type) and issubclass(args[1], Enum):
            return {"public": next(iter(args[1]))}
        return {"name": f"{MARK}-{name}-value", "date_of_birth": f"{MARK}-dob"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return next(iter(hint))
    if hint is str:
        if name in ID_FIELDS or name.endswith("_ids"):
            return f"id-{name}"
        if name == "crn":
            return "X123456"
        if name == "trigger":
            return "scheduled"
        return f"{MARK}-{name}"
    if hint is bool:
        return True
    if hint is int:
        return 2
    if hint is Decimal:
        return Decimal("3.5")
    if hint is date:
        return date(2026, 11, 2)
    if hint is datetime:
        return WHEN
    if hint is UUID:
        return uuid4()
    raise AssertionError(f"no sample for {name}: {hint}")


def make(event_class: type[Case.Event]) -> Case.Event:
    hints = typing.get_type_hints(event_class)
    values: dict[str, Any] = {
        "originator_id": uuid4(),
        "originator_version": 7,
        "timestamp": WHEN,
        "occurred_at": WHEN,
        "actor_id": f"{MARK}-actor",
        "command_id": uuid4(),
    }
    for f in fields(event_class):
        if f.name not in values:
            values[f.name] = sample(f.name, hints[f.name])
    if event_class is Case.Corrected:
        values["replacement"] = {"notes": f"{MARK}-replacement"}
    return event_class(**values)


@pytest.mark.parametrize("event_class", case_event_classes(), ids=lambda c: c.__name__)
def test_no_personal_data_or_free_text_leaves_in_an_envelope(event_class: type) -> None:
    event = make(event_class)
    body = envelope(event, position=1234, crn="X123456", public_url="https://ct.example/")
    text = json.dumps(body)
    assert MARK not in text, text
    assert body["eventType"] == MAPPING[event_class.__name__][0]
    assert body["personReference"] == {"identifiers": [{"type": "CRN", "value": "X123456"}]}
    info = body["additionalInformation"]
    assert info["caseId"] == str(event.originator_id)
    assert (info["caseVersion"], info["position"]) == (7, 1234)
    assert body["detailUrl"] == (
        f"https://ct.example/cases/{event.originator_id}/events?after_version=6&limit=1"
    )
    assert body["occurredAt"] == "2026-11-20T10:00:00Z"


def test_every_case_event_type_is_published_under_one_name() -> None:
    names = {c.__name__ for c in case_event_classes()}
    assert names == set(MAPPING)
    assert len(EVENT_TYPES) == len(MAPPING)


def test_no_staff_event_is_published() -> None:
    """A staff member's erasure shares its name with a case's, not its topic: the feed and
    the webhooks select by topic, and ``published`` takes case events only."""
    erased = Staff.PersonalDataErased(
        originator_id=Staff.id_for("po1"),
        originator_version=2,
        timestamp=WHEN,
        occurred_at=WHEN,
        actor_id="admin1",
        command_id=uuid4(),
        reason="left",
    )
    assert not published(erased)
    staff_topics = {
        get_topic(c) for c in (Staff.PersonalDataErased, Staff.CharacteristicsCorrected)
    }
    assert not staff_topics & set(topics())
    assert not staff_topics & set(topics(["probation-case.deleted.gdpr"]))


def test_no_mapped_field_is_personal_or_text() -> None:
    """A mapped field is a code, a number, a flag, a date or an id: never a personal field and
    never a free-text string (so a later edit of MAPPING cannot let one out)."""
    for name, (_, _, mapped) in MAPPING.items():
        event_class = getattr(Case, name)
        hints = typing.get_type_hints(event_class)
        assert not set(mapped) & PERSONAL_FIELDS.get(name, frozenset()), name
        assert not set(mapped) & METADATA_FIELDS, name
        for field in mapped:
            text = hints[field] in (str, list[str], str | None)
            assert not text or field in ID_FIELDS or field == "trigger", f"{name}.{field}"


def test_text_in_a_code_field_is_refused() -> None:
    event = make(Case.Terminated)
    object.__setattr__(event, "reason", "he told me about his family")
    with pytest.raises(NotPublishedError):
        envelope(event, position=1, crn="X123456", public_url="https://ct.example")


def test_a_correction_names_its_fields_not_their_values() -> None:
    event = make(Case.Corrected)
    info = envelope(event, position=1, crn=None, public_url="https://ct.example")
    assert info["additionalInformation"]["correctedFields"] == ["notes"]
    assert info["personReference"] == {"identifiers": []}
