"""A snapshot of an erased case keeps the history's shape but none of the person's data.

Another process may still hold the person's data key for a few seconds after erasure; if it
snapshots the case then, the snapshot must not carry the decrypted fields back into the store.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from domain.case import Case, Meta
from domain.personal import ERASED
from domain.vocabulary import AppointmentType, Outcome
from tests.unit.builders import opened


def _case_with_personal_data() -> Case:
    story = opened()
    story.case.schedule_appointment(
        story.meta(),
        appointment_id="a1",
        type=AppointmentType.COAP,
        starts_at=story.now,
        national_standard=True,
    )
    story.case.record_outcome(
        story.meta(),
        appointment_id="a1",
        outcome=Outcome.ATTC,
        notes="talked about his sister at 4 Elm Row",
    )
    return story.case


def test_a_snapshot_of_a_live_case_keeps_its_records_as_they_are() -> None:
    case = _case_with_personal_data()
    history = Case.Snapshot.take(case).state["history"]
    assert history[-1]["data"]["notes"] == "talked about his sister at 4 Elm Row"
    assert history[0]["data"]["person"] == case.history[0]["data"]["person"]


def test_a_snapshot_after_erasure_drops_personal_contents_and_keeps_the_shape() -> None:
    case = _case_with_personal_data()
    person_keys = set(case.history[0]["data"]["person"])
    case.record_erasure(_next_meta(case), reason="retention ended")

    snapshot = Case.Snapshot.take(case)
    history = snapshot.state["history"]

    assert [r["type"] for r in history] == [r["type"] for r in case.history]
    opened = history[0]["data"]
    assert set(opened["person"]) == person_keys
    assert all(value in (ERASED, None) for value in opened["person"].values())
    assert opened["crn"] == case.history[0]["data"]["crn"]  # identifiers are not erased
    outcome = history[2]["data"]
    assert outcome["notes"] == ERASED
    assert outcome["outcome"] is Outcome.ATTC  # codes are the history's shape
    assert "4 Elm Row" not in repr(snapshot.state)

    restored = snapshot.mutate(None)
    assert restored.state.appointments["a1"]["notes"] == ERASED
    assert restored.state.erased_at is not None
    assert restored.version == case.version


def _next_meta(case: Case) -> Meta:
    moment = case.history[-1]["occurred_at"] + timedelta(minutes=1)
    return Meta(actor_id="admin-1", command_id=uuid4(), occurred_at=moment, now=moment)
